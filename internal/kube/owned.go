package kube

import (
	"bytes"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// ownedView reduces live to the fields manager last applied (its Apply entry
// in managedFields), plus the object's identity. When nobody else touched
// the object it equals what was applied; a field another manager changed
// either differs (shared ownership) or is missing (ownership moved), which
// is how drift shows in Terraform's plan.
func ownedView(live *unstructured.Unstructured, manager string) (*unstructured.Unstructured, error) {
	out := identity(live)
	set, err := ownedSet(live, manager)
	if err != nil || set == nil {
		return out, err
	}
	for k, v := range extractMap(live.Object, set) {
		if k == "metadata" {
			meta, _ := v.(map[string]any)
			for mk, mv := range meta {
				out.Object["metadata"].(map[string]any)[mk] = mv
			}
			continue
		}
		out.Object[k] = v
	}
	return out, nil
}

// identity is the smallest object that names live: applying it releases
// every field our manager owns.
func identity(obj *unstructured.Unstructured) *unstructured.Unstructured {
	out := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{}}}
	out.SetAPIVersion(obj.GetAPIVersion())
	out.SetKind(obj.GetKind())
	out.SetName(obj.GetName())
	if ns := obj.GetNamespace(); ns != "" {
		out.SetNamespace(ns)
	}
	return out
}

// ownedSet parses manager's Apply entry of obj, or returns nil when it has none.
func ownedSet(obj *unstructured.Unstructured, manager string) (*fieldpath.Set, error) {
	for _, e := range obj.GetManagedFields() {
		if e.Manager != manager || e.Operation != metav1.ManagedFieldsOperationApply || e.Subresource != "" || e.FieldsV1 == nil {
			continue
		}
		set := &fieldpath.Set{}
		if err := set.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
			return nil, fmt.Errorf("parse managedFields of %s for %q: %w", IDOf(obj), manager, err)
		}
		return set, nil
	}
	return nil, nil
}

// extractMap keeps the fields of m that set names. It walks the raw object
// rather than a deduced schema so that keyed list items (Service ports,
// containers) other managers added are left out instead of the whole list
// being taken as ours.
func extractMap(m map[string]any, set *fieldpath.Set) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		pe := fieldpath.PathElement{FieldName: &k}
		if got, ok := extractElem(v, pe, set); ok {
			out[k] = got
		}
	}
	return out
}

func extractList(l []any, set *fieldpath.Set) []any {
	out := []any{}
	for i, item := range l {
		pe, ok := listElement(item, i, set)
		if !ok {
			continue
		}
		if got, ok := extractElem(item, pe, set); ok {
			out = append(out, got)
		}
	}
	return out
}

// extractElem returns the part of v (found at pe) that set owns. A member
// without children is a leaf or an atomic value, owned whole; a node with
// children owns only those (its own membership means "this map/item exists",
// so an emptied container is kept only then).
func extractElem(v any, pe fieldpath.PathElement, set *fieldpath.Set) (any, bool) {
	member := set.Members.Has(pe)
	child, hasChild := set.Children.Get(pe)
	if !hasChild {
		return runtime.DeepCopyJSONValue(v), member
	}
	switch t := v.(type) {
	case map[string]any:
		got := extractMap(t, child)
		return got, len(got) > 0 || member
	case []any:
		got := extractList(t, child)
		return got, len(got) > 0 || member
	}
	return runtime.DeepCopyJSONValue(v), true
}

// listElement finds the path element that set uses for item: by key fields
// (associative lists), by value (sets) or by index.
func listElement(item any, index int, set *fieldpath.Set) (fieldpath.PathElement, bool) {
	var found fieldpath.PathElement
	ok := false
	match := func(pe fieldpath.PathElement) {
		if !ok && itemMatches(item, index, pe) {
			found, ok = pe, true
		}
	}
	set.Members.Iterate(match)
	set.Children.Iterate(match)
	return found, ok
}

func itemMatches(item any, index int, pe fieldpath.PathElement) bool {
	switch {
	case pe.Index != nil:
		return *pe.Index == index
	case pe.Value != nil:
		return value.Equals(*pe.Value, value.NewValueInterface(item))
	case pe.Key != nil:
		m, isMap := item.(map[string]any)
		if !isMap {
			return false
		}
		for _, f := range *pe.Key {
			v, present := m[f.Name]
			if !present || !value.Equals(f.Value, value.NewValueInterface(v)) {
				return false
			}
		}
		return true
	}
	return false
}
