package kube

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// Read returns, for each object that exists, the fields our field manager
// owns on it (plus apiVersion, kind, name and namespace). That is what
// Terraform compares with its state: equal when nobody touched our fields,
// different (or missing a field) after an out-of-band edit. Absent objects
// are missing from the map. More than a few objects of one kind in one
// namespace are fetched with one List instead of a GET each.
func (m *Manager) Read(ctx context.Context, ids []ID) (map[ID]*unstructured.Unstructured, error) {
	out, _, err := m.ReadWithUIDs(ctx, ids)
	return out, err
}

// ReadWithUIDs is Read that also returns each live object's uid (which the
// owned fields do not include), for ApplyOptions.UIDs.
func (m *Manager) ReadWithUIDs(ctx context.Context, ids []ID) (map[ID]*unstructured.Unstructured, map[ID]types.UID, error) {
	live, err := m.readLive(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[ID]*unstructured.Unstructured, len(live))
	uids := make(map[ID]types.UID, len(live))
	for id, obj := range live {
		if out[id], err = ownedView(obj, m.FieldManager()); err != nil {
			return nil, nil, &ObjectError{ID: id, Op: "read", Err: err}
		}
		uids[id] = obj.GetUID()
	}
	return out, uids, nil
}

// ReadOne is Read for one object; it returns nil, nil when the object does
// not exist.
func (m *Manager) ReadOne(ctx context.Context, id ID) (*unstructured.Unstructured, error) {
	objs, err := m.Read(ctx, []ID{id})
	return objs[id], err
}
