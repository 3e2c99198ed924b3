package kube

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/types"
)

// ObjectError is a failure on one object. It unwraps to the API error.
type ObjectError struct {
	ID  ID
	Op  string // "apply", "dry-run apply", "get", "delete", "wait"
	Err error
}

func (e *ObjectError) Error() string { return fmt.Sprintf("%s %s: %v", e.Op, e.ID, e.Err) }
func (e *ObjectError) Unwrap() error { return e.Err }

// ConflictError is a server-side apply conflict with another field manager
// that applies the same fields declaratively.
type ConflictError struct {
	ID       ID
	Managers []string // the other field managers, e.g. "kubectl"
	Fields   []string // the conflicting field paths, as the API server names them
	Err      error
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s: field manager(s) %s also manage %s. Remove those fields from the other tool's configuration, or delete the object so that this provider can own it",
		e.ID, quoteAll(e.Managers), strings.Join(e.Fields, ", "))
}
func (e *ConflictError) Unwrap() error { return e.Err }

// ForeignObjectError refuses to take over an object that exists without this
// resource's owner label.
type ForeignObjectError struct {
	ID ID
	// Label is the owner label's key (Options.OwnerLabel).
	Label string
	// Owner is the owner label the object carries ("" when it has none).
	Owner string
	// Want is the owner label this apply would have set.
	Want string
	// Committed: the object carries this apply's owner label, but another
	// resource instance created it (it is in none of this one's state).
	Committed bool
}

func (e *ForeignObjectError) Error() string {
	if e.Committed {
		return fmt.Sprintf("%s already exists with this resource's owner label (%s=%s), but this resource's Terraform state does not record it: another resource instance with the same type, namespace and name manages it (in another Terraform state or workspace, or in a state that was lost). Remove one of the two, or move it into this state with `terraform import`, so that it is not overwritten and later deleted by surprise",
			e.ID, e.Label, e.Owner)
	}
	if e.Owner == "" {
		return fmt.Sprintf("%s already exists and is not managed by terraform-provider-mesh. Import it with `terraform import` (ID \"%s/%s\"), or delete it, so that it is not overwritten by surprise",
			e.ID, e.ID.Namespace, e.ID.Name)
	}
	return fmt.Sprintf("%s already exists and belongs to %s (label %s), not %s. Two resources cannot manage one object: remove one of them",
		e.ID, e.Owner, e.Label, e.Want)
}

// ReplacedObjectError is returned for an owned object whose uid is not the
// one the resource recorded (ApplyOptions.UIDs): the object it created was
// deleted, and this one created in its place outside the resource.
type ReplacedObjectError struct {
	ID            ID
	UID, Recorded types.UID
}

func (e *ReplacedObjectError) Error() string {
	return fmt.Sprintf("%s is not the object this resource created: its uid is %s, and Terraform state recorded %s. That object was deleted, and this one created in its place outside this resource (by another Terraform state or workspace, or by hand), so it is neither overwritten nor deleted. If it is this resource's, move it into this state: `terraform state rm` the resource, then `terraform import` it",
		e.ID, e.UID, e.Recorded)
}

// MissingObjectError is returned when an object this provider only adds
// fields to (a Service label, a Namespace annotation) does not exist.
type MissingObjectError struct{ ID ID }

func (e *MissingObjectError) Error() string {
	return fmt.Sprintf("%s does not exist: this provider adds fields to it but never creates it. Create it first", e.ID)
}

// UnknownKindError is returned for an object whose kind the API server does
// not serve, almost always because the mesh's CRDs are not installed.
type UnknownKindError struct {
	ID  ID
	Err error
}

func (e *UnknownKindError) Error() string {
	return fmt.Sprintf("%s: the cluster does not serve kind %s in apiVersion %s: its CustomResourceDefinition is missing (or does not serve this version). Install the mesh's CRDs before applying this resource",
		e.ID, e.ID.Kind, e.ID.APIVersion())
}
func (e *UnknownKindError) Unwrap() error { return e.Err }

// ObjectStatus is the last observed state of an object a wait gave up on.
type ObjectStatus struct {
	ID ID
	// Status is the kstatus status ("InProgress", "Failed", ...), or
	// "NotFound" / "Terminating".
	Status  string
	Message string
}

func (s ObjectStatus) String() string {
	if s.Message == "" {
		return fmt.Sprintf("%s is %s", s.ID, s.Status)
	}
	return fmt.Sprintf("%s is %s: %s", s.ID, s.Status, s.Message)
}

