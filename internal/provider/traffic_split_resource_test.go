package provider

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

func TestAccTrafficSplit_IstioSidecar(t *testing.T) {
	testAccTrafficSplitLifecycle(t, mesh.TargetIstioSidecar)
}
func TestAccTrafficSplit_IstioAmbient(t *testing.T) {
	testAccTrafficSplitLifecycle(t, mesh.TargetIstioAmbient)
}
func TestAccTrafficSplit_Linkerd(t *testing.T) { testAccTrafficSplitLifecycle(t, mesh.TargetLinkerd) }

// testAccTrafficSplitLifecycle walks one canary through create, a weight
// update, drift, import and destroy, with the real terraform binary.
func testAccTrafficSplitLifecycle(t *testing.T, target mesh.Target) {
	fixture := newSplitFixture(t, target)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		CheckDestroy:             func(*terraform.State) error { return fixture.checkGone(t) },
		Steps: []resource.TestStep{
			{
				Config: fixture.config(90, 10),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(splitAddress, plancheck.ResourceActionCreate),
					// The exact objects are in the plan, before anything is applied.
					plancheck.ExpectKnownValue(splitAddress, tfjsonpath.New("manifests"), knownvalue.MapSizeExact(len(fixtureKeys(target)))),
					expectManifest(fixture.route, `weight: 90`),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(splitAddress, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(splitAddress, tfjsonpath.New("target"), knownvalue.StringExact(string(target))),
				},
				Check: func(*terraform.State) error {
					if err := fixture.checkOwned(t); err != nil {
						return err
					}
					return expectWeights(fixture.liveWeights(t), 90, 10)
				},
			},
			{
				// Update weights: the plan shows the manifest diff, then an empty plan.
				Config: fixture.config(80, 20),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(splitAddress, plancheck.ResourceActionUpdate),
						expectManifest(fixture.route, `weight: 80`),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(splitAddress, tfjsonpath.New("revision"), knownvalue.Int64Exact(2)),
				},
				Check: func(*terraform.State) error { return expectWeights(fixture.liveWeights(t), 80, 20) },
			},
			{
				// Drift: a kubectl-edit-style change shows up in the refresh and is reverted.
				PreConfig: func() { fixture.editWeights(t, 50, 50) },
				Config:    fixture.config(80, 20),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(splitAddress, plancheck.ResourceActionUpdate),
					expectManifest(fixture.route, `weight: 80`),
				}},
				Check: func(*terraform.State) error { return expectWeights(fixture.liveWeights(t), 80, 20) },
			},
			{
				ResourceName:      splitAddress,
				ImportState:       true,
				ImportStateIdFunc: func(*terraform.State) (string, error) { return fixture.ns + "/" + splitName, nil },
				ImportStateVerify: true,
				// The revision counts applies, which an import cannot know.
				ImportStateVerifyIgnore: []string{"revision", "timeouts"},
			},
		},
	})
}

// Weights known only at apply (from another resource) leave the route's
// manifest and the revision unknown in the plan; the objects that do not
// hold them are shown (on istio-sidecar, the DestinationRule). Terraform
// plans the resource again when it applies, with the weights known: the
// manifests it records must be those of the applied weights, and the next
// plan empty.
func TestAccTrafficSplit_WeightsKnownOnlyAtApply(t *testing.T) {
	fixture := newSplitFixture(t, mesh.TargetIstioSidecar)
	var known []plancheck.PlanCheck
	for _, key := range fixture.keys {
		if key != fixture.route {
			known = append(known, plancheck.ExpectKnownValue(splitAddress, tfjsonpath.New("manifests").AtMapKey(key),
				knownvalue.StringRegexp(regexp.MustCompile(`kind: DestinationRule`))))
		}
	}
	if len(known) == 0 {
		t.Fatal("the fixture renders no object besides the route")
	}
	config := func(v1 int) string {
		return fixture.configWeights("terraform_data.v1.output", "100 - terraform_data.v1.output") + fmt.Sprintf(`
resource "terraform_data" "v1" {
  input = %d
}
`, v1)
	}
	step := func(v1, revision int) resource.TestStep {
		return resource.TestStep{
			Config: config(v1),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: append([]plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(splitAddress, tfjsonpath.New("manifests").AtMapKey(fixture.route)),
					plancheck.ExpectUnknownValue(splitAddress, tfjsonpath.New("revision")),
				}, known...),
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(splitAddress, tfjsonpath.New("revision"), knownvalue.Int64Exact(int64(revision))),
				statecheck.ExpectKnownValue(splitAddress, tfjsonpath.New("manifests").AtMapKey(fixture.route),
					knownvalue.StringRegexp(regexp.MustCompile(fmt.Sprintf(`weight: %d\n[\s\S]*weight: %d\n`, v1, 100-v1)))),
			},
			Check: func(*terraform.State) error { return expectWeights(fixture.liveWeights(t), int64(v1), int64(100-v1)) },
		}
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		CheckDestroy:             func(*terraform.State) error { return fixture.checkGone(t) },
		Steps:                    []resource.TestStep{step(70, 1), step(30, 2)},
	})
}

func fixtureKeys(target mesh.Target) []string {
	switch target {
	case mesh.TargetIstioSidecar:
		return []string{"DestinationRule", "VirtualService"}
	case mesh.TargetIstioAmbient:
		return []string{"Gateway", "Service", "HTTPRoute"}
	}
	return []string{"HTTPRoute"}
}

func expectWeights(got []int64, want ...int64) error {
	if !slices.Equal(got, want) {
		return fmt.Errorf("live weights %v, want %v", got, want)
	}
	return nil
}

// expectManifest asserts the planned manifest under key matches pattern.
func expectManifest(key, pattern string) plancheck.PlanCheck {
	return plancheck.ExpectKnownValue(splitAddress, tfjsonpath.New("manifests").AtMapKey(key), knownvalue.StringRegexp(regexp.MustCompile(pattern)))
}

// TestAccTrafficSplit_IstioctlAnalyze checks the istio-sidecar objects with
// an independent validator: istioctl analyze must report no errors.
func TestAccTrafficSplit_IstioctlAnalyze(t *testing.T) {
	istioctl := os.Getenv("ISTIOCTL")
	if istioctl == "" {
		t.Skip("ISTIOCTL is not set; make test builds istioctl and sets it")
	}
	fixture := newSplitFixture(t, mesh.TargetIstioSidecar)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{{
			Config: fixture.config(90, 10),
			Check: func(*terraform.State) error {
				out, err := exec.Command(istioctl, "analyze", "--kubeconfig", cluster.Kubeconfig,
					"--namespace", fixture.ns, "--failure-threshold", "Error").CombinedOutput()
				t.Logf("istioctl analyze:\n%s", out)
				if err != nil {
					return fmt.Errorf("istioctl analyze reported errors: %v\n%s", err, out)
				}
				return nil
			},
		}},
	})
}
