package gatewayapi

import (
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// ToUnstructured converts a typed API object (TypeMeta set) to the form the
// apply engine sends. Going through JSON keeps each type's own marshalling
// (protobuf JSON for Istio specs), and UnmarshalJSON yields int64 numbers.
// Server-set fields the typed structs always emit are dropped, because
// server-side apply would claim ownership of every field it is sent.
func ToUnstructured(obj any) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", obj, err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("decoding %T: %w", obj, err)
	}
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	return u, nil
}

// ObjectMeta is the metadata of an object the resource owns.
func ObjectMeta(name, namespace, owner string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: mesh.OwnerLabels(owner)}
}

// TypeMeta is the apiVersion and kind of gvk.
func TypeMeta(gvk schema.GroupVersionKind) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind}
}
