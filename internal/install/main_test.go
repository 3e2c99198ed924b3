package install

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// chartVersion and linkerdVersion are the charts in shared/charts.
const (
	istioVersion   = "1.31.0-dev.20260827"
	linkerdVersion = "2026.8.3"
)

var (
	cluster *kubetest.Cluster
	// repoURL serves shared/charts over loopback, as an air-gapped mirror.
	repoURL string
)

// TestMain starts a fresh local cluster for this package alone, never the
// shared one (MESH_TEST_EXTERNAL_CLUSTER is ignored on purpose): installing
// a mesh adds admission webhooks that would break other packages' tests.
// The cluster has the Istio, Gateway API and Linkerd CRDs pre-installed by
// kubetest, so these tests also cover adopting CRDs another tool created.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	ctx := context.Background()
	start := time.Now()
	c, err := kubetest.Start(ctx, kubetest.Options{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubetest: cannot start the test cluster:\n%v\n", err)
		return 1
	}
	defer func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "install tests: stop the cluster:", err)
		}
	}()
	fmt.Fprintf(os.Stderr, "install tests: cluster started in %s\n", time.Since(start).Round(time.Millisecond))
	cluster = c
	files := http.FileServer(http.Dir(filepath.Join(sharedDir(), "charts")))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		downloads.add(r.URL.Path)
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	repoURL = srv.URL
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go actLikeIstiod(wctx, dynamic.NewForConfigOrDie(c.Config))
	return m.Run()
}

func sharedDir() string {
	if d := os.Getenv("MESH_SHARED_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared")
}

func needCluster(t *testing.T) {
	t.Helper()
	if cluster == nil {
		t.Skip("integration test: needs the local cluster (not run with -short)")
	}
}

var webhookGVRs = []schema.GroupVersionResource{
	{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingwebhookconfigurations"},
	{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingwebhookconfigurations"},
}

// dummyCABundle stands in for istiod's CA certificate.
var dummyCABundle = base64.StdEncoding.EncodeToString([]byte("-----BEGIN CERTIFICATE-----\nZHVtbXk=\n-----END CERTIFICATE-----\n"))

// actLikeIstiod is a TEST-ONLY stand-in for what a running istiod does: it
// patches the caBundle of its webhook configurations (the charts render
// them without one). No istiod process runs on this kwok cluster, so
// without this Apply's readiness (webhooks with caBundle set) could never
// pass for Istio. The engine itself never sets a caBundle.
func actLikeIstiod(ctx context.Context, dyn dynamic.Interface) {
	for _, gvr := range webhookGVRs {
		go func() {
			for ctx.Err() == nil {
				w, err := dyn.Resource(gvr).Watch(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=istiod"})
				if err != nil {
					time.Sleep(200 * time.Millisecond)
					continue
				}
				for ev := range w.ResultChan() {
					if u, ok := ev.Object.(*unstructured.Unstructured); ok {
						patchCABundle(ctx, dyn, gvr, u)
					}
				}
			}
		}()
	}
	<-ctx.Done()
}

func patchCABundle(ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource, u *unstructured.Unstructured) {
	hooks, _, _ := unstructured.NestedSlice(u.Object, "webhooks")
	var ops []string
	for n, h := range hooks {
		if ca, _, _ := unstructured.NestedString(h.(map[string]any), "clientConfig", "caBundle"); ca == "" {
			ops = append(ops, fmt.Sprintf(`{"op":"add","path":"/webhooks/%d/clientConfig/caBundle","value":%q}`, n, dummyCABundle))
		}
	}
	if len(ops) == 0 {
		return
	}
	patch := "[" + strings.Join(ops, ",") + "]"
	_, _ = dyn.Resource(gvr).Patch(ctx, u.GetName(), types.JSONPatchType, []byte(patch), metav1.PatchOptions{FieldManager: "pilot-discovery"})
}
