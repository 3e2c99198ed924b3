package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
)

// splitHCL is a mesh_traffic_split with the given body lines, in ns.
func splitHCL(ns, body string) string {
	return fmt.Sprintf(`
resource "mesh_traffic_split" "test" {
  name      = %q
  namespace = %q
%s
}
`, splitName, ns, body)
}

// expectPlanError runs one plan-only step that must fail with pattern. A
// space in pattern matches any run of white space, since terraform wraps
// diagnostics to the terminal width.
func expectPlanError(t *testing.T, config, pattern string) {
	t.Helper()
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{{
			Config:      config,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(strings.ReplaceAll(pattern, " ", `\s+`)),
		}},
	})
}

// Pure-config checks (ValidateConfig), through the real terraform binary.
func TestAccTrafficSplit_ConfigErrors(t *testing.T) {
	testAccPreCheck(t)
	const parent = `
  service = "reviews"
  port    = 9080`
	seventeen := strings.Repeat(`{ service = "reviews", weight = 0 },`, 16) + `{ service = "reviews", weight = 100 }`
	cases := []struct {
		name, target, body, want string
	}{
		{"weights do not sum to 100", "linkerd", parent + `
  backends = [{ service = "a", weight = 60 }, { service = "b", weight = 50 }]`,
			`MESH-TS-001[\s\S]*sum to 110[\s\S]*weight_semantics = "relative"`},
		{"all weights zero", "linkerd", parent + `
  weight_semantics = "relative"
  backends = [{ service = "a", weight = 0 }, { service = "b", weight = 0 }]`,
			`MESH-TS-002[\s\S]*total destination weight = 0`},
		{"subset labels on linkerd", "linkerd", parent + `
  backends = [{ subset_labels = { version = "v1" }, weight = 100 }]`,
			`MESH-TS-003[\s\S]*create one Service per version`},
		{"subset labels on ambient", "istio-ambient", parent + `
  backends = [{ subset_labels = { version = "v1" }, weight = 100 }]`,
			`MESH-TS-003`},
		{"subset labels with gateway_api", "istio-sidecar", parent + `
  istio_api = "gateway_api"
  backends = [{ subset_labels = { version = "v1" }, weight = 100 }]`,
			`MESH-TS-003`},
		{"virtualservice on ambient", "istio-ambient", parent + `
  istio_api = "virtualservice"
  backends = [{ weight = 100 }]`,
			`MESH-TS-007`},
		{"more than 16 backends", "linkerd", parent + `
  backends = [` + seventeen + `]`,
			`backends list must contain at least 1 elements and at most 16`},
		{"weight missing among several", "linkerd", parent + `
  backends = [{ service = "a", weight = 100 }, { service = "b" }]`,
			`MESH-TS-024[\s\S]*weight`},
		{"relative weight out of range", "linkerd", parent + `
  weight_semantics = "relative"
  backends = [{ service = "a", weight = 2000000 }]`,
			`weight value must be between 0 and 1000000`},
		{"percent weight out of range", "linkerd", parent + `
  backends = [{ service = "a", weight = 150 }, { service = "b", weight = 0 }]`,
			`MESH-TS-018`},
		{"unknown target", "mars", parent + `
  backends = [{ weight = 100 }]`,
			`target value must be one of`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			config := providerConfig("istio-sidecar") + fmt.Sprintf(`
resource "mesh_traffic_split" "test" {
  name      = %q
  namespace = "default"
  target    = %q
%s
}
`, splitName, c.target, c.body)
			expectPlanError(t, config, c.want)
		})
	}
	t.Run("bad name", func(t *testing.T) {
		config := providerConfig("linkerd") + `
resource "mesh_traffic_split" "test" {
  name      = "Reviews_Split"
  namespace = "default"
` + parent + `
  backends = [{ weight = 100 }]
}
`
		expectPlanError(t, config, `MESH-TS-025: name is not a DNS-1123 label`)
	})
}

