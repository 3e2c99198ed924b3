package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
)

// The demo's stand-ins for what this machine lacks. Neither is part of the
// provider: they replace the internet and a running istiod.

// serveCharts serves a static Helm repository (index.yaml and chart
// archives) on a free loopback port, as an air-gapped mirror would, and
// writes its URL to addrFile. It runs until SIGTERM.
func serveCharts(dir, addrFile string) error {
	if addrFile == "" {
		return errors.New("serve-charts needs --addr-file")
	}
	if _, err := os.Stat(filepath.Join(dir, "index.yaml")); err != nil {
		return fmt.Errorf("%s is not a Helm repository: %w", dir, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	if err := os.WriteFile(addrFile, []byte(url), 0o644); err != nil {
		return err
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// actLikeIstiod does, until SIGTERM, the one thing a running istiod does
// that the install's readiness waits for: it sets the caBundle of istiod's
// webhook configurations (kubetest.PatchIstioWebhookCABundles). The local
// cluster runs no istiod process; kwok only simulates its pod.
func actLikeIstiod(clusterDir string) error {
	c, err := kubetest.Attach(clusterDir)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := kubetest.PatchIstioWebhookCABundles(ctx, c.Config); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}
