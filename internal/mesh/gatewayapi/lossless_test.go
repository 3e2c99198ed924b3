package gatewayapi_test

import (
	"strings"
	"testing"

	securityapi "istio.io/api/security/v1beta1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh/gatewayapi"
)

func obj(spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.org/v1", "kind": "Thing",
		"metadata": map[string]any{"name": "t", "namespace": "ns"}, "spec": spec,
	}}
}

// TestCoveredNamesTheFirstDifference: every way the live object and the
// re-rendered one can differ is an error naming the field, in both
// directions, and spellings that are alike compare equal.
func TestCoveredNamesTheFirstDifference(t *testing.T) {
	cases := map[string]struct {
		live, rendered map[string]any
		want           string // "" for equal
	}{
		"equal": {map[string]any{"a": "x", "b": []any{int64(1)}}, map[string]any{"a": "x", "b": []any{int64(1)}}, ""},
		"empty values are absent": {map[string]any{"a": "x", "b": "", "c": map[string]any{}, "d": []any{}},
			map[string]any{"a": "x"}, ""},
		"only live": {map[string]any{"a": "x", "z": map[string]any{"k": "v"}}, map[string]any{"a": "x"},
			`spec.z is set to {"k":"v"}, and mesh_thing has no attribute for it`},
		"only rendered": {map[string]any{"a": "x"}, map[string]any{"a": "x", "m": "y"},
			`spec.m is not set, and mesh_thing would set it to "y": importing would change the object`},
		"value": {map[string]any{"a": map[string]any{"b": "x"}}, map[string]any{"a": map[string]any{"b": "y"}},
			`spec.a.b is "x", and mesh_thing would render "y"`},
		"list length": {map[string]any{"l": []any{"a", "b"}}, map[string]any{"l": []any{"a"}},
			`spec.l has 2 items, and mesh_thing would render 1: ["a"]`},
		"list item": {map[string]any{"l": []any{map[string]any{"n": int64(1)}, map[string]any{"n": int64(2)}}},
			map[string]any{"l": []any{map[string]any{"n": int64(1)}, map[string]any{"n": int64(3)}}},
			`spec.l[1].n is 2, and mesh_thing would render 3`},
		"an empty object is not an empty list": {map[string]any{"l": []any{map[string]any{}}}, map[string]any{},
			`spec.l is set to [{}]`},
		"first in key order": {map[string]any{"b": "1", "a": "1"}, map[string]any{"b": "2", "a": "2"}, `spec.a is "1"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			live := obj(c.live)
			err := gatewayapi.Covered(live, &live.Object, obj(c.rendered), "mesh_thing", "spec")
			switch {
			case c.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want one containing %q", err, c.want)
			case err != nil && !strings.HasPrefix(err.Error(), "Thing ns/t cannot be imported losslessly: "):
				t.Errorf("error %v does not name the object", err)
			}
		})
	}
}

// TestDecodeProtoIsStrict: the protobuf JSON decoders of the API types drop
// what they do not know; DecodeProto names it, at any depth, and names an
// enum value the type does not define.
func TestDecodeProtoIsStrict(t *testing.T) {
	cases := map[string]struct {
		spec map[string]any
		want string
	}{
		"known": {map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": "a"}},
			"mtls": map[string]any{"mode": "STRICT"}, "portLevelMtls": map[string]any{"80": map[string]any{"mode": "DISABLE"}}}, ""},
		"top level":  {map[string]any{"mtsl": map[string]any{}}, `spec.mtsl is set to {}`},
		"nested":     {map[string]any{"mtls": map[string]any{"mode": "STRICT", "x": true}}, `spec.mtls.x is set to true`},
		"map value":  {map[string]any{"portLevelMtls": map[string]any{"80": map[string]any{"modes": "DISABLE"}}}, `spec.portLevelMtls.80.modes is set`},
		"enum value": {map[string]any{"mtls": map[string]any{"mode": "OPTIONAL"}}, `spec.mtls.mode is "OPTIONAL", which this provider's Mode does not define`},
		"wrong type": {map[string]any{"mtls": "STRICT"}, `spec does not decode as istio.security.v1beta1.PeerAuthentication`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var spec securityapi.PeerAuthentication
			err := gatewayapi.DecodeProto(obj(c.spec), "mesh_thing", "spec", &spec)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