// Cluster checks (ModifyPlan), each against a namespace set up to trip it.
func TestAccTrafficSplit_ClusterErrors(t *testing.T) {
	testAccPreCheck(t)
	cfg := cluster.Config
	ns := testNamespace(t, map[string]string{"istio-injection": "enabled"})
	kubetest.Service(t, cfg, ns, "reviews", map[string]string{"app": "reviews"}, 9080)
	kubetest.HeadlessService(t, cfg, ns, "headless", map[string]string{"app": "reviews"}, 9080)
	kubetest.Service(t, cfg, ns, "routed", map[string]string{"app": "routed"}, 8080)
	createObject(t, ns, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: hand-written}
spec:
  hosts: [routed]
  http: [{route: [{destination: {host: routed}}]}]
`)
	kubetest.Service(t, cfg, ns, "profiled", map[string]string{"app": "profiled"}, 8080)
	createObject(t, ns, fmt.Sprintf(`
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: profiled.%s.svc.cluster.local}
spec: {routes: [{name: all, condition: {method: GET}}]}
`, ns))

	cases := []struct {
		name, target, body, want string
	}{
		{"parent service missing", "istio-sidecar", `
  service  = "nope"
  port     = 9080
  backends = [{ service = "reviews", weight = 100 }]`,
			`MESH-TS-008[\s\S]*Service ` + ns + `/nope does not exist`},
		{"parent port missing", "istio-sidecar", `
  service  = "reviews"
  port     = 9999
  backends = [{ weight = 100 }]`,
			`MESH-TS-008[\s\S]*has no port 9999 \(it has 9080\)`},
		{"backend service missing", "linkerd", `
  service  = "reviews"
  port     = 9080
  backends = [{ service = "reviews-v9", weight = 100 }]`,
			`MESH-TS-008[\s\S]*backend Service ` + ns + `/reviews-v9 does not exist`},
		{"headless parent", "linkerd", `
  service  = "headless"
  port     = 9080
  backends = [{ service = "reviews", weight = 100 }]`,
			`MESH-TS-009[\s\S]*must be a ClusterIP Service`},
		{"ambient without waypoint", "istio-ambient", `
  service  = "reviews"
  port     = 9080
  backends = [{ weight = 100 }]`,
			`MESH-TS-006[\s\S]*istio.io/use-waypoint label missing`},
		{"linkerd service profile", "linkerd", `
  service  = "profiled"
  port     = 8080
  backends = [{ weight = 100 }]`,
			`MESH-TS-013[\s\S]*takes precedence over HTTPRoutes`},
		{"service port already routed", "istio-sidecar", `
  service  = "routed"
  port     = 8080
  backends = [{ weight = 100 }]`,
			`MESH-GEN-002[\s\S]*already routed by VirtualService/hand-written \(unmanaged\)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			config := providerConfig(c.target) + splitHCL(ns, c.body)
			expectPlanError(t, config, c.want)
		})
	}
}

// The provider's target is the default; with none anywhere the plan says
// where to set one. A bad kubeconfig_path names the attribute.
func TestAccProvider_ConfigErrors(t *testing.T) {
	testAccPreCheck(t)
	body := `
  service  = "reviews"
  port     = 9080
  backends = [{ weight = 100 }]`
	t.Run("no target", func(t *testing.T) {
		config := fmt.Sprintf("provider \"mesh\" {\n  kubeconfig_path = %q\n}\n", providerKubeconfig()) + splitHCL("default", body)
		expectPlanError(t, config, `No target data plane[\s\S]*Set target on this resource or target on the provider`)
	})
	t.Run("kubeconfig missing", func(t *testing.T) {
		config := `provider "mesh" {
  kubeconfig_path = "/nonexistent/kubeconfig"
  target          = "linkerd"
}
` + splitHCL("default", body)
		expectPlanError(t, config, `Kubeconfig not found[\s\S]*kubeconfig_path "/nonexistent/kubeconfig" cannot be read`)
	})
	t.Run("kubeconfig context missing", func(t *testing.T) {
		config := fmt.Sprintf(`provider "mesh" {
  kubeconfig_path    = %q
  kubeconfig_context = "prod-eu-1"
  target             = "linkerd"
}
`, providerKubeconfig()) + splitHCL("default", body)
		expectPlanError(t, config, `Kubeconfig context not found[\s\S]*kubeconfig_context "prod-eu-1"`)
	})
	t.Run("bad ca certificate", func(t *testing.T) {
		config := `provider "mesh" {
  host                   = "https://127.0.0.1:1"
  cluster_ca_certificate = "not a pem"
  target                 = "linkerd"
}
` + splitHCL("default", body)
		expectPlanError(t, config, `Invalid CA certificate[\s\S]*holds no PEM certificate`)
	})
}

// An unreachable API server does not fail the plan (the cluster checks
// become a warning), but the apply stops before changing anything and says
// which settings to check.
func TestAccProvider_UnreachableCluster(t *testing.T) {
	testAccPreCheck(t)
	config := `provider "mesh" {
  host   = "https://127.0.0.1:1"
  token  = "t"
  target = "linkerd"
}
` + splitHCL("default", `
  service  = "reviews"
  port     = 9080
  backends = [{ weight = 100 }]`)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{{
			Config:      config,
			ExpectError: regexp.MustCompile(`Kubernetes cluster unavailable[\s\S]*connection refused[\s\S]*host`),
		}},
	})
}

// A connection only known at apply (a cluster created in the same
// configuration) must not fail the plan: the cluster checks become a
// warning, and the manifests are still shown.
func TestAccProvider_UnknownConnectionPlans(t *testing.T) {
	testAccPreCheck(t)
	config := fmt.Sprintf(`
resource "terraform_data" "cluster" {
  input = %q
}

provider "mesh" {
  kubeconfig_path = terraform_data.cluster.output
  target          = "linkerd"
}
`, providerKubeconfig()) + splitHCL("default", `
  service  = "reviews"
  port     = 9080
  backends = [{ service = "reviews-v1", weight = 100 }]`)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{{
			Config:             config,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
			// A plan-only step's plan is checked as "post-apply, pre-refresh".
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(splitAddress, plancheck.ResourceActionCreate),
				plancheck.ExpectKnownValue(splitAddress, tfjsonpath.New("manifests"), knownvalue.MapSizeExact(1)),
			}},
		}},
	})
}

// createObject creates an object from YAML in ns, as another tool would.
func createObject(t *testing.T, ns, y string) {
	t.Helper()
	obj, err := decodeYAML(y)
	if err != nil {
		t.Fatal(err)
	}
	obj.SetNamespace(ns)
	_, dyn := clients(t)
	id := kube.IDOf(obj)
	if _, err := dyn.Resource(gvr(t, id)).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
}
