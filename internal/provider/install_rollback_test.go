package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestAccInstall_FailedUpgradeRollsBack upgrades istiod to values whose
// pods can never be scheduled: the readiness wait times out, every release
// is rolled back, state keeps the previous configuration and a plan of that
// configuration is empty.
func TestAccInstall_FailedUpgradeRollsBack(t *testing.T) {
	ic := newInstallCluster(t)
	good := ic.config(`
  mesh    = "istio"
  mode    = "sidecar"
  version = "` + istioVersion + `"
  timeout = "20s"
`)
	bad := ic.config(`
  mesh    = "istio"
  mode    = "sidecar"
  version = "` + istioVersion + `"
  timeout = "20s"
  values  = { istiod = yamlencode({ nodeSelector = { "mesh.test/no-such-node" = "true" } }) }
`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{
			{Config: good},
			{
				Config:      bad,
				ExpectError: regexp.MustCompile(`Mesh upgrade failed and was rolled back[\s\S]*istiod[\s\S]*Rolled\s+back`),
			},
			{
				Config:           good,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check:            func(*terraform.State) error { return ic.expectNoNodeSelector(t) },
			},
		},
	})
}

func (ic *installCluster) expectNoNodeSelector(t *testing.T) error {
	d, err := ic.cs.AppsV1().Deployments("istio-system").Get(context.Background(), "istiod", metav1.GetOptions{})
	if err != nil {
		return err
	}
	if _, ok := d.Spec.Template.Spec.NodeSelector["mesh.test/no-such-node"]; ok {
		return fmt.Errorf("istiod still has the failed upgrade's nodeSelector: %v", d.Spec.Template.Spec.NodeSelector)
	}
	return nil
}
