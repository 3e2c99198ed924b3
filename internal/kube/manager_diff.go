package kube

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Diff reports what Apply would do with the same arguments, using dry-run
// applies only: Created, Configured or Unchanged per desired object, then
// Deleted per object Apply would prune. It changes nothing.
func (m *Manager) Diff(ctx context.Context, desired []*unstructured.Unstructured, opts ApplyOptions) (ChangeSet, error) {
	if err := m.requireOwnerLabel(); err != nil {
		return nil, err
	}
	prune := pruned(opts.Previous, desired)
	live, err := m.getLive(ctx, idsOf(desired, prune))
	if err != nil {
		return nil, err
	}
	if err := m.checkReplaced(desired, prune, live, opts.UIDs); err != nil {
		return nil, err
	}
	previous := byID(opts.Previous)
	interrupted := m.interruptedCreate(desired, live, previous)
	var cs ChangeSet
	for _, obj := range desired {
		id := IDOf(obj)
		action, err := m.plan(ctx, obj, live[id], opts.Owner, previous[id] != nil, interrupted)
		if err != nil {
			return cs, err
		}
		cs = append(cs, Change{ID: id, Action: action})
	}
	for _, obj := range prune {
		if id := IDOf(obj); m.owners().prunable(obj, live[id], opts.Owner) {
			cs = append(cs, Change{ID: id, Action: Deleted})
		}
	}
	return cs, nil
}
