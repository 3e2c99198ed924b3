package kube

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// fieldConflict is one field another manager holds that our apply would change.
type fieldConflict struct {
	Manager   string
	Operation metav1.ManagedFieldsOperationType
	Field     string
}

// conflictsOf returns the field conflicts of a server-side apply error, or
// false when err is not an apply conflict.
//
// The API server prints an Update manager as `"name" using v1 [at time]` and an
// Apply manager as just `"name"`, so the cause tells which kind of owner
// holds the field. When a message cannot be parsed, the live object's
// managedFields decide.
func conflictsOf(err error, live *unstructured.Unstructured) ([]fieldConflict, bool) {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || !apierrors.IsConflict(err) {
		return nil, false
	}
	var out []fieldConflict
	if d := status.Status().Details; d != nil {
		for _, c := range d.Causes {
			if c.Type != metav1.CauseTypeFieldManagerConflict {
				continue
			}
			name, op := parseConflictManager(c.Message)
			if op == "" {
				op = liveOperation(live, name)
			}
			out = append(out, fieldConflict{Manager: name, Operation: op, Field: c.Field})
		}
	}
	return out, len(out) > 0
}

// parseConflictManager reads `conflict with "name"[ with subresource "s"][ using v1[ at t]]`.
// op is "" when the message does not have that shape.
func parseConflictManager(msg string) (name string, op metav1.ManagedFieldsOperationType) {
	rest, ok := strings.CutPrefix(msg, "conflict with ")
	if !ok {
		return msg, ""
	}
	quoted, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return rest, ""
	}
	name, _ = strconv.Unquote(quoted)
	if strings.Contains(rest[len(quoted):], " using ") {
		return name, metav1.ManagedFieldsOperationUpdate
	}
	return name, metav1.ManagedFieldsOperationApply
}

// liveOperation is the operation of manager's entry on live; Apply wins when
// it has both, because forcing over a declarative owner is never safe.
func liveOperation(live *unstructured.Unstructured, manager string) metav1.ManagedFieldsOperationType {
	op := metav1.ManagedFieldsOperationApply
	if live == nil {
		return op
	}
	for _, e := range live.GetManagedFields() {
		if e.Manager != manager {
			continue
		}
		if e.Operation == metav1.ManagedFieldsOperationApply {
			return e.Operation
		}
		op = e.Operation
	}
	return op
}

// declarativeConflict returns a ConflictError for the conflicts held by
// other Apply managers, or nil when every conflict is an imperative edit
// (kubectl edit/patch, client-side apply) that Terraform should revert.
func declarativeConflict(id ID, conflicts []fieldConflict, err error) *ConflictError {
	var ce *ConflictError
	for _, c := range conflicts {
		if c.Operation != metav1.ManagedFieldsOperationApply {
			continue
		}
		if ce == nil {
			ce = &ConflictError{ID: id, Err: err}
		}
		if !slices.Contains(ce.Managers, c.Manager) {
			ce.Managers = append(ce.Managers, c.Manager)
		}
		ce.Fields = append(ce.Fields, c.Field)
	}
	return ce
}
