package provider

import (
	"fmt"
	"testing"

	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// mirrorHCL is a mesh_mirror_route of reviews:9080 in ns with the given
// body lines.
func mirrorHCL(ns, body string) string {
	return fmt.Sprintf(`
resource "mesh_mirror_route" "test" {
  name      = %q
  namespace = %q
  service   = "reviews"
  port      = 9080
%s
}
`, mirrorName, ns, body)
}

// Pure-config checks (ValidateConfig and ModifyPlan), through terraform.
func TestAccMirrorRoute_ConfigErrors(t *testing.T) {
	testAccPreCheck(t)
	const mirror = `  mirror = { service = "reviews-v2", port = 9080 }`
	cases := []struct {
		name, target, body, want string
	}{
		{"linkerd", "linkerd", mirror,
			`MESH-MIR-001[\s\S]*traffic mirroring is not supported by Linkerd[\s\S]*drops the whole HTTPRoute`},
		{"mirror is the primary", "istio-sidecar", `  mirror = { service = "reviews", port = 9080 }`,
			`MESH-MIR-006[\s\S]*mirror target must differ from the primary destination`},
		{"percentage above 100", "istio-sidecar", mirror + "\n  percentage = 150",
			`MESH-MIR-002[\s\S]*percentage must be between 0 and 100`},
		{"percentage below 0", "istio-ambient", mirror + "\n  percentage = -0.5",
			`MESH-MIR-002[\s\S]*percentage must be between 0 and 100`},
		{"mirror subset labels on ambient", "istio-ambient",
			`  mirror = { service = "reviews-v2", port = 9080, subset_labels = { version = "v2" } }`,
			`MESH-MIR-008[\s\S]*label-based subsets are only supported by Istio VirtualService`},
		{"mirror subset labels with gateway_api", "istio-sidecar", `  istio_api = "gateway_api"
  mirror = { service = "reviews", port = 9080, subset_labels = { version = "v2" } }`,
			`MESH-MIR-008[\s\S]*istio_api = "gateway_api"`},
		{"match matches everything", "istio-sidecar", mirror + `
  match = { path = { type = "prefix", value = "/" } }`,
			`MESH-MIR-011[\s\S]*leave match out to mirror every request`},
		{"mirror subsets in another namespace", "istio-sidecar",
			`  mirror = { service = "reviews", namespace = "shadow", port = 9080, subset_labels = { version = "v2" } }`,
			`MESH-MIR-013[\s\S]*mirror subsets need the route's namespace`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := fmt.Sprintf("  target = %q\n%s", c.target, c.body)
			expectPlanError(t, providerConfig("istio-sidecar")+mirrorHCL("default", body), c.want)
		})
	}
	// Without its own target, the route is checked with the provider's.
	t.Run("linkerd from the provider", func(t *testing.T) {
		expectPlanError(t, providerConfig("linkerd")+mirrorHCL("default", mirror), `MESH-MIR-001`)
	})
}

// Cluster checks (ModifyPlan), each against a namespace set up to trip it.
func TestAccMirrorRoute_ClusterErrors(t *testing.T) {
	testAccPreCheck(t)
	cfg := cluster.Config
	sidecar := testNamespace(t, map[string]string{"istio-injection": "enabled"})
	kubetest.Service(t, cfg, sidecar, "reviews", map[string]string{"app": "reviews"}, 9080)
	kubetest.Service(t, cfg, sidecar, "reviews-v2", map[string]string{"app": "reviews", "version": "v2"}, 9080)
	ambient := testNamespace(t, map[string]string{"istio.io/dataplane-mode": "ambient"})
	kubetest.Service(t, cfg, ambient, "reviews", map[string]string{"app": "reviews"}, 9080)
	kubetest.Service(t, cfg, ambient, "reviews-v2", map[string]string{"app": "reviews", "version": "v2"}, 9080)

	// A mesh_traffic_split already routes the port (its HTTPRoute as the
	// provider renders it, owner label included).
	split := testNamespace(t, map[string]string{"istio-injection": "enabled"})
	kubetest.Service(t, cfg, split, "reviews", map[string]string{"app": "reviews"}, 9080)
	kubetest.Service(t, cfg, split, "reviews-v2", map[string]string{"app": "reviews", "version": "v2"}, 9080)
	createObject(t, split, fmt.Sprintf(`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: reviews-split
  labels: {mesh.terraform.io/owner: %s}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
  rules: [{backendRefs: [{name: reviews, port: 9080}]}]
`, mesh.Owner("mesh_traffic_split", split, "reviews-split")))

	cases := []struct {
		name, target, ns, body, want string
	}{
		{"mirror service missing", "istio-sidecar", sidecar, `  mirror = { service = "reviews-v9", port = 9080 }`,
			`MESH-MIR-007[\s\S]*mirror target reviews-v9:9080 not found[\s\S]*does not exist`},
		{"mirror port missing", "istio-sidecar", sidecar, `  mirror = { service = "reviews-v2", port = 7000 }`,
			`MESH-MIR-007[\s\S]*has no port 7000 \(it has 9080\)`},
		{"mirror in another namespace missing", "istio-sidecar", sidecar, `  mirror = { service = "reviews-v2", namespace = "default", port = 9080 }`,
			`MESH-MIR-007[\s\S]*Service default/reviews-v2 does not exist`},
		{"ambient without waypoint", "istio-ambient", ambient, `  mirror = { service = "reviews-v2", port = 9080 }`,
			`MESH-MIR-005[\s\S]*istio.io/use-waypoint label missing from parent and parent namespace`},
		{"port routed by a traffic split", "istio-sidecar", split, `  mirror = { service = "reviews-v2", port = 9080 }
  percentage = 10`,
			`MESH-MIR-009[\s\S]*already routed by HTTPRoute/reviews-split \(mesh_traffic_split\.[\s\S]*set the mirror block of that mesh_traffic_split[\s\S]*mirror = \{ service = "reviews-v2", port = 9080, percentage = 10 \}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expectPlanError(t, providerConfig(c.target)+mirrorHCL(c.ns, c.body), c.want)
		})
	}
}
