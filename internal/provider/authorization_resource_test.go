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

func TestAccAuthorization_IstioSidecar(t *testing.T) {
	testAccAuthorizationLifecycle(t, mesh.TargetIstioSidecar, mesh.EnforcedBySidecar, 1)
}

func TestAccAuthorization_IstioAmbient(t *testing.T) {
	testAccAuthorizationLifecycle(t, mesh.TargetIstioAmbient, mesh.EnforcedByWaypoint, 1)
}

// Linkerd: Server, two authentications plus the probes' one, the rule's
// and the probes' HTTPRoutes, and three AuthorizationPolicies, all accepted
// with fieldValidation=Strict against the linkerd-crds chart's CRDs.
func TestAccAuthorization_Linkerd(t *testing.T) {
	testAccAuthorizationLifecycle(t, mesh.TargetLinkerd, mesh.EnforcedByLinkerdProxy, 9)
}

// testAccAuthorizationLifecycle walks one policy through create, update,
// an empty plan, drift, import and destroy with the real terraform binary.
func testAccAuthorizationLifecycle(t *testing.T, target mesh.Target, point mesh.EnforcementPoint, objects int) {
	f := newAuthzFixture(t, target)
	var keys []string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		CheckDestroy:             func(*terraform.State) error { return authzCheckGone(t, keys) },
		Steps: []resource.TestStep{
			{
				Config: f.config("GET"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(authzAddress, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(authzAddress, tfjsonpath.New("manifests"), knownvalue.MapSizeExact(objects)),
					plancheck.ExpectKnownValue(authzAddress, tfjsonpath.New("enforcement_point"), knownvalue.StringExact(string(point))),
					authzExpectManifest(f.key, `owner: mesh_authorization\.`),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(authzAddress, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(authzAddress, tfjsonpath.New("mesh_target"), knownvalue.StringExact(string(target))),
				},
				Check: func(s *terraform.State) (err error) {
					keys, err = f.checkOwned(t, s, objects)
					return err
				},
			},
			{
				Config: f.config("GET", "POST"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(authzAddress, plancheck.ResourceActionUpdate),
						authzExpectManifest(authzUpdatedKey(f), `POST`),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(authzAddress, tfjsonpath.New("revision"), knownvalue.Int64Exact(2)),
				},
			},
			{
				PreConfig: func() { f.editLive(t) },
				Config:    f.config("GET", "POST"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(authzAddress, plancheck.ResourceActionUpdate),
						authzExpectManifest(f.key, f.driftPattern()),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				ResourceName:            authzAddress,
				ImportState:             true,
				ImportStateIdFunc:       func(*terraform.State) (string, error) { return f.ns + "/" + authzName, nil },
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"revision", "timeouts"},
			},
		},
	})
}

// authzUpdatedKey is the object whose methods change: the policy, or on
// Linkerd the rule's HTTPRoute.
func authzUpdatedKey(f authzFixture) string {
	if f.target == mesh.TargetLinkerd {
		return fmt.Sprintf("gateway.networking.k8s.io/v1/HTTPRoute/%s/%s-r0-8080", f.ns, authzName)
	}
	return f.key
}

func authzExpectManifest(key, pattern string) plancheck.PlanCheck {
	return plancheck.ExpectKnownValue(authzAddress, tfjsonpath.New("manifests").AtMapKey(key), knownvalue.StringRegexp(regexp.MustCompile(pattern)))
}

// TestAccAuthorization_ServiceSelectorAtPlan: with target.service on
// istio-sidecar the Service's selector is looked up at plan time, so the
// manifests are known and carry it.
func TestAccAuthorization_ServiceSelectorAtPlan(t *testing.T) {
	f := newAuthzFixture(t, mesh.TargetIstioSidecar)
	config := providerConfig("istio-sidecar") + fmt.Sprintf(`
resource "mesh_authorization" "test" {
  name      = %q
  namespace = %q
  target    = { service = "orders" }
  deny_all  = true
  dry_run   = true
}
`, authzName, f.ns)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				authzExpectManifest(f.key, `(?s)istio.io/dry-run: "true".*spec:\n  action: ALLOW\n  selector:\n    matchLabels:\n      app: orders\n$`),
			}},
		}},
	})
}

// TestAccAuthorization_IstioctlAnalyze checks the Istio objects with an
// independent validator: istioctl analyze must report no errors.
func TestAccAuthorization_IstioctlAnalyze(t *testing.T) {
	istioctl := os.Getenv("ISTIOCTL")
	if istioctl == "" {
		t.Skip("ISTIOCTL is not set; make test builds istioctl and sets it")
	}
	for _, target := range []mesh.Target{mesh.TargetIstioSidecar, mesh.TargetIstioAmbient} {
		t.Run(string(target), func(t *testing.T) {
			f := newAuthzFixture(t, target)
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProviderFactories,
				Steps: []resource.TestStep{{
					Config: f.config("GET"),
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
		})
	}
}
