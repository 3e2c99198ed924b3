package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// TestAccTrafficSplit_RollbackOnFailedUpdate makes the second object of an
// update fail after the first was applied: an admission policy rejects
// VirtualServices with a weight of 77, but lets dry runs through, so the
// failure comes midway through the real apply. The provider must put the
// cluster back to the revision in state, say so, and keep that state.
func TestAccTrafficSplit_RollbackOnFailedUpdate(t *testing.T) {
	f := newSplitFixture(t, mesh.TargetIstioSidecar)
	rejectRealWrites(t, f.ns, "reject-weight-77", "networking.istio.io", "virtualservices",
		`!has(object.spec.http) || object.spec.http.all(h, !has(h.route) || h.route.all(r, !has(r.weight) || r.weight != 77))`, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: policy-probe}
spec:
  hosts: [probe]
  http: [{route: [{destination: {host: a}, weight: 77}, {destination: {host: b}, weight: 23}]}]
`)
	drKey := f.keys[0]
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{
			{Config: f.config(90, 10)},
			{
				// The DestinationRule gains a subset (applied first), then the
				// VirtualService is rejected.
				Config:      f.configWithCanarySubset(77, 23),
				ExpectError: regexp.MustCompile(`(?s)rolled back.*VirtualService/` + f.ns + `/` + splitName),
			},
			{
				// State still holds revision 1, and the cluster matches it.
				Config: f.config(90, 10),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(splitAddress, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
				},
				Check: func(*terraform.State) error {
					id, _ := kube.ParseKey(drKey)
					subsets, _, _ := unstructured.NestedSlice(getObject(t, id).Object, "spec", "subsets")
					if len(subsets) != 2 {
						return fmt.Errorf("DestinationRule has %d subsets after rollback, want the 2 of revision 1", len(subsets))
					}
					return expectWeights(f.liveWeights(t), 90, 10)
				},
			},
		},
	})
}

// configWithCanarySubset is config with a third subset (v3 = canary) in the
// DestinationRule, routed at weight 0, so that the update changes both objects.
func (f splitFixture) configWithCanarySubset(v1, v2 int) string {
	return providerConfig(string(f.target)) + fmt.Sprintf(`
resource "mesh_traffic_split" "test" {
  name      = %q
  namespace = %q
  service   = "reviews"
  port      = 9080
  backends  = [
    { subset_labels = { version = "v1" }, weight = %d },
    { subset_labels = { version = "v2" }, weight = %d },
    { subset_labels = { version = "v3" }, weight = 0 },
  ]
  match_routes = [{
    headers  = [{ name = "x-user-group", value = "beta" }]
    backends = [{ subset_labels = { version = "v2" } }]
  }]
}
`, splitName, f.ns, v1, v2)
}

// Objects another tool created are imported by the route's namespace/name;
// the next apply takes them over (adding the provider's labels) and the plan
// after it is empty. (A DestinationRule of another name for the same host is
// refused at plan, MESH-TS-005: see the preflight tests.)
func TestAccTrafficSplit_ImportUnmanaged(t *testing.T) {
	f := newSplitFixture(t, mesh.TargetIstioSidecar)
	createObject(t, f.ns, `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: `+splitName+`}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`)
	createObject(t, f.ns, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: `+splitName+`}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {x-user-group: {exact: beta}}}]
    route: [{destination: {host: reviews, subset: v2, port: {number: 9080}}}]
  - route:
    - {destination: {host: reviews, subset: v1, port: {number: 9080}}, weight: 90}
    - {destination: {host: reviews, subset: v2, port: {number: 9080}}, weight: 10}
`)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:             f.config(90, 10),
				ResourceName:       splitAddress,
				ImportState:        true,
				ImportStateId:      f.ns + "/" + splitName,
				ImportStatePersist: true,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					attrs := states[0].Attributes
					want := map[string]string{
						"service": "reviews", "port": "9080", "target": "istio-sidecar",
						"backends.0.weight": "90", "backends.1.subset_labels.version": "v2",
						"match_routes.0.headers.0.name": "x-user-group",
					}
					for k, v := range want {
						if attrs[k] != v {
							return fmt.Errorf("imported %s = %q, want %q", k, attrs[k], v)
						}
					}
					return nil
				},
			},
			{
				Config: f.config(90, 10),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(splitAddress, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error { return f.checkOwned(t) },
			},
		},
	})
}
