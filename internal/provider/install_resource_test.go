package provider

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// renderedKnown asserts that the plan already lists every object of chart.
func renderedKnown(chart string) plancheck.PlanCheck {
	return plancheck.ExpectKnownValue(installAddress, tfjsonpath.New("rendered_objects").AtMapKey(chart), knownvalue.NotNull())
}

func revisions(want map[string]int64) statecheck.StateCheck {
	m := map[string]knownvalue.Check{}
	for k, v := range want {
		m[k] = knownvalue.Int64Exact(v)
	}
	return statecheck.ExpectKnownValue(installAddress, tfjsonpath.New("release_revisions"), knownvalue.MapExact(m))
}

// TestAccInstall_IstioAmbient installs ambient Istio, upgrades istiod's
// values, repairs a release uninstalled out of band, imports and destroys.
func TestAccInstall_IstioAmbient(t *testing.T) {
	ic := newInstallCluster(t)
	base := `
  mesh    = "istio"
  version = "` + istioVersion + `"
`
	upgraded := base + `
  values = {
    istiod = yamlencode({ env = { MESH_TEST_MARKER = "upgraded" } })
  }
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			return ic.expectDeployment(t, "istio-system", "istiod", false)
		},
		Steps: []resource.TestStep{
			{
				Config: ic.config(base),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(installAddress, plancheck.ResourceActionCreate),
					renderedKnown("base"), renderedKnown("istiod"), renderedKnown("cni"), renderedKnown("ztunnel"),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(installAddress, tfjsonpath.New("id"), knownvalue.StringExact("istio/istio-system")),
					statecheck.ExpectKnownValue(installAddress, tfjsonpath.New("mode"), knownvalue.StringExact("ambient")),
					revisions(map[string]int64{"base": 1, "istiod": 1, "cni": 1, "ztunnel": 1}),
				},
				Check: func(*terraform.State) error { return ic.expectDeployment(t, "istio-system", "istiod", true) },
			},
			{
				// The plan shows that only istiod's objects change.
				Config: ic.config(upgraded),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(installAddress, plancheck.ResourceActionUpdate),
						expectRenderedChange([]string{"istiod"}, []string{"base", "cni", "ztunnel"}),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(installAddress, tfjsonpath.New("release_revisions").AtMapKey("istiod"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(installAddress, tfjsonpath.New("release_revisions").AtMapKey("ztunnel"), knownvalue.Int64Exact(1)),
				},
				Check: func(*terraform.State) error { return ic.expectIstiodEnv(t, "MESH_TEST_MARKER", "upgraded") },
			},
			{
				// Drift: ztunnel uninstalled with Helm; the plan shows it, apply restores it.
				PreConfig: func() { ic.helmUninstall(t, "istio-system", "ztunnel") },
				Config:    ic.config(upgraded),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(installAddress, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(installAddress, tfjsonpath.New("release_revisions")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error { return ic.expectDaemonSet(t, "istio-system", "ztunnel") },
			},
			{
				ResourceName:      installAddress,
				ImportState:       true,
				ImportStateId:     "istio/istio-system",
				ImportStateVerify: true,
				// Helm does not record the repository, so an import cannot render the
				// charts; values come back as equivalent YAML, not the same text;
				// components are readiness at the time.
				ImportStateVerifyIgnore: []string{"components", "chart_repository", "rendered_objects", "values"},
			},
		},
	})
}

// TestAccInstall_IstioSidecarRevision installs sidecar Istio as a revision.
func TestAccInstall_IstioSidecarRevision(t *testing.T) {
	ic := newInstallCluster(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			return ic.expectDeployment(t, "istio-system", "istiod-canary", false)
		},
		Steps: []resource.TestStep{{
			Config: ic.config(`
  mesh     = "istio"
  mode     = "sidecar"
  revision = "canary"
  version  = "` + istioVersion + `"
`),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply:             []plancheck.PlanCheck{renderedKnown("base"), renderedKnown("istiod")},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				revisions(map[string]int64{"base": 1, "istiod": 1}),
				statecheck.ExpectKnownValue(installAddress, tfjsonpath.New("components"), knownvalue.NotNull()),
			},
			Check: func(*terraform.State) error {
				if err := ic.expectDeployment(t, "istio-system", "istiod-canary", true); err != nil {
					return err
				}
				return ic.expectDaemonSetAbsent(t, "istio-system", "ztunnel")
			},
		}},
	})
}

// expectRenderedChange asserts which charts' object lines the plan changes.
func expectRenderedChange(changed, unchanged []string) plancheck.PlanCheck {
	return renderedChangeCheck{changed, unchanged}
}

type renderedChangeCheck struct{ changed, unchanged []string }

func (c renderedChangeCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != installAddress {
			continue
		}
		before, _ := rc.Change.Before.(map[string]any)["rendered_objects"].(map[string]any)
		after, _ := rc.Change.After.(map[string]any)["rendered_objects"].(map[string]any)
		for chart := range before {
			differs := !reflect.DeepEqual(before[chart], after[chart])
			switch {
			case slices.Contains(c.changed, chart) && !differs:
				resp.Error = fmt.Errorf("rendered_objects[%q] does not change, want a change", chart)
			case slices.Contains(c.unchanged, chart) && differs:
				resp.Error = fmt.Errorf("rendered_objects[%q] changes:\n%v\n->\n%v", chart, before[chart], after[chart])
			}
		}
		return
	}
	resp.Error = fmt.Errorf("%s not in plan", installAddress)
}

func (ic *installCluster) expectIstiodEnv(t *testing.T, name, want string) error {
	d, err := ic.cs.AppsV1().Deployments("istio-system").Get(context.Background(), "istiod", metav1.GetOptions{})
	if err != nil {
		return err
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, e := range c.Env {
			if e.Name == name && e.Value == want {
				return nil
			}
		}
	}
	return fmt.Errorf("istiod has no env %s=%s", name, want)
}

func (ic *installCluster) expectDaemonSet(t *testing.T, namespace, name string) error {
	_, err := ic.cs.AppsV1().DaemonSets(namespace).Get(context.Background(), name, metav1.GetOptions{})
	return err
}

func (ic *installCluster) expectDaemonSetAbsent(t *testing.T, namespace, name string) error {
	if ic.expectDaemonSet(t, namespace, name) == nil {
		return fmt.Errorf("DaemonSet %s/%s exists, want none in sidecar mode", namespace, name)
	}
	return nil
}

// expectTrustRoots asserts Linkerd's trust-roots ConfigMap holds anchors.
func (ic *installCluster) expectTrustRoots(t *testing.T, anchors string) error {
	cm, err := ic.cs.CoreV1().ConfigMaps("linkerd").Get(context.Background(), "linkerd-identity-trust-roots", metav1.GetOptions{})
	if err != nil {
		return err
	}
	if got := cm.Data["ca-bundle.crt"]; anchors == "" || !containsTrimmed(got, anchors) {
		return fmt.Errorf("linkerd-identity-trust-roots ca-bundle.crt does not hold the trust anchor:\n%s", got)
	}
	return nil
}
