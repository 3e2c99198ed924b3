package kube

import (
	"context"
	"errors"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// RollbackBudget bounds a rollback. It runs on a context detached from the
// apply's, because the most common causes of a rollback (a readiness wait or
// an outage that used the resource's timeout, an interrupt) leave that
// context already done; its requests retry within it. A failing apply
// therefore returns within its timeout plus this budget.
const RollbackBudget = 2 * time.Minute

// undo is one object an apply changed; before is nil when the apply created
// it. uncertain marks a write whose outcome is unknown (the connection broke
// after it went out): the rollback looks at the object before undoing it.
type undo struct {
	id        ID
	before    *unstructured.Unstructured
	uncertain bool
}

func (tx *applyTx) changed(id ID, before *unstructured.Unstructured) {
	tx.undo = append(tx.undo, undo{id: id, before: before})
}

func (tx *applyTx) mayHaveChanged(id ID, before *unstructured.Unstructured) {
	tx.undo = append(tx.undo, undo{id: id, before: before, uncertain: true})
}

// rollback puts back every object the apply changed, newest first, and
// returns the RollbackError that wraps cause. With nothing changed there is
// nothing to roll back and cause is returned as is. Each step retries within
// the rollback's own budget; a step that still fails leaves its object
// changed, and the error names it.
func (tx *applyTx) rollback(ctx context.Context, cause error) error {
	if len(tx.undo) == 0 {
		return cause
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RollbackBudget)
	defer cancel()
	deadline, _ := ctx.Deadline()
	ctx = WithRetryDeadline(ctx, deadline)
	re := &RollbackError{Cause: cause}
	var deleted []ID
	for i := len(tx.undo) - 1; i >= 0; i-- {
		u := tx.undo[i]
		if u.uncertain {
			same, err := tx.unchanged(ctx, u)
			if err != nil {
				re.fail(u.id, err)
				continue
			}
			if same {
				continue // the write never landed
			}
		}
		if u.before == nil {
			if tx.takenOverBy(ctx, u.id) {
				re.TakenOver = append(re.TakenOver, u.id)
				continue
			}
			if err := tx.m.deleteObject(ctx, u.id, metav1.DeletePropagationBackground, nil); err != nil {
				re.fail(u.id, err)
				continue
			}
			deleted = append(deleted, u.id)
			re.Removed = append(re.Removed, u.id)
			continue
		}
		restored, err := tx.restore(ctx, u)
		if err != nil {
			re.fail(u.id, err)
			continue
		}
		re.Restored = append(re.Restored, u.id)
		if !tx.m.owners().shared(restored) {
			if re.UIDs == nil {
				re.UIDs = map[ID]types.UID{}
			}
			re.UIDs[u.id] = restored.GetUID()
		}
	}
	if len(deleted) > 0 {
		if err := tx.m.waitGone(ctx, deleted); err != nil {
			re.RollbackErr = errors.Join(re.RollbackErr, err)
			re.Removed = nil
			re.LeftChanged = append(re.LeftChanged, deleted...)
		}
	}
	if len(re.Restored) == 0 && len(re.Removed) == 0 && re.RollbackErr == nil {
		return cause // nothing had changed after all
	}
	return re
}

func (re *RollbackError) fail(id ID, err error) {
	re.LeftChanged = append(re.LeftChanged, id)
	re.RollbackErr = errors.Join(re.RollbackErr, err)
}

// unchanged reports whether the object of an uncertain write is still as the
// apply found it: absent if it was, else at the same resourceVersion.
func (tx *applyTx) unchanged(ctx context.Context, u undo) (bool, error) {
	res, err := tx.m.resourceFor(ctx, u.id)
	if err != nil {
		return false, err
	}
	tx.m.cache.forget(u.id)
	live, err := tx.m.get(ctx, res, u.id)
	if err != nil {
		return false, err
	}
	switch {
	case u.before == nil:
		return live == nil, nil
	case live == nil:
		return false, nil
	}
	return live.GetResourceVersion() == u.before.GetResourceVersion(), nil
}

// restore force-applies the previous revision from Terraform state or, for
// an object state does not hold, the fields we owned before this apply
// (which also re-creates an object the apply pruned).
func (tx *applyTx) restore(ctx context.Context, u undo) (*unstructured.Unstructured, error) {
	obj := tx.previous[u.id]
	if obj == nil {
		var err error
		if obj, err = ownedView(u.before, tx.m.FieldManager()); err != nil {
			return nil, err
		}
	}
	restored, err := tx.m.patch(ctx, obj, true, false)
	if err != nil {
		return nil, applyError(u.id, "restore", err, nil)
	}
	return restored, nil
}
