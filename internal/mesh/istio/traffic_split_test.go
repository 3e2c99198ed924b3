package istio_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/meshform/terraform-provider-mesh/internal/meshtest"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	networkingapi "istio.io/api/networking/v1alpha3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/istio"
)

// reviews is the bookinfo split of MESH-MAPPING §3.3, before edit and
// Normalize.
func reviews(target mesh.Target, edit func(*mesh.TrafficSplit)) mesh.TrafficSplit {
	ts := mesh.TrafficSplit{
		Name:      "reviews-split",
		Namespace: "bookinfo",
		Owner:     mesh.Owner("mesh_traffic_split", "bookinfo", "reviews-split"),
		Service:   "reviews",
		Port:      9080,
		Target:    target,
	}
	edit(&ts)
	ts.Normalize()
	return ts
}

func version(v string, weight int64) mesh.Backend {
	return mesh.Backend{Weight: weight, SubsetLabels: map[string]string{"version": v}}
}

func service(name string, weight int64) mesh.Backend {
	return mesh.Backend{Service: name, Weight: weight}
}

func betaHeader(backends ...mesh.Backend) mesh.MatchRoute {
	return mesh.MatchRoute{
		Headers:  []mesh.HeaderMatch{{Name: "x-user-group", Value: "beta"}},
		Backends: backends,
	}
}

var cases = map[string]mesh.TrafficSplit{
	"canary_90_10": reviews(mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) {
		ts.Backends = []mesh.Backend{version("v1", 90), version("v2", 10)}
	}),
	"canary_distinct_services": reviews(mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) {
		ts.Backends = []mesh.Backend{service("reviews-v1", 90), service("reviews-v2", 10)}
	}),
	"header_beta_route_with_canary": reviews(mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) {
		ts.MatchRoutes = []mesh.MatchRoute{betaHeader(version("v2", 100))}
		ts.Backends = []mesh.Backend{version("v1", 90), version("v2", 10)}
	}),
	"path_prefix_two_matches": reviews(mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) {
		ts.MatchRoutes = []mesh.MatchRoute{{
			Path:     &mesh.PathMatch{Type: mesh.MatchPrefix, Value: "/api"},
			Backends: []mesh.Backend{service("reviews-v2", 100)},
		}}
		ts.Backends = []mesh.Backend{service("reviews-v1", 100)}
	}),
	"path_prefix_root_single_match": reviews(mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) {
		ts.MatchRoutes = []mesh.MatchRoute{{
			Path:     &mesh.PathMatch{Type: mesh.MatchPrefix, Value: "/"},
			Method:   "POST",
			Backends: []mesh.Backend{service("reviews-v2", 100)},
		}}
		ts.Backends = []mesh.Backend{service("reviews-v1", 100)}
	}),
	"relative_weights": reviews(mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) {
		ts.WeightSemantics = mesh.WeightRelative
		ts.Backends = []mesh.Backend{service("reviews-v1", 3), service("reviews-v2", 1), service("reviews-v3", 0)}
	}),
	"match_routes_sorted_by_precedence": reviews(mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) {
		to := []mesh.Backend{service("reviews-v2", 100)}
		ts.MatchRoutes = []mesh.MatchRoute{
			{Headers: []mesh.HeaderMatch{{Name: "X-User-Group", Value: "beta"}}, Backends: to},
			{Path: &mesh.PathMatch{Type: mesh.MatchPrefix, Value: "/api/"}, Backends: to},
			{Path: &mesh.PathMatch{Type: mesh.MatchExact, Value: "/api/login"}, Backends: to},
			{Method: "POST", Headers: []mesh.HeaderMatch{{Name: "x-canary", Type: mesh.MatchPrefix, Value: "yes"}}, Backends: to},
			{Path: &mesh.PathMatch{Type: mesh.MatchRegex, Value: "/v[0-9]+/.*"}, Backends: to},
			{Path: &mesh.PathMatch{Type: mesh.MatchPrefix, Value: "/api/v2"}, Backends: to},
		}
		ts.Backends = []mesh.Backend{service("reviews-v1", 100)}
	}),
	"subsets_on_two_services": reviews(mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) {
		ts.MatchRoutes = []mesh.MatchRoute{betaHeader(
			mesh.Backend{Service: "ratings", Weight: 50, SubsetLabels: map[string]string{"track": "v1"}},
			mesh.Backend{Service: "ratings", Weight: 50, SubsetLabels: map[string]string{"version": "v1"}},
		)}
		ts.Backends = []mesh.Backend{
			version("v2", 80),
			mesh.Backend{Weight: 20, SubsetLabels: map[string]string{"version": "v1.1", "tier": "Canary_Tier"}},
		}
	}),
	"gateway_api_on_sidecar": reviews(mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) {
		ts.IstioAPI = mesh.IstioAPIGatewayAPI
		ts.MatchRoutes = []mesh.MatchRoute{betaHeader(service("reviews-v2", 100))}
		ts.Backends = []mesh.Backend{service("reviews-v1", 90), service("reviews-v2", 10)}
	}),
	"ambient_httproute": reviews(mesh.TargetIstioAmbient, func(ts *mesh.TrafficSplit) {
		ts.MatchRoutes = []mesh.MatchRoute{betaHeader(service("reviews-v2", 100))}
		ts.Backends = []mesh.Backend{service("reviews-v1", 90), service("reviews-v2", 10)}
	}),
	// The mirror block: on the default route, or on its own route after the
	// match routes when it has a match.
	"split_mirror_on_default_route": reviews(mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) {
		ts.Backends = []mesh.Backend{version("v1", 90), version("v2", 10)}
		ts.Mirror = &mesh.Mirror{Destination: mesh.MirrorDestination{Service: "reviews-shadow", Port: 9080}, Percentage: 12.5}
	}),
	"split_mirror_match_after_match_routes": reviews(mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) {
		ts.MatchRoutes = []mesh.MatchRoute{betaHeader(version("v2", 100))}
		ts.Backends = []mesh.Backend{version("v1", 90), version("v2", 10)}
		ts.Mirror = &mesh.Mirror{
			Destination: mesh.MirrorDestination{Service: "reviews", Port: 9080, SubsetLabels: map[string]string{"version": "v3"}},
			Percentage:  100,
			Match:       &mesh.MatchRoute{Headers: []mesh.HeaderMatch{{Name: "x-mirror", Value: "yes"}}},
		}
	}),
	"ambient_split_mirror_percent": reviews(mesh.TargetIstioAmbient, func(ts *mesh.TrafficSplit) {
		ts.MatchRoutes = []mesh.MatchRoute{betaHeader(service("reviews-v2", 100))}
		ts.Backends = []mesh.Backend{service("reviews-v1", 90), service("reviews-v2", 10)}
		ts.Mirror = &mesh.Mirror{Destination: mesh.MirrorDestination{Service: "reviews-shadow", Port: 9080}, Percentage: 25}
	}),
	"ambient_waypoint_create": reviews(mesh.TargetIstioAmbient, func(ts *mesh.TrafficSplit) {
		ts.Waypoint = mesh.Waypoint{Mode: mesh.WaypointCreate, Name: "reviews-waypoint"}
		ts.Backends = []mesh.Backend{service("reviews-v1", 90), service("reviews-v2", 10)}
	}),
}

