package kube

import (
	"context"
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// DeleteOptions configure Delete.
type DeleteOptions struct {
	// Owner is the owner label value the objects must carry; "" trusts the
	// label of each object passed in.
	Owner string
	// PropagationPolicy for owned objects.
	PropagationPolicy metav1.DeletionPropagation
	// Wait waits until every deleted object is gone, so that a following
	// create of the same name does not race a terminating object.
	Wait bool
	// UIDs are the uids the resource recorded for its owned objects (see
	// ApplyOptions.UIDs). A live object of one of those names with another
	// uid is someone else's now: Delete leaves it (Change.Replaced).
	UIDs map[ID]types.UID
}

// DefaultDeleteOptions deletes in the background and waits until gone.
func DefaultDeleteOptions() DeleteOptions {
	return DeleteOptions{PropagationPolicy: metav1.DeletePropagationBackground, Wait: true}
}

// Delete removes objs in reverse order: owned objects are deleted, shared
// ones only lose the fields we own. Absent objects are Unchanged. It keeps
// going past a failure, so one stuck object does not keep the others alive,
// and returns every error.
func (m *Manager) Delete(ctx context.Context, objs []*unstructured.Unstructured, opts DeleteOptions) (ChangeSet, error) {
	if err := m.requireOwnerLabel(); err != nil {
		return nil, err
	}
	live, err := m.getLive(ctx, idsOf(objs))
	if err != nil {
		return nil, err
	}
	var cs ChangeSet
	var gone []ID
	var errs []error
	for i := len(objs) - 1; i >= 0; i-- {
		c, err := m.deleteOne(ctx, objs[i], live[IDOf(objs[i])], opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cs = append(cs, c)
		if c.Action == Deleted && !m.owners().shared(objs[i]) {
			gone = append(gone, c.ID)
		}
	}
	if opts.Wait && len(gone) > 0 {
		errs = append(errs, m.waitGone(ctx, gone))
	}
	return cs, errors.Join(errs...)
}

func (m *Manager) deleteOne(ctx context.Context, obj, live *unstructured.Unstructured, opts DeleteOptions) (Change, error) {
	id := IDOf(obj)
	switch {
	case live == nil:
		return Change{ID: id, Action: Unchanged}, nil
	case m.owners().shared(obj):
		return Change{ID: id, Action: Deleted}, m.release(ctx, id)
	}
	want, err := m.owners().want(obj, opts.Owner)
	if err != nil {
		return Change{}, err
	}
	if m.replaced(obj, live, opts.UIDs) != nil {
		return Change{ID: id, Action: Unchanged, Replaced: true}, nil
	}
	if got := live.GetLabels()[m.opts.OwnerLabel]; got != want {
		return Change{}, &ForeignObjectError{ID: id, Label: m.opts.OwnerLabel, Owner: got, Want: want}
	}
	return Change{ID: id, Action: Deleted}, m.deleteObject(ctx, id, opts.PropagationPolicy, live)
}

// deleteObject deletes id; already gone is success. With live given, the
// delete is conditional on its UID, so that an object someone re-created
// since we looked is not deleted by mistake.
func (m *Manager) deleteObject(ctx context.Context, id ID, policy metav1.DeletionPropagation, live *unstructured.Unstructured) error {
	res, err := m.resourceFor(ctx, id)
	if err != nil {
		return err
	}
	opts := metav1.DeleteOptions{PropagationPolicy: &policy}
	if live != nil {
		uid := live.GetUID()
		opts.Preconditions = &metav1.Preconditions{UID: &uid}
	}
	err = res.Delete(ctx, id.Name, opts)
	if err != nil && !apierrors.IsNotFound(err) {
		m.cache.forget(id)
		return &ObjectError{ID: id, Op: "delete", Err: err}
	}
	m.cache.wrote(id, nil)
	return nil
}
