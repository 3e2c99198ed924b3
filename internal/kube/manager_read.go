package kube

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Read returns, for each object that exists, the fields our field manager
// owns on it (plus apiVersion, kind, name and namespace). That is what
// Terraform compares with its state: equal when nobody touched our fields,
// different (or missing a field) after an out-of-band edit. Absent objects
// are missing from the map. More than a few objects of one kind in one
// namespace are fetched with one List instead of a GET each.
func (m *Manager) Read(ctx context.Context, ids []ID) (map[ID]*unstructured.Unstructured, error) {
	live, err := m.readLive(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[ID]*unstructured.Unstructured, len(live))
	for id, obj := range live {
		if out[id], err = ownedView(obj, m.FieldManager()); err != nil {
			return nil, &ObjectError{ID: id, Op: "read", Err: err}
		}
	}
	return out, nil
}

// ReadOne is Read for one object; it returns nil, nil when the object does
// not exist.
func (m *Manager) ReadOne(ctx context.Context, id ID) (*unstructured.Unstructured, error) {
	objs, err := m.Read(ctx, []ID{id})
	return objs[id], err
}
