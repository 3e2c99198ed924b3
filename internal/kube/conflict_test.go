package kube

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

var vsID = ID{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService", Namespace: "shop", Name: "reviews"}

// applyConflict builds the error the API server returns, with causes in the
// format of k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go.
func applyConflict(causes ...metav1.StatusCause) error {
	for i := range causes {
		causes[i].Type = metav1.CauseTypeFieldManagerConflict
	}
	return apierrors.NewApplyConflict(causes, "Apply failed with conflicts")
}

func TestConflictClassification(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		live      *unstructured.Unstructured
		want      []fieldConflict
		wantForce bool // no declarative owner among them
	}{{
		name: "kubectl edit is an imperative edit",
		err:  applyConflict(metav1.StatusCause{Message: `conflict with "kubectl-edit" using networking.istio.io/v1`, Field: ".spec.http"}),
		want: []fieldConflict{{Manager: "kubectl-edit", Operation: "Update", Field: ".spec.http"}},

		wantForce: true,
	}, {
		name: "update with time and subresource",
		err:  applyConflict(metav1.StatusCause{Message: `conflict with "kubectl-patch" with subresource "scale" using apps/v1 at 2025-01-01T00:00:00Z`, Field: ".spec.replicas"}),
		want: []fieldConflict{{Manager: "kubectl-patch", Operation: "Update", Field: ".spec.replicas"}},

		wantForce: true,
	}, {
		name: "kubectl apply --server-side is a declarative owner",
		err: applyConflict(
			metav1.StatusCause{Message: `conflict with "kubectl-edit" using networking.istio.io/v1`, Field: ".spec.http"},
			metav1.StatusCause{Message: `conflict with "kubectl"`, Field: ".spec.hosts"},
		),
		want: []fieldConflict{
			{Manager: "kubectl-edit", Operation: "Update", Field: ".spec.http"},
			{Manager: "kubectl", Operation: "Apply", Field: ".spec.hosts"},
		},
	}, {
		name: "unparseable message falls back to live managedFields",
		err:  applyConflict(metav1.StatusCause{Message: `something new`, Field: ".spec.http"}),
		live: withManagedFields(metav1.ManagedFieldsEntry{Manager: "something new", Operation: "Update"}),
		want: []fieldConflict{{Manager: "something new", Operation: "Update", Field: ".spec.http"}},

		wantForce: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := conflictsOf(tt.err, tt.live)
			if !ok {
				t.Fatal("not recognised as an apply conflict")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("conflicts (-want +got):\n%s", diff)
			}
			ce := declarativeConflict(vsID, got, tt.err)
			if force := ce == nil; force != tt.wantForce {
				t.Errorf("force = %v, want %v (ConflictError %v)", force, tt.wantForce, ce)
			}
		})
	}
}

func TestConflictsOfIgnoresOtherErrors(t *testing.T) {
	for _, err := range []error{
		errors.New("boom"),
		apierrors.NewConflict(vsID.GroupVersionKind().GroupVersion().WithResource("virtualservices").GroupResource(), "reviews", errors.New("the object has been modified")),
		apierrors.NewBadRequest("strict decoding error: unknown field \"spec.bogus\""),
	} {
		if c, ok := conflictsOf(err, nil); ok {
			t.Errorf("conflictsOf(%v) = %v, want no conflict", err, c)
		}
	}
}

func TestLiveOperationPrefersApply(t *testing.T) {
	live := withManagedFields(
		metav1.ManagedFieldsEntry{Manager: "argocd", Operation: "Update"},
		metav1.ManagedFieldsEntry{Manager: "argocd", Operation: "Apply"},
	)
	if got := liveOperation(live, "argocd"); got != metav1.ManagedFieldsOperationApply {
		t.Errorf("liveOperation = %q, want Apply", got)
	}
	if got := liveOperation(nil, "unknown"); got != metav1.ManagedFieldsOperationApply {
		t.Errorf("unknown manager: liveOperation = %q, want Apply (never force blind)", got)
	}
}

func withManagedFields(entries ...metav1.ManagedFieldsEntry) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetManagedFields(entries)
	return u
}
