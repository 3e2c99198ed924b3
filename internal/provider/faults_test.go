package provider

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/meshform/terraform-provider-mesh/internal/faultproxy"
	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// proxied is config with its provider talking to the test cluster through a
// fault proxy (TLS verified against the proxy's CA).
func proxied(t *testing.T, config, target string) (string, *faultproxy.Proxy) {
	t.Helper()
	p, err := faultproxy.Start(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	pc := p.Config(cluster.Config)
	provider := fmt.Sprintf(`
provider "mesh" {
  host                   = %q
  token                  = %q
  cluster_ca_certificate = %q
  target                 = %q
}
`, pc.Host, pc.BearerToken, string(pc.CAData), target)
	if !strings.Contains(config, providerConfig(target)) {
		t.Fatal("the configuration has no provider block to replace")
	}
	return strings.Replace(config, providerConfig(target), provider, 1), p
}

func method(m string, match func(*http.Request) bool) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Method == m && match(r) }
}

// A create whose rollback cannot remove what it wrote (the second object's
// webhook is down, and deleting the first is forbidden) records what is
// left in state: Terraform marks the resource tainted, and the next apply
// replaces it, deleting the leftovers first. Nothing is left in no state.
func TestAccTrafficSplit_PartialCreateIsTaintedAndReplaced(t *testing.T) {
	f := newSplitFixture(t, mesh.TargetIstioSidecar)
	base := strings.Replace(f.config(90, 10), "  port      = 9080\n", "  port      = 9080\n  timeouts  = { create = \"4s\" }\n", 1)
	config, p := proxied(t, base, string(mesh.TargetIstioSidecar))
	drKey, vsKey := f.keys[0], f.keys[1]
	dr, _ := kube.ParseKey(drKey)
	vs, _ := kube.ParseKey(vsKey)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					p.Arm(faultproxy.Fault{Kind: faultproxy.Status, Code: http.StatusInternalServerError,
						Match: method(http.MethodPatch, faultproxy.WriteOf("virtualservices", vs.Name))})
					p.Arm(faultproxy.Fault{Kind: faultproxy.Status, Code: http.StatusForbidden,
						Match: method(http.MethodDelete, faultproxy.WriteOf("destinationrules", dr.Name))})
				},
				Config:      config,
				ExpectError: regexp.MustCompile(`could\s+not\s+be\s+rolled\s+back:\s+DestinationRule/` + f.ns + `/` + splitName + `\s+left\s+changed`),
			},
			{
				// State holds the DestinationRule: the resource is tainted
				// and replaced.
				PreConfig: p.Disarm,
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(splitAddress, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(*terraform.State) error {
					getObject(t, dr)
					getObject(t, vs)
					return nil
				},
			},
		},
	})
}
