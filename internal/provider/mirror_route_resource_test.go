package provider

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// mirrorStep is one percentage of a lifecycle and what its manifest shows.
type mirrorStep struct {
	percentage float64
	manifest   string
}

// A matched 12.5 % mirror on sidecars renders the VirtualService percentage.
func TestAccMirrorRoute_IstioSidecar(t *testing.T) {
	testAccMirrorRouteLifecycle(t, newMirrorFixture(t, mesh.TargetIstioSidecar, false, true),
		mirrorStep{12.5, `(?s)mirrors:.*percentage:\s+value: 12.5\s+name: mirror`},
		mirrorStep{50, `percentage:\s+value: 50`})
}

// Ambient renders an HTTPRoute enforced by a waypoint the route creates: an
// integer percentage is `percent`, any other a fraction over 10000.
func TestAccMirrorRoute_IstioAmbient(t *testing.T) {
	testAccMirrorRouteLifecycle(t, newMirrorFixture(t, mesh.TargetIstioAmbient, false, false),
		mirrorStep{25, `percent: 25`},
		mirrorStep{12.5, `(?s)fraction:\s+denominator: 10000\s+numerator: 1250`})
}

func TestAccMirrorRoute_GatewayAPIOnSidecar(t *testing.T) {
	testAccMirrorRouteLifecycle(t, newMirrorFixture(t, mesh.TargetIstioSidecar, true, false),
		mirrorStep{25, `type: RequestMirror`},
		mirrorStep{30, `percent: 30`})
}

// testAccMirrorRouteLifecycle walks one mirror through create, a percentage
// update, drift, import and destroy, with the real terraform binary.
func testAccMirrorRouteLifecycle(t *testing.T, f mirrorFixture, create, update mirrorStep) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		CheckDestroy:             func(*terraform.State) error { return f.checkGone(t) },
		Steps: []resource.TestStep{
			{
				Config: f.config(create.percentage),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(mirrorAddress, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(mirrorAddress, tfjsonpath.New("manifests"), knownvalue.MapSizeExact(len(f.keys))),
					expectMirrorManifest(f.route, create.manifest),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mirrorAddress, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(mirrorAddress, tfjsonpath.New("primary").AtMapKey("port"), knownvalue.Int64Exact(9080)),
					statecheck.ExpectKnownValue(mirrorAddress, tfjsonpath.New("mirror").AtMapKey("namespace"), knownvalue.StringExact(f.ns)),
				},
				Check: func(*terraform.State) error {
					if err := f.checkOwned(t); err != nil {
						return err
					}
					return f.expectPercentage(t, create.percentage)
				},
			},
			{
				Config: f.config(update.percentage),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(mirrorAddress, plancheck.ResourceActionUpdate),
						expectMirrorManifest(f.route, update.manifest),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mirrorAddress, tfjsonpath.New("revision"), knownvalue.Int64Exact(2)),
				},
				Check: func(*terraform.State) error { return f.expectPercentage(t, update.percentage) },
			},
			{
				// Drift: a kubectl-edit-style change shows up in the refresh and is reverted.
				PreConfig: func() { f.editPercentage(t) },
				Config:    f.config(update.percentage),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(mirrorAddress, plancheck.ResourceActionUpdate),
					expectMirrorManifest(f.route, update.manifest),
				}},
				Check: func(*terraform.State) error { return f.expectPercentage(t, update.percentage) },
			},
			{
				ResourceName:            mirrorAddress,
				ImportState:             true,
				ImportStateIdFunc:       func(*terraform.State) (string, error) { return f.ns + "/" + mirrorName, nil },
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"revision", "timeouts"},
			},
		},
	})
}

func expectMirrorManifest(key, pattern string) plancheck.PlanCheck {
	return plancheck.ExpectKnownValue(mirrorAddress, tfjsonpath.New("manifests").AtMapKey(key), knownvalue.StringRegexp(regexp.MustCompile(pattern)))
}

// TestAccMirrorRoute_IstioctlAnalyze checks the rendered VirtualService with
// istioctl analyze: no errors.
func TestAccMirrorRoute_IstioctlAnalyze(t *testing.T) {
	istioctl := os.Getenv("ISTIOCTL")
	if istioctl == "" {
		t.Skip("ISTIOCTL is not set; make test builds istioctl and sets it")
	}
	f := newMirrorFixture(t, mesh.TargetIstioSidecar, false, true)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{{
			Config: f.config(12.5),
			Check: func(*terraform.State) error {
				out, err := exec.Command(istioctl, "analyze", "--kubeconfig", cluster.Kubeconfig,
					"--namespace", f.ns, "--failure-threshold", "Error").CombinedOutput()
				t.Logf("istioctl analyze:\n%s", out)
				if err != nil {
					return fmt.Errorf("istioctl analyze reported errors: %v\n%s", err, out)
				}
				return nil
			},
		}},
	})
}
