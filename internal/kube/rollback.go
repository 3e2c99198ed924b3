package kube

import (
	"context"
	"errors"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// rollbackTimeout bounds a rollback. It runs on a context detached from the
// apply's, because the most common cause of a rollback (a readiness wait
// hitting the resource's timeout) leaves that context already done.
const rollbackTimeout = 2 * time.Minute

// undo is one object an apply changed; before is nil when the apply created it.
type undo struct {
	id     ID
	before *unstructured.Unstructured
}

func (tx *applyTx) changed(id ID, before *unstructured.Unstructured) {
	tx.undo = append(tx.undo, undo{id: id, before: before})
}

// rollback puts back every object the apply changed, newest first, and
// returns the RollbackError that wraps cause. With nothing changed there is
// nothing to roll back and cause is returned as is.
func (tx *applyTx) rollback(ctx context.Context, cause error) error {
	if len(tx.undo) == 0 {
		return cause
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	re := &RollbackError{Cause: cause}
	var errs []error
	for i := len(tx.undo) - 1; i >= 0; i-- {
		u := tx.undo[i]
		if u.before == nil {
			errs = append(errs, tx.m.deleteObject(ctx, u.id, metav1.DeletePropagationBackground, nil))
			re.Removed = append(re.Removed, u.id)
			continue
		}
		errs = append(errs, tx.restore(ctx, u))
		re.Restored = append(re.Restored, u.id)
	}
	if len(re.Removed) > 0 {
		errs = append(errs, tx.m.waitGone(ctx, re.Removed))
	}
	re.RollbackErr = errors.Join(errs...)
	return re
}

// restore force-applies the previous revision from Terraform state or, for
// an object state does not hold, the fields we owned before this apply
// (which also re-creates an object the apply pruned).
func (tx *applyTx) restore(ctx context.Context, u undo) error {
	obj := tx.previous[u.id]
	if obj == nil {
		var err error
		if obj, err = ownedView(u.before, tx.m.FieldManager()); err != nil {
			return err
		}
	}
	if _, err := tx.m.patch(ctx, obj, true, false); err != nil {
		return applyError(u.id, "restore", err, nil)
	}
	return nil
}
