// Package kube is the one engine that talks to the API server: server-side
// apply, dry-run diff, owned-field read-back, wait, delete and rollback for
// sets of unstructured objects. It never knows where the objects came from.
package kube

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// ID names one object.
type ID struct {
	Group     string
	Version   string
	Kind      string
	Namespace string
	Name      string
}

// IDOf returns the ID of obj.
func IDOf(obj *unstructured.Unstructured) ID {
	gvk := obj.GroupVersionKind()
	return ID{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// GroupVersionKind returns the object's GVK.
func (id ID) GroupVersionKind() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: id.Group, Version: id.Version, Kind: id.Kind}
}

// APIVersion is "group/version", or "version" for the core group.
func (id ID) APIVersion() string {
	return id.GroupVersionKind().GroupVersion().String()
}

// String is "Kind/namespace/name" (or "Kind/name" when cluster-scoped), the
// form every error message uses.
func (id ID) String() string {
	if id.Namespace == "" {
		return id.Kind + "/" + id.Name
	}
	return id.Kind + "/" + id.Namespace + "/" + id.Name
}

// Key is "apiVersion/Kind/namespace/name", the key of the provider's
// manifests map.
func (id ID) Key() string {
	return fmt.Sprintf("%s/%s/%s/%s", id.APIVersion(), id.Kind, id.Namespace, id.Name)
}

// ParseKey is the inverse of Key.
func ParseKey(key string) (ID, error) {
	parts := strings.Split(key, "/")
	var id ID
	switch len(parts) {
	case 4: // core group: v1/Kind/ns/name
		id = ID{Version: parts[0], Kind: parts[1], Namespace: parts[2], Name: parts[3]}
	case 5:
		id = ID{Group: parts[0], Version: parts[1], Kind: parts[2], Namespace: parts[3], Name: parts[4]}
	default:
		return ID{}, fmt.Errorf("manifest key %q is not apiVersion/Kind/namespace/name", key)
	}
	if id.Kind == "" || id.Name == "" {
		return ID{}, fmt.Errorf("manifest key %q is not apiVersion/Kind/namespace/name", key)
	}
	return id, nil
}

// Action is what an apply did, or would do, to one object.
type Action string

const (
	Created    Action = "Created"
	Configured Action = "Configured"
	Unchanged  Action = "Unchanged"
	Deleted    Action = "Deleted"
)

// Change is the outcome for one object.
type Change struct {
	ID     ID
	Action Action
	// UID is an owned object's uid after an apply left it live (Created,
	// Configured or Unchanged): what ApplyOptions.UIDs and
	// DeleteOptions.UIDs take next time. Empty for the objects we only add
	// fields to, and after a delete.
	UID types.UID
	// Replaced: Delete left the object of this name alone, because it is
	// not the one the resource recorded (see DeleteOptions.UIDs).
	Replaced bool
}

func (c Change) String() string { return c.ID.String() + " " + string(c.Action) }

// ChangeSet lists the outcome for every object of an apply, in apply order.
type ChangeSet []Change

// Changed reports whether any object was created, configured or deleted.
func (cs ChangeSet) Changed() bool {
	for _, c := range cs {
		if c.Action != Unchanged {
			return true
		}
	}
	return false
}
