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
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// TestAccTrafficSplit_RollbackOnFailedUpdate makes the second object of an
// update fail after the first was applied: an admission policy rejects
// VirtualServices with a weight of 77, but lets dry runs through, so the
// failure comes midway through the real apply. The provider must put the
// cluster back to the revision in state, say so, and keep that state.
func TestAccTrafficSplit_RollbackOnFailedUpdate(t *testing.T) {
	f := newSplitFixture(t, mesh.TargetIstioSidecar)
	rejectWeight77(t, f.ns)
	drKey := f.keys[0]
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{
			{Config: f.config(90, 10)},
			{
				// The DestinationRule gains a subset (applied first), then the
				// VirtualService is rejected.
				Config:      f.configWithCanarySubset(77, 23),
				ExpectError: regexp.MustCompile(`(?s)rolled back.*VirtualService/` + f.ns + `/` + splitName),
			},
			{
				// State still holds revision 1, and the cluster matches it.
				Config: f.config(90, 10),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(splitAddress, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
				},
				Check: func(*terraform.State) error {
					id, _ := kube.ParseKey(drKey)
					subsets, _, _ := unstructured.NestedSlice(getObject(t, id).Object, "spec", "subsets")
					if len(subsets) != 2 {
						return fmt.Errorf("DestinationRule has %d subsets after rollback, want the 2 of revision 1", len(subsets))
					}
					return expectWeights(f.liveWeights(t), 90, 10)
				},
			},
		},
	})
}

// configWithCanarySubset is config with a third subset (v3 = canary) in the
// DestinationRule, routed at weight 0, so that the update changes both objects.
func (f splitFixture) configWithCanarySubset(v1, v2 int) string {
	return providerConfig(string(f.target)) + fmt.Sprintf(`
resource "mesh_traffic_split" "test" {
  name      = %q
  namespace = %q
  service   = "reviews"
  port      = 9080
  backends  = [
    { subset_labels = { version = "v1" }, weight = %d },
    { subset_labels = { version = "v2" }, weight = %d },
    { subset_labels = { version = "v3" }, weight = 0 },
  ]
  match_routes = [{
    headers  = [{ name = "x-user-group", value = "beta" }]
    backends = [{ subset_labels = { version = "v2" } }]
  }]
}
`, splitName, f.ns, v1, v2)
}

// rejectWeight77 installs a ValidatingAdmissionPolicy, bound to ns, that
// denies real (not dry-run) writes of a VirtualService with a weight of 77.
func rejectWeight77(t *testing.T, ns string) {
	t.Helper()
	cs, _ := clients(t)
	name := "reject-weight-77-" + ns
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
					Rule: admissionv1.Rule{APIGroups: []string{"networking.istio.io"}, APIVersions: []string{"*"},
						Resources: []string{"virtualservices"}},
				},
			}}},
			Validations: []admissionv1.Validation{{
				Expression: `request.dryRun == true || !has(object.spec.http) || object.spec.http.all(h, !has(h.route) || h.route.all(r, !has(r.weight) || r.weight != 77))`,
				Message:    "weight 77 is rejected by the test policy",
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
	waitPolicyActive(t, ns)
}

// waitPolicyActive waits until the policy denies a probe object: admission
// policies take effect asynchronously.
func waitPolicyActive(t *testing.T, ns string) {
	t.Helper()
	probe := `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: policy-probe}
spec:
  hosts: [probe]
  http: [{route: [{destination: {host: a}, weight: 77}, {destination: {host: b}, weight: 23}]}]
`
	obj, err := decodeYAML(probe)
	if err != nil {
		t.Fatal(err)
	}
	_, dyn := clients(t)
	id := kube.IDOf(obj)
	res := dyn.Resource(gvr(t, id)).Namespace(ns)
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

func ptr[T any](v T) *T { return &v }

// An object of the split's name that another tool created is never taken
// over silently: the plan stops, names it, and says how to adopt it. (The
// engine refuses such objects at apply too: internal/kube's tests.)
func TestAccTrafficSplit_RefusesUnmanagedObject(t *testing.T) {
	f := newSplitFixture(t, mesh.TargetIstioSidecar)
	createObject(t, f.ns, `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: `+splitName+`}
spec:
  host: reviews
  subsets: [{name: legacy, labels: {version: v0}}]
`)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{{
			Config:      f.config(90, 10),
			ExpectError: regexp.MustCompile(`MESH-TS-005[\s\S]*DestinationRule\s+` + f.ns + `/` + splitName + `\s+\(unmanaged\)[\s\S]*Adopt\s+it\s+with\s+terraform\s+import`),
		}},
	})
	id, _ := kube.ParseKey(f.keys[0])
	if got := getObject(t, id).GetLabels(); len(got) != 0 {
		t.Errorf("the unmanaged DestinationRule was changed: labels %v", got)
	}
}

// Objects another tool created are imported by the route's namespace/name;
// the next apply takes them over (adding the provider's labels) and the plan
// after it is empty. (A DestinationRule of another name for the same host is
// refused at plan, MESH-TS-005: see the preflight tests.)
func TestAccTrafficSplit_ImportUnmanaged(t *testing.T) {
	f := newSplitFixture(t, mesh.TargetIstioSidecar)
	createObject(t, f.ns, `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: `+splitName+`}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`)
	createObject(t, f.ns, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: `+splitName+`}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {x-user-group: {exact: beta}}}]
    route: [{destination: {host: reviews, subset: v2, port: {number: 9080}}}]
  - route:
    - {destination: {host: reviews, subset: v1, port: {number: 9080}}, weight: 90}
    - {destination: {host: reviews, subset: v2, port: {number: 9080}}, weight: 10}
`)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:             f.config(90, 10),
				ResourceName:       splitAddress,
				ImportState:        true,
				ImportStateId:      f.ns + "/" + splitName,
				ImportStatePersist: true,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					attrs := states[0].Attributes
					want := map[string]string{
						"service": "reviews", "port": "9080", "target": "istio-sidecar",
						"backends.0.weight": "90", "backends.1.subset_labels.version": "v2",
						"match_routes.0.headers.0.name": "x-user-group",
					}
					for k, v := range want {
						if attrs[k] != v {
							return fmt.Errorf("imported %s = %q, want %q", k, attrs[k], v)
						}
					}
					return nil
				},
			},
			{
				Config: f.config(90, 10),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(splitAddress, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error { return f.checkOwned(t) },
			},
		},
	})
}
