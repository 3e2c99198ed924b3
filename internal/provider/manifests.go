package provider

import (
	"context"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/render"
)

// manifests is the `manifests` attribute: object key -> YAML.
type manifests map[string]string

func manifestsOf(objs []*unstructured.Unstructured) (manifests, error) {
	out := make(manifests, len(objs))
	for _, obj := range objs {
		y, err := render.YAML(obj)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", kube.IDOf(obj), err)
		}
		out[kube.IDOf(obj).Key()] = y
	}
	return out, nil
}

func (m manifests) value() types.Map {
	return stringMapValue(m)
}

// manifestsFrom reads the attribute; a null or unknown map gives nil.
func manifestsFrom(ctx context.Context, v types.Map, diags *diag.Diagnostics) manifests {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	out, d := stringsOf(v)
	diags.Append(d...)
	return out
}

// objects decodes the manifests (the planned ones, or the previous
// revision from state) in the order they apply: mesh.ApplyRank, then key.
func (m manifests) objects() ([]*unstructured.Unstructured, error) {
	objs := make([]*unstructured.Unstructured, 0, len(m))
	for _, key := range sortedKeys(m) {
		obj, err := decodeYAML(m[key])
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", key, err)
		}
		objs = append(objs, obj)
	}
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
		return mesh.ApplyRank(a.GroupVersionKind()) - mesh.ApplyRank(b.GroupVersionKind())
	})
	return objs, nil
}

// ids returns the object IDs of the manifests' keys.
func (m manifests) ids() ([]kube.ID, error) {
	ids := make([]kube.ID, 0, len(m))
	for _, key := range sortedKeys(m) {
		id, err := kube.ParseKey(key)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func decodeYAML(y string) (*unstructured.Unstructured, error) {
	j, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		return nil, err
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(j); err != nil {
		return nil, err
	}
	return obj, nil
}
