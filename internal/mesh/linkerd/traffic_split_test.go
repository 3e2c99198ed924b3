package linkerd_test

import (
	"testing"

	"github.com/meshform/terraform-provider-mesh/internal/meshtest"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/linkerd"
)

func reviews(edit func(*mesh.TrafficSplit)) mesh.TrafficSplit {
	ts := mesh.TrafficSplit{
		Name:      "reviews-split",
		Namespace: "bookinfo",
		Owner:     mesh.Owner("mesh_traffic_split", "bookinfo", "reviews-split"),
		Service:   "reviews",
		Port:      9080,
		Target:    mesh.TargetLinkerd,
		Backends: []mesh.Backend{
			{Service: "reviews-v1", Weight: 90},
			{Service: "reviews-v2", Weight: 10},
		},
	}
	edit(&ts)
	ts.Normalize()
	return ts
}

var cases = map[string]mesh.TrafficSplit{
	"linkerd_httproute": reviews(func(ts *mesh.TrafficSplit) {
		ts.MatchRoutes = []mesh.MatchRoute{{
			Headers:  []mesh.HeaderMatch{{Name: "x-user-group", Value: "beta"}},
			Backends: []mesh.Backend{{Service: "reviews-v2", Weight: 100}},
		}}
	}),
	"linkerd_header_prefix_regex": reviews(func(ts *mesh.TrafficSplit) {
		ts.MatchRoutes = []mesh.MatchRoute{{
			Headers: []mesh.HeaderMatch{
				{Name: "authorization", Type: mesh.MatchPrefix, Value: "Bearer beta.v2+"},
				{Name: "x-client", Type: mesh.MatchRegex, Value: "^(ios|android)-[0-9]+$"},
			},
			Path:     &mesh.PathMatch{Type: mesh.MatchRegex, Value: "/reviews/[0-9]+"},
			Method:   "GET",
			Backends: []mesh.Backend{{Service: "reviews-v2", Weight: 100}},
		}}
	}),
}

func TestRenderTrafficSplitGolden(t *testing.T) {
	for name, ts := range cases {
		t.Run(name, func(t *testing.T) {
			if ps := ts.Validate(); ps.HasErrors() {
				t.Fatalf("case is not a valid split: %+v", ps)
			}
			objs, err := linkerd.RenderTrafficSplit(ts)
			if err != nil {
				t.Fatal(err)
			}
			meshtest.GoldenObjects(t, name, objs...)
		})
	}
}

func TestRenderTrafficSplitRejectsSubsets(t *testing.T) {
	ts := reviews(func(ts *mesh.TrafficSplit) {
		ts.Backends = []mesh.Backend{{Weight: 100, SubsetLabels: map[string]string{"version": "v1"}}}
	})
	if _, err := linkerd.RenderTrafficSplit(ts); err == nil {
		t.Error("rendered subset_labels into an HTTPRoute; want an error")
	}
}
