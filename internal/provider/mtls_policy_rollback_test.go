package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// TestAccMTLSPolicy_RollbackOnFailedUpdate: an update turns the Server of
// port 8080 STRICT (applied first) and adds one for port 7777, which an
// admission policy rejects on real writes only. The provider must put the
// 8080 Server back to revision 1, say so, and keep that state.
func TestAccMTLSPolicy_RollbackOnFailedUpdate(t *testing.T) {
	testAccPreCheck(t)
	ns := kubetest.Namespace(t, cluster.Config, nil)
	annotateNamespace(t, ns, "linkerd.io/inject", "enabled")
	mtlsPod(t, ns, "web-1", nil, 8080, 7777)
	rejectServerPort7777(t, ns)
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
				Config:      config("STRICT", `[{ port = 8080, mode = "STRICT" }, { port = 7777, mode = "STRICT" }]`),
				ExpectError: regexp.MustCompile(`(?s)rolled back.*Server/` + ns + `/` + mtlsName + `-7777`),
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
					return objectsGone(t, mtlsKey("policy.linkerd.io/v1beta3", "Server", ns, mtlsName+"-7777"))
				},
			},
		},
	})
}

// rejectServerPort7777 installs a ValidatingAdmissionPolicy, bound to ns,
// that denies real (not dry-run) writes of a Linkerd Server on port 7777.
func rejectServerPort7777(t *testing.T, ns string) {
	t.Helper()
	cs, _ := clients(t)
	name := "reject-server-7777-" + ns
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
					Rule: admissionv1.Rule{APIGroups: []string{"policy.linkerd.io"}, APIVersions: []string{"*"},
						Resources: []string{"servers"}},
				},
			}}},
			Validations: []admissionv1.Validation{{
				Expression: `request.dryRun == true || string(object.spec.port) != "7777"`,
				Message:    "port 7777 is rejected by the test policy",
			}},
		},
	}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        name,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
			MatchResources: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns},
			}},
		},
	}
	api := cs.AdmissionregistrationV1()
	if _, err := api.ValidatingAdmissionPolicies().Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.ValidatingAdmissionPolicyBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = api.ValidatingAdmissionPolicyBindings().Delete(ctx, name, metav1.DeleteOptions{})
		_ = api.ValidatingAdmissionPolicies().Delete(ctx, name, metav1.DeleteOptions{})
	})
	waitServerPolicyActive(t, ns)
}

// waitServerPolicyActive waits until the policy denies a probe Server:
// admission policies take effect asynchronously.
func waitServerPolicyActive(t *testing.T, ns string) {
	t.Helper()
	obj, err := decodeYAML(`
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: policy-probe}
spec: {podSelector: {matchLabels: {app: probe}}, port: 7777}
`)
	if err != nil {
		t.Fatal(err)
	}
	obj.SetNamespace(ns)
	res := resourceOf(t, kube.IDOf(obj))
	backoff := wait.Backoff{Duration: 50 * time.Millisecond, Factor: 1.5, Steps: 20, Cap: 2 * time.Second}
	err = wait.ExponentialBackoffWithContext(ctx, backoff, func(context.Context) (bool, error) {
		_, err := res.Create(ctx, obj, metav1.CreateOptions{})
		if err == nil {
			return false, res.Delete(ctx, "policy-probe", metav1.DeleteOptions{})
		}
		return apierrors.IsInvalid(err) || apierrors.IsForbidden(err), nil
	})
	if err != nil {
		t.Fatalf("the admission policy never took effect: %v", err)
	}
}
