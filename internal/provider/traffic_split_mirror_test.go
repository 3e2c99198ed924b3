package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// The mirror block composes a mirror into the split's own route object, so
// one Service port can be split and mirrored.
func TestAccTrafficSplit_MirrorIstioSidecar(t *testing.T) {
	testAccTrafficSplitMirror(t, mesh.TargetIstioSidecar,
		mirrorStep{12.5, `(?s)mirrors:.*percentage:\s+value: 12.5\s+name: default`},
		mirrorStep{50, `percentage:\s+value: 50`})
}

func TestAccTrafficSplit_MirrorIstioAmbient(t *testing.T) {
	testAccTrafficSplitMirror(t, mesh.TargetIstioAmbient,
		mirrorStep{25, `(?s)filters:.*percent: 25\s+type: RequestMirror`},
		mirrorStep{12.5, `numerator: 1250`})
}

// withMirror adds a mirror block copying percentage % of the default
// rule's requests to reviews-shadow.
func withMirror(config string, percentage float64) string {
	block := fmt.Sprintf("  mirror = { service = \"reviews-shadow\", port = 9080, percentage = %g }\n  match_routes = [", percentage)
	return strings.Replace(config, "  match_routes = [", block, 1)
}

func testAccTrafficSplitMirror(t *testing.T, target mesh.Target, create, update mirrorStep) {
	f := newSplitFixture(t, target)
	kubetest.Service(t, cluster.Config, f.ns, "reviews-shadow", map[string]string{"app": "reviews", "version": "v2"}, 9080)
	live := mirrorFixture{splitFixture: f}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		CheckDestroy:             func(*terraform.State) error { return f.checkGone(t) },
		Steps: []resource.TestStep{
			{
				Config: withMirror(f.config(90, 10), create.percentage),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(splitAddress, plancheck.ResourceActionCreate),
					expectManifest(f.route, create.manifest),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(splitAddress, tfjsonpath.New("mirror").AtMapKey("namespace"), knownvalue.StringExact(f.ns)),
				},
				Check: func(*terraform.State) error { return live.expectPercentage(t, create.percentage) },
			},
			{
				Config: withMirror(f.config(80, 20), update.percentage),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(splitAddress, plancheck.ResourceActionUpdate),
						expectManifest(f.route, update.manifest),
						expectManifest(f.route, `weight: 80`),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					if err := expectWeights(f.liveWeights(t), 80, 20); err != nil {
						return err
					}
					return live.expectPercentage(t, update.percentage)
				},
			},
			{
				ResourceName:            splitAddress,
				ImportState:             true,
				ImportStateIdFunc:       func(*terraform.State) (string, error) { return f.ns + "/" + splitName, nil },
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"revision", "timeouts"},
			},
			{
				// Removing the block removes the mirror from the route.
				Config: f.config(80, 20),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(splitAddress, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(splitAddress, tfjsonpath.New("manifests").AtMapKey(f.route),
						knownvalue.StringFunc(func(v string) error {
							if strings.Contains(v, "mirrors:") || strings.Contains(v, "RequestMirror") {
								return fmt.Errorf("the route still mirrors:\n%s", v)
							}
							return nil
						})),
				}},
			},
		},
	})
}

func TestAccTrafficSplit_MirrorErrors(t *testing.T) {
	testAccPreCheck(t)
	const parent = `
  service  = "reviews"
  port     = 9080
  backends = [{ service = "reviews-v1", weight = 100 }]`
	t.Run("linkerd", func(t *testing.T) {
		expectPlanError(t, providerConfig("linkerd")+splitHCL("default", parent+`
  mirror = { service = "reviews-v2", port = 9080 }`),
			`MESH-MIR-001[\s\S]*traffic mirroring is not supported by Linkerd`)
	})
	t.Run("mirror is a backend", func(t *testing.T) {
		expectPlanError(t, providerConfig("istio-sidecar")+splitHCL("default", parent+`
  mirror = { service = "reviews-v1", port = 9080 }`),
			`MESH-MIR-006[\s\S]*mirror target must differ from the primary destination`)
	})
	t.Run("percentage", func(t *testing.T) {
		expectPlanError(t, providerConfig("istio-sidecar")+splitHCL("default", parent+`
  mirror = { service = "reviews-v2", port = 9080, percentage = 100.5 }`),
			`MESH-MIR-002[\s\S]*percentage must be between 0 and 100`)
	})
	t.Run("match with match_routes on ambient", func(t *testing.T) {
		expectPlanError(t, providerConfig("istio-ambient")+splitHCL("default", parent+`
  match_routes = [{ method = "POST", backends = [{ service = "reviews-v2" }] }]
  mirror = { service = "reviews-v2", port = 9080, match = { method = "GET" } }`),
			`MESH-MIR-012[\s\S]*could outrank match_routes`)
	})
	t.Run("mirror service missing", func(t *testing.T) {
		ns := testNamespace(t, map[string]string{"istio-injection": "enabled"})
		kubetest.Service(t, cluster.Config, ns, "reviews", map[string]string{"app": "reviews"}, 9080)
		kubetest.Service(t, cluster.Config, ns, "reviews-v1", map[string]string{"app": "reviews"}, 9080)
		expectPlanError(t, providerConfig("istio-sidecar")+splitHCL(ns, parent+`
  mirror = { service = "reviews-v9", port = 9080 }`),
			`MESH-MIR-007[\s\S]*mirror target reviews-v9:9080 not found`)
	})
}
