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

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// TestAccMTLSPolicy_RollbackOnFailedUpdate: an update turns the Server of
// port 8080 STRICT (applied first: objects of a kind apply in key order)
// and adds one for port 9090, which an
// admission policy rejects on real writes only. The provider must put the
// 8080 Server back to revision 1, say so, and keep that state.
func TestAccMTLSPolicy_RollbackOnFailedUpdate(t *testing.T) {
	testAccPreCheck(t)
	ns := testNamespace(t, nil)
	annotateNamespace(t, ns, "linkerd.io/inject", "enabled")
	mtlsPod(t, ns, "web-1", nil, 8080, 9090)
	rejectRealWrites(t, ns, "reject-server-9090", "policy.linkerd.io", "servers", `string(object.spec.port) != "9090"`, `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: policy-probe}
spec: {podSelector: {matchLabels: {app: probe}}, port: 9090}
`)
	config := func(mode, ports string) string {
		return mtlsHCL(mesh.TargetLinkerd, mtlsName, fmt.Sprintf(`  scope     = "workload"
  namespace = %q
  workload_selector = { app = "web" }
  mode  = %q
  ports = %s
`, ns, mode, ports))
	}
	first := config("PERMISSIVE", `[{ port = 8080, mode = "PERMISSIVE" }]`)
	server8080 := mtlsKey("policy.linkerd.io/v1beta3", "Server", ns, mtlsName+"-8080")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{
			{Config: first},
			{
				Config:      config("STRICT", `[{ port = 8080, mode = "STRICT" }, { port = 9090, mode = "STRICT" }]`),
				ExpectError: regexp.MustCompile(`(?s)rolled back.*Server/` + ns + `/` + mtlsName + `-9090`),
			},
			{
				// State still holds revision 1, and the cluster matches it.
				Config: first,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mtlsAddress, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
				},
				Check: func(*terraform.State) error {
					policy, _, _ := unstructured.NestedString(liveObject(t, server8080).Object, "spec", "accessPolicy")
					if policy != "all-unauthenticated" {
						return fmt.Errorf("Server 8080 has accessPolicy %q after rollback, want revision 1's all-unauthenticated", policy)
					}
					return objectsGone(t, mtlsKey("policy.linkerd.io/v1beta3", "Server", ns, mtlsName+"-9090"))
				},
			},
		},
	})
}
