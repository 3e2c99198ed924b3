package kube

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// listThreshold is the number of objects of one kind in one namespace above
// which a single List is cheaper than one GET each.
const listThreshold = 3

// listPageSize bounds each page of such a List.
const listPageSize = 500

// scope is one kind in one namespace: the unit a List or a watch covers.
type scope struct {
	GVK       schema.GroupVersionKind
	Namespace string
}

// groupByScope groups ids by scope, in first-seen order, without duplicates.
func groupByScope(ids []ID) ([]scope, map[scope][]ID) {
	var order []scope
	groups := map[scope][]ID{}
	seen := map[ID]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		s := scope{GVK: id.GroupVersionKind(), Namespace: id.Namespace}
		if _, ok := groups[s]; !ok {
			order = append(order, s)
		}
		groups[s] = append(groups[s], id)
	}
	return order, groups
}

// getLive fetches the objects named by ids as they are in the cluster;
// absent ones are missing from the result.
func (m *Manager) getLive(ctx context.Context, ids []ID) (map[ID]*unstructured.Unstructured, error) {
	out := map[ID]*unstructured.Unstructured{}
	order, groups := groupByScope(ids)
	for _, s := range order {
		group := groups[s]
		res, err := m.resourceFor(ctx, group[0])
		if err != nil {
			return nil, err
		}
		if len(group) > listThreshold {
			err = m.listInto(ctx, res, group, out)
		} else {
			err = m.getInto(ctx, res, group, out)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readLive is getLive for reads that may be served by the run's snapshots
// (Options.ReadCache): Read and the lookups, never Apply or Delete.
func (m *Manager) readLive(ctx context.Context, ids []ID) (map[ID]*unstructured.Unstructured, error) {
	if m.cache == nil {
		return m.getLive(ctx, ids)
	}
	out := map[ID]*unstructured.Unstructured{}
	var direct []ID
	order, groups := groupByScope(ids)
	for _, s := range order {
		objs, ok, err := m.cachedScope(ctx, s)
		if err != nil {
			return nil, err
		}
		if !ok {
			direct = append(direct, groups[s]...)
			continue
		}
		for _, id := range groups[s] {
			if obj, found := objs[id.Name]; found {
				out[id] = obj
			}
		}
	}
	if len(direct) > 0 {
		rest, err := m.getLive(ctx, direct)
		if err != nil {
			return nil, err
		}
		for id, obj := range rest {
			out[id] = obj
		}
	}
	return out, nil
}

// cachedScope returns the snapshot of s (one namespace of a namespaced
// kind, or all of a cluster-scoped one), or false when the cache is off.
func (m *Manager) cachedScope(ctx context.Context, s scope) (map[string]*unstructured.Unstructured, bool, error) {
	if m.cache == nil {
		return nil, false, nil
	}
	id := ID{Group: s.GVK.Group, Version: s.GVK.Version, Kind: s.GVK.Kind, Namespace: s.Namespace}
	mapping, err := m.mapping(ctx, id)
	if err != nil {
		return nil, false, err
	}
	var res dynamic.ResourceInterface = m.dynamic.Resource(mapping.Resource)
	switch namespaced := mapping.Scope.Name() == meta.RESTScopeNameNamespace; {
	case namespaced && s.Namespace != "":
		res = m.dynamic.Resource(mapping.Resource).Namespace(s.Namespace)
	case namespaced || s.Namespace != "":
		return nil, false, nil // malformed: let the uncached path report it
	}
	objs, err := m.snapshot(ctx, s, res)
	return objs, err == nil, err
}

func (m *Manager) getInto(ctx context.Context, res dynamic.ResourceInterface, ids []ID, out map[ID]*unstructured.Unstructured) error {
	for _, id := range ids {
		obj, err := m.get(ctx, res, id)
		if err != nil {
			return err
		}
		if obj != nil {
			out[id] = obj
		}
	}
	return nil
}

// get returns nil, nil when the object does not exist.
func (m *Manager) get(ctx context.Context, res dynamic.ResourceInterface, id ID) (*unstructured.Unstructured, error) {
	obj, err := res.Get(ctx, id.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, &ObjectError{ID: id, Op: "get", Err: err}
	}
	return obj, nil
}

func (m *Manager) listInto(ctx context.Context, res dynamic.ResourceInterface, ids []ID, out map[ID]*unstructured.Unstructured) error {
	want := map[string]ID{}
	for _, id := range ids {
		want[id.Name] = id
	}
	opts := metav1.ListOptions{Limit: listPageSize}
	for {
		list, err := res.List(ctx, opts)
		if err != nil {
			return &ObjectError{ID: ids[0], Op: "list", Err: err}
		}
		for i := range list.Items {
			if id, ok := want[list.Items[i].GetName()]; ok {
				obj := list.Items[i]
				// List items carry no apiVersion/kind of their own.
				obj.SetGroupVersionKind(id.GroupVersionKind())
				out[id] = &obj
			}
		}
		if opts.Continue = list.GetContinue(); opts.Continue == "" {
			return nil
		}
	}
}
