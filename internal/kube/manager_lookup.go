package kube

import (
	"context"
	"errors"
	"maps"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The lookups below serve the provider's plan-time checks and import: whole
// live objects, read-only, where a kind the cluster does not serve is an
// answer (nothing there), not a failure.

// Serves reports whether the cluster serves gvk.
func (m *Manager) Serves(ctx context.Context, gvk schema.GroupVersionKind) (bool, error) {
	_, err := m.mapping(ctx, ID{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind})
	var unknown *UnknownKindError
	if errors.As(err, &unknown) {
		return false, nil
	}
	return err == nil, err
}

// Get returns the whole live object, or nil when it or its kind does not exist.
func (m *Manager) Get(ctx context.Context, id ID) (*unstructured.Unstructured, error) {
	if objs, ok, err := m.cachedLookup(ctx, id); ok || err != nil {
		if obj := objs[id.Name]; obj != nil {
			return obj.DeepCopy(), nil
		}
		return nil, err
	}
	res, err := m.resourceFor(ctx, id)
	var unknown *UnknownKindError
	if errors.As(err, &unknown) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	obj, err := res.Get(ctx, id.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, &ObjectError{ID: id, Op: "get", Err: err}
	}
	return obj, nil
}

// List returns the live objects of gvk in namespace; none when the kind is
// not served. The objects may be shared with the run's read cache: callers
// must not modify them (a plan's checks over many resources would otherwise
// copy every object of the namespace once per resource).
func (m *Manager) List(ctx context.Context, gvk schema.GroupVersionKind, namespace string) ([]*unstructured.Unstructured, error) {
	id := ID{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: namespace}
	if objs, ok, err := m.cachedLookup(ctx, id); ok || err != nil {
		// Sorted by the snapshot's keys, the names: comparing GetName()s
		// would walk two maps per comparison, for every lookup of a plan.
		names := slices.Sorted(maps.Keys(objs))
		out := make([]*unstructured.Unstructured, len(names))
		for i, name := range names {
			out[i] = objs[name] // shared with the cache: read-only
		}
		return out, err
	}
	res, err := m.resourceFor(ctx, id)
	var unknown *UnknownKindError
	if errors.As(err, &unknown) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	list, err := res.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, &ObjectError{ID: id, Op: "list", Err: err}
	}
	out := make([]*unstructured.Unstructured, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out, nil
}

// cachedLookup serves a lookup from the run's snapshot of id's scope (see
// snapshots). ok is false when the scope is not cached; a kind the cluster
// does not serve is an empty answer, as for the uncached lookups.
func (m *Manager) cachedLookup(ctx context.Context, id ID) (objs map[string]*unstructured.Unstructured, ok bool, err error) {
	objs, ok, err = m.cachedScope(ctx, scope{GVK: id.GroupVersionKind(), Namespace: id.Namespace})
	var unknown *UnknownKindError
	if errors.As(err, &unknown) {
		return nil, true, nil
	}
	return objs, ok, err
}

// AnyMatches reports whether some object of gvk in namespace carries labels
// that sel selects: from the run's snapshot when the read cache is on (no
// copy, however many objects), else with one List limited to one item.
func (m *Manager) AnyMatches(ctx context.Context, gvk schema.GroupVersionKind, namespace string, sel labels.Selector) (bool, error) {
	id := ID{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: namespace}
	if objs, ok, err := m.cachedLookup(ctx, id); ok || err != nil {
		for _, obj := range objs {
			if sel.Matches(labels.Set(obj.GetLabels())) {
				return true, nil
			}
		}
		return false, err
	}
	res, err := m.resourceFor(ctx, id)
	var unknown *UnknownKindError
	if errors.As(err, &unknown) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	list, err := res.List(ctx, metav1.ListOptions{LabelSelector: sel.String(), Limit: 1})
	if err != nil {
		return false, &ObjectError{ID: id, Op: "list", Err: err}
	}
	return len(list.Items) > 0, nil
}