func TestRenderTrafficSplitGolden(t *testing.T) {
	for name, ts := range cases {
		t.Run(name, func(t *testing.T) {
			if ps := ts.Validate(); ps.HasErrors() {
				t.Fatalf("case is not a valid split: %+v", ps)
			}
			objs, err := istio.RenderTrafficSplit(ts)
			if err != nil {
				t.Fatal(err)
			}
			meshtest.GoldenObjects(t, name, objs...)
		})
	}
}

// TestRenderedObjectsDecodeStrictly guards against fields the API server
// would reject under fieldValidation=Strict.
func TestRenderedObjectsDecodeStrictly(t *testing.T) {
	for name, ts := range cases {
		objs, err := istio.RenderTrafficSplit(ts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, obj := range objs {
			if err := decodeStrictly(obj); err != nil {
				t.Errorf("%s: %s %s: %v", name, obj.GetKind(), obj.GetName(), err)
			}
		}
	}
}

func TestRenderTrafficSplitOrdersPrerequisitesFirst(t *testing.T) {
	ts := reviews(mesh.TargetIstioAmbient, func(ts *mesh.TrafficSplit) {
		ts.IstioAPI = mesh.IstioAPIVirtualService
		ts.Waypoint.Mode = mesh.WaypointCreate
		ts.Backends = []mesh.Backend{version("v1", 90), version("v2", 10)}
	})
	objs, err := istio.RenderTrafficSplit(ts)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, obj := range objs {
		kinds = append(kinds, obj.GetKind())
	}
	want := []string{"DestinationRule", "Gateway", "Service", "VirtualService"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("object order (-want +got):\n%s", diff)
	}
}

func TestRenderTrafficSplitServiceLabelIsShared(t *testing.T) {
	objs, err := istio.RenderTrafficSplit(cases["ambient_waypoint_create"])
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range objs {
		_, owned := obj.GetLabels()[mesh.LabelOwner]
		if shared := obj.GetKind() == "Service"; owned == shared {
			t.Errorf("%s %s: owner label present = %v, want %v", obj.GetKind(), obj.GetName(), owned, !shared)
		}
	}
}

// envelope is an object with its spec left raw, so that each spec can be
// decoded by the decoder its API uses.
type envelope struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            json.RawMessage   `json:"spec,omitempty"`
}

func decodeStrictly(obj *unstructured.Unstructured) error {
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return err
	}
	var env envelope
	if err := strictJSON(data, &env); err != nil {
		return err
	}
	switch obj.GetKind() {
	case "VirtualService":
		return strictProto(env.Spec, &networkingapi.VirtualService{})
	case "DestinationRule":
		return strictProto(env.Spec, &networkingapi.DestinationRule{})
	case "HTTPRoute":
		return strictJSON(env.Spec, &gwv1.HTTPRouteSpec{})
	case "Gateway":
		return strictJSON(env.Spec, &gwv1.GatewaySpec{})
	case "Service":
		if env.Spec != nil {
			return errorString("the shared Service object must carry only its label")
		}
		return nil
	}
	return errorString("unexpected kind " + obj.GetKind())
}

func strictJSON(data []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(into)
}

// strictProto decodes with protojson, which rejects unknown fields; the
// generated UnmarshalJSON of istio.io/api allows them.
func strictProto(data []byte, into proto.Message) error {
	return protojson.Unmarshal(data, into)
}

type errorString string

func (e errorString) Error() string { return string(e) }
