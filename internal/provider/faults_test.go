package provider

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-exec/tfexec"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/meshform/terraform-provider-mesh/internal/faultproxy"
	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// proxied is config with its provider talking to the test cluster through a
// fault proxy (TLS verified against the proxy's CA), as the least-privilege
// ServiceAccount.
func proxied(t *testing.T, config, target string) (string, *faultproxy.Proxy) {
	t.Helper()
	p, err := faultproxy.Start(providerIdentity.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	pc := p.Config(providerIdentity.Config)
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

// Two Terraform states (workspaces, repositories) that declare the same
// resource: the second create refuses the first's objects, its destroy
// deletes nothing, and the first state still matches the cluster.
func TestAccTwoStatesCannotShareAResource(t *testing.T) {
	testAccPreCheck(t)
	f := newSplitFixture(t, mesh.TargetIstioSidecar)
	config := f.config(90, 10)
	ctx := context.Background()
	first, reattachFirst := terraformIn(t, config)
	applied(t, first, reattachFirst)

	second, reattachSecond := terraformIn(t, f.config(50, 50))
	err := second.Apply(ctx, reattachSecond)
	if err == nil || !regexp.MustCompile(`another\s+resource\s+instance`).MatchString(err.Error()) {
		t.Fatalf("the second state's apply: %v; want it to refuse the first state's objects", err)
	}
	if err := second.Destroy(ctx, reattachSecond); err != nil {
		t.Fatalf("the second state's destroy: %v", err)
	}
	for _, key := range f.keys {
		id, _ := kube.ParseKey(key)
		getObject(t, id) // still there
	}
	if got := f.liveWeights(t); len(got) != 2 || got[0] != 90 {
		t.Errorf("the first state's route has weights %v; want 90/10 untouched", got)
	}
	changes, err := first.Plan(ctx, tfexec.RefreshOnly(true), reattachFirst)
	if err != nil || changes {
		t.Errorf("the first state's drift check: changes %v, %v; want none", changes, err)
	}
}
