package provider

import (
	"context"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
)

// rejectRealWrites makes the API server refuse, in namespace ns, real (not
// dry-run) writes of group/resource objects for which allow (a CEL
// expression over object) is false: a failure that strikes midway through
// an apply, after the dry runs passed. probe is an object (YAML, without
// namespace) that allow rejects; admission policies take effect
// asynchronously, so this returns once the probe is refused.
func rejectRealWrites(t *testing.T, ns, name, group, resource, allow, probe string) {
	t.Helper()
	cs, _ := clients(t)
	name += "-" + ns
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
					Rule:       admissionv1.Rule{APIGroups: []string{group}, APIVersions: []string{"*"}, Resources: []string{resource}},
				},
			}}},
			Validations: []admissionv1.Validation{{
				Expression: "request.dryRun == true || (" + allow + ")",
				Message:    "rejected by the test policy " + name,
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
	waitRefused(t, ns, probe)
}

// waitRefused waits, with backoff, until creating probe in ns is refused.
func waitRefused(t *testing.T, ns, probe string) {
	t.Helper()
	obj, err := decodeYAML(probe)
	if err != nil {
		t.Fatal(err)
	}
	obj.SetNamespace(ns)
	res := resourceOf(t, kube.IDOf(obj))
	backoff := wait.Backoff{Duration: 50 * time.Millisecond, Factor: 1.5, Steps: 20, Cap: 2 * time.Second}
	err = wait.ExponentialBackoffWithContext(ctx, backoff, func(context.Context) (bool, error) {
		_, err := res.Create(ctx, obj, metav1.CreateOptions{})
		if err == nil {
			return false, res.Delete(ctx, obj.GetName(), metav1.DeleteOptions{})
		}
		return apierrors.IsInvalid(err) || apierrors.IsForbidden(err), nil
	})
	if err != nil {
		t.Fatalf("the admission policy never took effect: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }
