package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
)

const (
	installAddress = "mesh_install.test"
	istioVersion   = "1.31.0-dev.20260827"
	linkerdVersion = "2026.8.3"
)

// installCluster is a local cluster of the test's own, with the offline
// chart repository served on loopback. mesh_install tests never use the
// shared cluster: the webhooks they install would break other tests.
type installCluster struct {
	*kubetest.Cluster
	repo string
	cs   kubernetes.Interface
	// identity is what the provider runs as: a ServiceAccount with
	// examples/rbac/mesh_install.yaml, its Role in both control-plane
	// namespaces (created first, as a platform team would).
	identity *kubetest.Identity
}

// newInstallCluster starts the test's cluster and chart repository, and
// simulates istiod's caBundle patching (no istiod process runs; see
// kubetest.PatchIstioWebhookCABundles).
func newInstallCluster(t *testing.T) *installCluster {
	t.Helper()
	testAccPreCheck(t)
	c, err := kubetest.Start(context.Background(), kubetest.Options{})
	if err != nil {
		t.Fatalf("start the test's own cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop cluster: %v", err)
		}
	})
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(sharedDir(t), "charts"))))
	t.Cleanup(srv.Close)
	wctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := kubetest.PatchIstioWebhookCABundles(wctx, c.Config); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	rbac, err := kubetest.LoadRBAC(rbacFiles(installType)...)
	if err != nil {
		t.Fatal(err)
	}
	identity, err := kubetest.NewIdentity(t.Context(), c.Config, t.TempDir(), "mesh-system", "terraform-mesh", rbac)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"istio-system", "linkerd"} {
		if err := createNamespace(c, ns); err != nil {
			t.Fatal(err)
		}
		if err := identity.Grant(t.Context(), ns); err != nil {
			t.Fatal(err)
		}
	}
	return &installCluster{Cluster: c, repo: srv.URL, cs: cs, identity: identity}
}

// sharedDir is $MESH_SHARED_DIR, else <repo>/../shared.
func sharedDir(t *testing.T) string {
	if d := os.Getenv("MESH_SHARED_DIR"); d != "" {
		return d
	}
	d, err := filepath.Abs(filepath.Join("..", "..", "..", "shared"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// config is the provider block for this cluster plus a mesh_install with
// body, pointed at the loopback repository.
func (ic *installCluster) config(body string) string {
	return fmt.Sprintf(`
provider "mesh" {
  kubeconfig_path = %q
}

resource "mesh_install" "test" {
  chart_repository = %q
%s
}
`, ic.identity.Kubeconfig, ic.repo, body)
}

// helmUninstall removes a release the way `helm uninstall` does, outside
// Terraform.
func (ic *installCluster) helmUninstall(t *testing.T, namespace, release string) {
	t.Helper()
	kubeconfig := ic.Kubeconfig
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Namespace = &kubeconfig, &namespace
	cfg := new(action.Configuration)
	if err := cfg.Init(flags, namespace, "secret", func(string, ...any) {}); err != nil {
		t.Fatal(err)
	}
	if _, err := action.NewUninstall(cfg).Run(release); err != nil {
		t.Fatalf("helm uninstall %s: %v", release, err)
	}
}

// deploymentExists reports whether namespace/name exists.
func (ic *installCluster) deploymentExists(t *testing.T, namespace, name string) bool {
	t.Helper()
	_, err := ic.cs.AppsV1().Deployments(namespace).Get(context.Background(), name, metav1.GetOptions{})
	return err == nil
}

func (ic *installCluster) expectDeployment(t *testing.T, namespace, name string, want bool) error {
	if got := ic.deploymentExists(t, namespace, name); got != want {
		return fmt.Errorf("Deployment %s/%s exists = %v, want %v", namespace, name, got, want)
	}
	return nil
}

// hcl quotes a multi-line string for HCL.
func hcl(s string) string {
	return "<<-EOT\n" + strings.TrimRight(s, "\n") + "\nEOT"
}
