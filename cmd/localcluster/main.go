// Command localcluster runs the local Kubernetes control plane of package
// kubetest for the demo and for tests run with MESH_TEST_EXTERNAL_CLUSTER=1:
//
//	localcluster up   --dir DIR [--nodes N]   start it; it outlives the command
//	localcluster env  --dir DIR               print `export KUBECONFIG=...`
//	localcluster down --dir DIR               stop it
//
// `up` starts a supervisor (this binary, `serve`) in its own session. The
// supervisor runs kubetest.Start, stays the parent of the components so that
// it reaps them (a container's PID 1 may not), and stops them on SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const usage = `usage: localcluster up|down|env --dir DIR [--nodes N] [--no-crds]
       localcluster serve-charts --dir CHARTS --addr-file FILE
       localcluster act-like-istiod --dir DIR`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("localcluster "+args[0], flag.ContinueOnError)
	dir := fs.String("dir", "", "work directory of the cluster (required)")
	nodes := fs.Int("nodes", 2, "number of kwok nodes (up only)")
	noCRDs := fs.Bool("no-crds", false, "start without the Istio, Gateway API and Linkerd CRDs (up only)")
	audit := fs.Bool("audit", false, "write the API server's audit log (metadata of every request) to DIR/audit.log (up only)")
	addrFile := fs.String("addr-file", "", "where serve-charts writes its URL")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New(usage)
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	switch args[0] {
	case "up":
		return up(abs, kubetest.Options{Nodes: *nodes, NoCRDs: *noCRDs, AuditLog: *audit})
	case "serve":
		return serve(abs, kubetest.Options{Nodes: *nodes, NoCRDs: *noCRDs, AuditLog: *audit})
	case "serve-charts":
		return serveCharts(abs, *addrFile)
	case "act-like-istiod":
		return actLikeIstiod(abs)
	case "down":
		return kubetest.StopDir(abs)
	case "env":
		fmt.Printf("export KUBECONFIG=%s\n", filepath.Join(abs, "kubeconfig"))
		return nil
	}
	return errors.New(usage)
}

// up starts the supervisor and waits for its verdict on fd 3: "ok", or the
// error. It is idempotent: a cluster already running in dir is reported.
func up(dir string, opts kubetest.Options) error {
	if c, err := kubetest.Attach(dir); err == nil && answers(c.Config) {
		fmt.Println(c.Kubeconfig)
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sup, verdict, err := startSupervisor(dir, opts)
	if err != nil {
		return err
	}
	// Ctrl-C while starting: the supervisor then stops what it started.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if _, ok := <-sigs; ok {
			_ = sup.Process.Signal(syscall.SIGTERM)
		}
	}()
	msg, _ := io.ReadAll(verdict)
	if strings.TrimSpace(string(msg)) != "ok" {
		if len(msg) == 0 {
			msg = []byte("the supervisor exited; see " + filepath.Join(dir, "localcluster.log"))
		}
		return errors.New(strings.TrimSpace(string(msg)))
	}
	fmt.Println(filepath.Join(dir, "kubeconfig"))
	return nil
}

func startSupervisor(dir string, opts kubetest.Options) (*exec.Cmd, io.Reader, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	log, err := os.Create(filepath.Join(dir, "localcluster.log"))
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = log.Close() }() // the supervisor holds its own copy
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = w.Close() }() // the supervisor holds the write end now
	cmd := exec.Command(self, "serve", "--dir", dir, "--nodes", fmt.Sprint(opts.Nodes),
		"--no-crds="+fmt.Sprint(opts.NoCRDs), "--audit="+fmt.Sprint(opts.AuditLog))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // not tied to our terminal
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	return cmd, r, nil
}

// serve is the supervisor: start, report on fd 3, wait for SIGTERM, stop.
func serve(dir string, opts kubetest.Options) error {
	// fd 3 must not leak into the components: `up` reads it to EOF.
	syscall.CloseOnExec(3)
	verdict := os.NewFile(3, "verdict")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts.Dir = dir
	c, err := kubetest.Start(ctx, opts)
	if err == nil {
		err = recordSelf(dir)
	}
	if err != nil {
		_, werr := fmt.Fprintln(verdict, err)
		return errors.Join(err, werr, c.Stop())
	}
	_, werr := fmt.Fprintln(verdict, "ok")
	if err := errors.Join(werr, verdict.Close()); err != nil {
		return errors.Join(fmt.Errorf("report to up: %w", err), c.Stop())
	}
	<-ctx.Done()
	return c.Stop()
}

// recordSelf appends the supervisor to <dir>/pids (format "PID NAME", as
// kubetest writes it). StopDir stops entries last-first, so `down` signals
// the supervisor, which stops and reaps the components; the others are
// then already gone, or stopped directly if the supervisor was killed.
func recordSelf(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, "pids"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "%d %s\n", os.Getpid(), filepath.Base(os.Args[0])); err != nil {
		return errors.Join(err, f.Close())
	}
	return f.Close()
}

// answers reports whether the apiserver of cfg responds.
func answers(cfg *rest.Config) bool {
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = 3 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return false
	}
	_, err = cs.Discovery().ServerVersion()
	return err == nil
}
