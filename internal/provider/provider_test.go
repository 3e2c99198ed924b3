package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"github.com/meshform/terraform-provider-mesh/internal/protoserver"
)

// cluster is the control plane the acceptance tests run against: a local
// one started by TestMain, or the one named by KUBECONFIG when
// MESH_TEST_EXTERNAL_CLUSTER=1.
var cluster *kubetest.Cluster

func TestMain(m *testing.M) {
	if os.Getenv(serveProviderEnv) == "1" {
		serveProviderProcess() // a provider process for the kill trials
	}
	if os.Getenv("TF_ACC") == "" {
		os.Exit(m.Run()) // unit tests only; acceptance tests skip themselves
	}
	kubetest.MainWith(m, &cluster, setupProviderIdentity)
}

// providerIdentity is the ServiceAccount the provider runs as in the
// acceptance tests, with exactly the least-privilege roles shipped in
// examples/rbac (the intent resources'; mesh_install's tests use their own
// clusters and identities). Test fixtures use the admin cluster.Config.
var providerIdentity *kubetest.Identity

// intentRoles are the shipped role files of the intent resources.
var intentRoles = []string{"mesh_traffic_split", "mesh_mirror_route", "mesh_authorization", "mesh_mtls_policy"}

func rbacFiles(names ...string) []string {
	files := make([]string, len(names))
	for i, n := range names {
		files[i] = filepath.Join("..", "..", "examples", "rbac", n+".yaml")
	}
	return files
}

func setupProviderIdentity(c *kubetest.Cluster) error {
	rbac, err := kubetest.LoadRBAC(rbacFiles(intentRoles...)...)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "mesh-provider-identity-")
	if err != nil {
		return err
	}
	providerIdentity, err = kubetest.NewIdentity(context.Background(), c.Config, dir, "mesh-system", "terraform-mesh", rbac)
	if err != nil {
		return err
	}
	// The namespaces tests use without creating them: the mesh root
	// namespace (mesh-wide policy) and default.
	for _, ns := range []string{"istio-system", "default"} {
		if err := createNamespace(c, ns); err != nil {
			return err
		}
		if err := providerIdentity.Grant(context.Background(), ns); err != nil {
			return err
		}
	}
	return nil
}

func createNamespace(c *kubetest.Cluster, name string) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	return kubetest.EnsureNamespace(context.Background(), cs, name)
}

// providerKubeconfig is the kubeconfig the provider is configured with.
func providerKubeconfig() string { return providerIdentity.Kubeconfig }

// testNamespace creates a namespace for the test (kubetest.Namespace) and
// grants the provider's roles in it, as a platform team binds them in each
// namespace the provider manages.
func testNamespace(t *testing.T, labels map[string]string) string {
	t.Helper()
	ns := kubetest.Namespace(t, cluster.Config, labels)
	if err := providerIdentity.Grant(t.Context(), ns); err != nil {
		t.Fatal(err)
	}
	return ns
}

// testAccProviderFactories serve the provider as main.go does, through
// protoserver.
var testAccProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"mesh": func() (tfprotov6.ProviderServer, error) { return protoserver.New(testProvider), nil },
}

var testProvider = New("test")()

// providerConfig points the provider at the test cluster.
func providerConfig(target string) string {
	return fmt.Sprintf(`
provider "mesh" {
  kubeconfig_path = %q
  target          = %q
}
`, providerKubeconfig(), target)
}

// testAccPreCheck skips acceptance tests unless TF_ACC is set, as
// resource.Test does, and fails them when the cluster is missing.
func testAccPreCheck(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance tests need TF_ACC=1 (make test sets it)")
	}
	if cluster == nil {
		t.Fatal("no test cluster: TestMain did not start one")
	}
}

func clients(t *testing.T) (kubernetes.Interface, dynamic.Interface) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs, dyn
}

var ctx = context.Background()
