package gatewayapi_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/meshform/terraform-provider-mesh/internal/meshtest"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/gatewayapi"
)

func reviews(edit func(*mesh.TrafficSplit)) mesh.TrafficSplit {
	ts := mesh.TrafficSplit{
		Name:      "reviews-split",
		Namespace: "bookinfo",
		Owner:     mesh.Owner("mesh_traffic_split", "bookinfo", "reviews-split"),
		Service:   "reviews",
		Port:      9080,
		Target:    mesh.TargetIstioAmbient,
		Backends:  []mesh.Backend{{Service: "reviews-v1", Weight: 100}},
	}
	edit(&ts)
	ts.Normalize()
	return ts
}

var cases = map[string]mesh.TrafficSplit{
	"httproute_every_match_type": reviews(func(ts *mesh.TrafficSplit) {
		to := []mesh.Backend{{Service: "reviews-v2", Weight: 100}}
		ts.MatchRoutes = []mesh.MatchRoute{
			{Path: &mesh.PathMatch{Type: mesh.MatchExact, Value: "/login"}, Backends: to},
			{Path: &mesh.PathMatch{Type: mesh.MatchPrefix, Value: "/api"}, Method: "POST", Backends: to},
			{Path: &mesh.PathMatch{Type: mesh.MatchRegex, Value: "/v[0-9]+/.*"}, Backends: to},
			{Headers: []mesh.HeaderMatch{
				{Name: "X-User-Group", Type: mesh.MatchExact, Value: "beta"},
				{Name: "x-client", Type: mesh.MatchRegex, Value: "ios|android"},
				{Name: "cookie", Type: mesh.MatchPrefix, Value: "session=a.b"},
			}, Backends: to},
		}
	}),
	"httproute_zero_weight_kept": reviews(func(ts *mesh.TrafficSplit) {
		ts.WeightSemantics = mesh.WeightRelative
		ts.Backends = []mesh.Backend{{Service: "reviews-v1", Weight: 1}, {Service: "reviews-v2", Weight: 0, Port: 8080}}
	}),
}

func TestHTTPRouteGolden(t *testing.T) {
	for name, ts := range cases {
		t.Run(name, func(t *testing.T) {
			if ps := ts.Validate(); ps.HasErrors() {
				t.Fatalf("case is not a valid split: %+v", ps)
			}
			route, err := gatewayapi.HTTPRoute(ts)
			if err != nil {
				t.Fatal(err)
			}
			meshtest.GoldenObjects(t, name, route)
			if err := decodeStrictly(route); err != nil {
				t.Errorf("does not decode as an HTTPRoute: %v", err)
			}
		})
	}
}

func TestPrefixRegex(t *testing.T) {
	if got, want := gatewayapi.PrefixRegex("Bearer a.b+"), `^Bearer a\.b\+.*`; got != want {
		t.Errorf("PrefixRegex = %q, want %q", got, want)
	}
}

func TestToUnstructuredNumbersAreInt64(t *testing.T) {
	route, err := gatewayapi.HTTPRoute(cases["httproute_zero_weight_kept"])
	if err != nil {
		t.Fatal(err)
	}
	port, found, err := unstructured.NestedFieldNoCopy(route.Object, "spec", "parentRefs")
	if err != nil || !found {
		t.Fatalf("spec.parentRefs: found=%v err=%v", found, err)
	}
	if _, ok := port.([]any)[0].(map[string]any)["port"].(int64); !ok {
		t.Errorf("parentRefs[0].port is %T, want int64", port.([]any)[0].(map[string]any)["port"])
	}
}

func decodeStrictly(obj *unstructured.Unstructured) error {
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(&gwv1.HTTPRoute{})
}
