package kube

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func assertContains(t *testing.T, msg string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q does not contain %q", msg, w)
		}
	}
}

func TestRollbackErrorMessage(t *testing.T) {
	drID := ID{Group: "networking.istio.io", Version: "v1", Kind: "DestinationRule", Namespace: "shop", Name: "reviews"}
	cause := &ObjectError{ID: drID, Op: "apply", Err: apierrors.NewBadRequest(`strict decoding error: unknown field "spec.bogus"`)}
	err := error(&RollbackError{Cause: cause, Restored: []ID{vsID}, Removed: []ID{drID}})
	assertContains(t, err.Error(), "DestinationRule/shop/reviews", "unknown field", "rolled back", "restored VirtualService/shop/reviews")
	if id, ok := ObjectOf(err); !ok || id != drID {
		t.Errorf("ObjectOf = %v, %v; want the failing object %v", id, ok, drID)
	}
	if !apierrors.IsBadRequest(err) {
		t.Error("a RollbackError must unwrap to the API error")
	}

	failed := &RollbackError{Cause: cause, Restored: []ID{drID}, LeftChanged: []ID{vsID}, RollbackErr: errors.New("connection refused")}
	assertContains(t, failed.Error(), "apply DestinationRule/shop/reviews", "could not be rolled back: VirtualService/shop/reviews left changed by this apply",
		"connection refused", "the rest was rolled back (restored DestinationRule/shop/reviews)")
}

func TestConflictErrorMessage(t *testing.T) {
	err := declarativeConflict(vsID, []fieldConflict{
		{Manager: "kubectl", Operation: "Apply", Field: ".spec.http"},
		{Manager: "kubectl", Operation: "Apply", Field: ".spec.hosts"},
		{Manager: "kubectl-edit", Operation: "Update", Field: ".spec.gateways"},
	}, errors.New("409"))
	assertContains(t, err.Error(), "VirtualService/shop/reviews", `"kubectl"`, ".spec.http", ".spec.hosts")
	if strings.Contains(err.Error(), "kubectl-edit") {
		t.Errorf("an imperative editor is not the conflict: %q", err)
	}
}

func TestForeignObjectErrorMessage(t *testing.T) {
	unlabelled := &ForeignObjectError{ID: vsID, Want: "mesh_traffic_split.shop.reviews"}
	assertContains(t, unlabelled.Error(), "VirtualService/shop/reviews", "terraform import", `"shop/reviews"`)
	other := &ForeignObjectError{ID: vsID, Label: "example.com/owner", Owner: "mesh_traffic_split.shop.other", Want: "mesh_traffic_split.shop.reviews"}
	assertContains(t, other.Error(), "mesh_traffic_split.shop.other", "mesh_traffic_split.shop.reviews", "(label example.com/owner)")
}

func TestUnknownKindErrorMessage(t *testing.T) {
	err := &UnknownKindError{ID: vsID, Err: errors.New("no matches for kind")}
	assertContains(t, err.Error(), "VirtualService", "networking.istio.io/v1", "CustomResourceDefinition is missing")
}

func TestWaitErrorMessage(t *testing.T) {
	err := &WaitError{For: "ready", Err: errors.New("timed out"), Pending: []ObjectStatus{
		{ID: vsID, Status: "InProgress", Message: "Deployment not Available"},
	}}
	assertContains(t, err.Error(), "VirtualService/shop/reviews is InProgress: Deployment not Available", "timed out")
}

// A write whose answer came back did not land unless it says so; one whose
// connection broke after sending may have.
func TestMayHaveLanded(t *testing.T) {
	gr := schema.GroupResource{Group: "networking.istio.io", Resource: "virtualservices"}
	for err, want := range map[error]bool{
		apierrors.NewTooManyRequests("slow down", 1):                           false,
		apierrors.NewServiceUnavailable("restarting"):                          false,
		apierrors.NewInternalError(errors.New("failed calling webhook")):       false,
		apierrors.NewGenericServerResponse(502, "patch", gr, "", "", 0, false): false,
		apierrors.NewBadRequest("strict decoding error"):                       false,
		&OutageError{Sent: false, Err: syscall.ECONNREFUSED}:                   false,
		&OutageError{Sent: true, Err: syscall.ECONNRESET}:                      true,
		errors.New("read tcp: connection reset by peer"):                       true,
		context.Canceled: true,
		&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}: false,
	} {
		if got := mayHaveLanded(err); got != want {
			t.Errorf("mayHaveLanded(%v) = %v, want %v", err, got, want)
		}
	}
}

// TestWritesNeedAnOwnerLabel: without Options.OwnerLabel every object would
// count as someone else's, so Apply, Diff and Delete refuse to run.
func TestWritesNeedAnOwnerLabel(t *testing.T) {
	m := &Manager{}
	for name, err := range map[string]error{
		"Apply":  func() error { _, err := m.Apply(t.Context(), nil, ApplyOptions{}); return err }(),
		"Diff":   func() error { _, err := m.Diff(t.Context(), nil, ApplyOptions{}); return err }(),
		"Delete": func() error { _, err := m.Delete(t.Context(), nil, DeleteOptions{}); return err }(),
	} {
		if err == nil || !strings.Contains(err.Error(), "Options.OwnerLabel is not set") {
			t.Errorf("%s without an owner label: %v", name, err)
		}
	}
}
