package provider

import (
	"context"
	"fmt"
	"os"
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
	if os.Getenv("TF_ACC") == "" {
		os.Exit(m.Run()) // unit tests only; acceptance tests skip themselves
	}
	kubetest.Main(m, &cluster)
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
`, cluster.Kubeconfig, target)
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