// WaitError is a wait that ended (timeout, or an object Failed) before every
// object reached the wanted state.
type WaitError struct {
	// For is what was awaited: "ready" or "deleted".
	For     string
	Pending []ObjectStatus
	Err     error
}

func (e *WaitError) Error() string {
	s := make([]string, len(e.Pending))
	for i, p := range e.Pending {
		s[i] = p.String()
	}
	return fmt.Sprintf("waiting for %d object(s) to be %s: %v: %s", len(e.Pending), e.For, e.Err, strings.Join(s, "; "))
}
func (e *WaitError) Unwrap() error { return e.Err }

// RollbackError reports an apply that failed and what its rollback did.
type RollbackError struct {
	// Cause is the failure that started the rollback; it names the object.
	Cause error
	// Restored lists objects put back to their previous revision, Removed
	// those this apply had created and then deleted.
	Restored, Removed []ID
	// LeftChanged lists the objects the rollback could not put back: the
	// cluster holds this apply's version of them (or part of it).
	LeftChanged []ID
	// TakenOver lists objects this create wrote that another create of the
	// same resource adopted meanwhile (TakenOverError): the rollback leaves
	// them to it, and they are not this resource's to record.
	TakenOver []ID
	// RollbackErr is set when the rollback itself failed (for LeftChanged).
	RollbackErr error
	// UIDs are the uids of the owned objects the rollback put back, which
	// differ from the recorded ones where it created a pruned object again.
	UIDs map[ID]types.UID
}

func (e *RollbackError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v. ", e.Cause)
	if e.RollbackErr != nil {
		fmt.Fprintf(&b, "The change could not be rolled back: %s left changed by this apply (%v)", JoinIDs(e.LeftChanged), e.RollbackErr)
		if len(e.Restored)+len(e.Removed) > 0 {
			b.WriteString("; the rest was rolled back")
			e.writeUndone(&b)
		}
		b.WriteString(". Run terraform apply again once the cause is fixed: the next plan shows what differs")
		return b.String()
	}
	b.WriteString("The change was rolled back: every object is at its previous revision")
	e.writeUndone(&b)
	return b.String()
}

func (e *RollbackError) writeUndone(b *strings.Builder) {
	if len(e.TakenOver) > 0 {
		fmt.Fprintf(b, " (left %s to the create that took them over)", JoinIDs(e.TakenOver))
	}
	if len(e.Restored) > 0 {
		fmt.Fprintf(b, " (restored %s)", JoinIDs(e.Restored))
	}
	if len(e.Removed) > 0 {
		fmt.Fprintf(b, " (removed newly created %s)", JoinIDs(e.Removed))
	}
}

func (e *RollbackError) Unwrap() error { return e.Cause }

// TakenOverError is a create's commit finding that an object it wrote now
// carries another create's id: a create of the same resource type,
// namespace and name in another Terraform state or workspace adopted it
// meanwhile, taking it for what a create that died had left. That create
// keeps the objects; this one fails, so that only one state records them.
type TakenOverError struct {
	ID ID
}

func (e *TakenOverError) Error() string {
	return fmt.Sprintf("%s was taken over while this create ran by another create of a resource with the same type, namespace and name (another Terraform state or workspace declares it too), which now holds it. This resource records none of it: declare the resource in one state only, and move it with `terraform import` if this state should manage it", e.ID)
}

// ObjectOf returns the ID carried by err, if any error in its chain names one.
func ObjectOf(err error) (ID, bool) {
	var oe *ObjectError
	if errors.As(err, &oe) {
		return oe.ID, true
	}
	var ce *ConflictError
	if errors.As(err, &ce) {
		return ce.ID, true
	}
	var fe *ForeignObjectError
	if errors.As(err, &fe) {
		return fe.ID, true
	}
	var me *MissingObjectError
	if errors.As(err, &me) {
		return me.ID, true
	}
	var ue *UnknownKindError
	if errors.As(err, &ue) {
		return ue.ID, true
	}
	var we *WaitError
	if errors.As(err, &we) && len(we.Pending) > 0 {
		return we.Pending[0].ID, true
	}
	return ID{}, false
}

// JoinIDs names ids in messages: kind namespace/name, comma separated.
func JoinIDs(ids []ID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, ", ")
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
