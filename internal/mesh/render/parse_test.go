package render_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/render"
)

// The round-trip cases are the golden cases of the renderers' tests
// (internal/mesh/istio, gatewayapi, linkerd), copied because test files
// export nothing, plus the ambient VirtualService of the istio ordering test.

func split(target mesh.Target, edit func(*mesh.TrafficSplit)) mesh.TrafficSplit {
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

func canary9010(ts *mesh.TrafficSplit) {
	ts.Backends = []mesh.Backend{service("reviews-v1", 90), service("reviews-v2", 10)}
}

func roundTripCases() map[string]mesh.TrafficSplit {
	sidecar, ambient, linkerd := mesh.TargetIstioSidecar, mesh.TargetIstioAmbient, mesh.TargetLinkerd
	return map[string]mesh.TrafficSplit{
		// internal/mesh/istio
		"canary_90_10": split(sidecar, func(ts *mesh.TrafficSplit) {
			ts.Backends = []mesh.Backend{version("v1", 90), version("v2", 10)}
		}),
		"canary_distinct_services": split(sidecar, canary9010),
		"split_mirror_on_default_route": split(sidecar, func(ts *mesh.TrafficSplit) {
			ts.Backends = []mesh.Backend{version("v1", 90), version("v2", 10)}
			ts.Mirror = &mesh.Mirror{Destination: mesh.MirrorDestination{Service: "reviews-shadow", Namespace: "shadow", Port: 9080}, Percentage: 12.5}
		}),
		"split_mirror_match_after_match_routes": split(sidecar, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes = []mesh.MatchRoute{betaHeader(version("v2", 100))}
			ts.Backends = []mesh.Backend{version("v1", 90), version("v2", 10)}
			ts.Mirror = &mesh.Mirror{
				Destination: mesh.MirrorDestination{Service: "reviews", Port: 9080, SubsetLabels: map[string]string{"version": "v3"}},
				Percentage:  0,
				Match:       &mesh.MatchRoute{Headers: []mesh.HeaderMatch{{Name: "x-mirror", Value: "yes"}}},
			}
		}),
		"ambient_split_mirror_fraction": split(ambient, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes = []mesh.MatchRoute{betaHeader(service("reviews-v2", 100))}
			canary9010(ts)
			ts.Mirror = &mesh.Mirror{Destination: mesh.MirrorDestination{Service: "reviews-shadow", Namespace: "shadow", Port: 8000}, Percentage: 0.25}
		}),
		"gateway_api_split_mirror_match": split(sidecar, func(ts *mesh.TrafficSplit) {
			ts.IstioAPI = mesh.IstioAPIGatewayAPI
			canary9010(ts)
			ts.Mirror = &mesh.Mirror{
				Destination: mesh.MirrorDestination{Service: "reviews-shadow", Port: 9080}, Percentage: 30,
				Match: &mesh.MatchRoute{Path: &mesh.PathMatch{Type: mesh.MatchPrefix, Value: "/api"}},
			}
		}),
		"header_beta_route_with_canary": split(sidecar, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes = []mesh.MatchRoute{betaHeader(version("v2", 100))}
			ts.Backends = []mesh.Backend{version("v1", 90), version("v2", 10)}
		}),
		"path_prefix_two_matches": split(sidecar, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes = []mesh.MatchRoute{{
				Path:     &mesh.PathMatch{Type: mesh.MatchPrefix, Value: "/api"},
				Backends: []mesh.Backend{service("reviews-v2", 100)},
			}}
			ts.Backends = []mesh.Backend{service("reviews-v1", 100)}
		}),
		"path_prefix_root_single_match": split(sidecar, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes = []mesh.MatchRoute{{
				Path:     &mesh.PathMatch{Type: mesh.MatchPrefix, Value: "/"},
				Method:   "POST",
				Backends: []mesh.Backend{service("reviews-v2", 100)},
			}}
			ts.Backends = []mesh.Backend{service("reviews-v1", 100)}
		}),
		"relative_weights": split(sidecar, func(ts *mesh.TrafficSplit) {
			ts.WeightSemantics = mesh.WeightRelative
			ts.Backends = []mesh.Backend{service("reviews-v1", 3), service("reviews-v2", 1), service("reviews-v3", 0)}
		}),
		"match_routes_sorted_by_precedence": split(sidecar, func(ts *mesh.TrafficSplit) {
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
		"subsets_on_two_services": split(sidecar, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes = []mesh.MatchRoute{betaHeader(
				mesh.Backend{Service: "ratings", Weight: 50, SubsetLabels: map[string]string{"track": "v1"}},
				mesh.Backend{Service: "ratings", Weight: 50, SubsetLabels: map[string]string{"version": "v1"}},
			)}
			ts.Backends = []mesh.Backend{
				version("v2", 80),
				{Weight: 20, SubsetLabels: map[string]string{"version": "v1.1", "tier": "Canary_Tier"}},
			}
		}),
		"gateway_api_on_sidecar": split(sidecar, func(ts *mesh.TrafficSplit) {
			ts.IstioAPI = mesh.IstioAPIGatewayAPI
			ts.MatchRoutes = []mesh.MatchRoute{betaHeader(service("reviews-v2", 100))}
			canary9010(ts)
		}),
		"ambient_httproute": split(ambient, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes = []mesh.MatchRoute{betaHeader(service("reviews-v2", 100))}
			canary9010(ts)
		}),
		"ambient_waypoint_create": split(ambient, func(ts *mesh.TrafficSplit) {
			ts.Waypoint = mesh.Waypoint{Mode: mesh.WaypointCreate, Name: "reviews-waypoint"}
			canary9010(ts)
		}),
		// internal/mesh/istio TestRenderTrafficSplitOrdersPrerequisitesFirst
		"ambient_virtualservice_waypoint_create": split(ambient, func(ts *mesh.TrafficSplit) {
			ts.IstioAPI = mesh.IstioAPIVirtualService
			ts.Waypoint.Mode = mesh.WaypointCreate
			ts.Backends = []mesh.Backend{version("v1", 90), version("v2", 10)}
		}),
		// internal/mesh/gatewayapi
		"httproute_every_match_type": split(ambient, func(ts *mesh.TrafficSplit) {
			to := []mesh.Backend{service("reviews-v2", 100)}
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
			ts.Backends = []mesh.Backend{service("reviews-v1", 100)}
		}),
		"httproute_zero_weight_kept": split(ambient, func(ts *mesh.TrafficSplit) {
			ts.WeightSemantics = mesh.WeightRelative
			ts.Backends = []mesh.Backend{{Service: "reviews-v1", Weight: 1}, {Service: "reviews-v2", Weight: 0, Port: 8080}}
		}),
		// internal/mesh/linkerd
		"linkerd_httproute": split(linkerd, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes = []mesh.MatchRoute{betaHeader(service("reviews-v2", 100))}
			canary9010(ts)
		}),
		"linkerd_header_prefix_regex": split(linkerd, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes = []mesh.MatchRoute{{
				Headers: []mesh.HeaderMatch{
					{Name: "authorization", Type: mesh.MatchPrefix, Value: "Bearer beta.v2+"},
					{Name: "x-client", Type: mesh.MatchRegex, Value: "^(ios|android)-[0-9]+$"},
				},
				Path:     &mesh.PathMatch{Type: mesh.MatchRegex, Value: "/reviews/[0-9]+"},
				Method:   "GET",
				Backends: []mesh.Backend{service("reviews-v2", 100)},
			}}
			canary9010(ts)
		}),
	}
}

// TestParseTrafficSplitRoundTrip renders each case, sends the objects
// through YAML as a cluster read would, and parses them back.
//
// For a VirtualService the expected intent is the input as the renderer
// writes it: match routes in the order the VirtualService lists them (the
// renderer sorts by precedence; the order is read from its match-<i> route
// names, so both sides are ordered by the renderer's own sort), header names
// lower-cased, and path prefixes without trailing "/" (the segment prefix
// "/api/" renders like "/api").
func TestParseTrafficSplitRoundTrip(t *testing.T) {
	for name, ts := range roundTripCases() {
		t.Run(name, func(t *testing.T) {
			// VirtualService on ambient renders, but Validate rejects it (MESH-TS-007).
			if ps := ts.Validate(); ps.HasErrors() && name != "ambient_virtualservice_waypoint_create" {
				t.Fatalf("case is not a valid split: %+v", ps)
			}
			objs, err := render.TrafficSplit(ts)
			if err != nil {
				t.Fatal(err)
			}
			var docs []string
			for _, obj := range objs {
				doc, err := render.YAML(obj)
				if err != nil {
					t.Fatal(err)
				}
				docs = append(docs, doc)
			}
			got, err := render.ParseTrafficSplit(decode(t, strings.Join(docs, "---\n")), ts.Target)
			if err != nil {
				t.Fatal(err)
			}
			got.Normalize()
			want := ts
			if ts.UsesVirtualService() {
				want = asVirtualServiceReads(t, ts, objs[len(objs)-1])
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ParseTrafficSplit(render(ts)) (-want +got):\n%s", diff)
			}
		})
	}
}

// asVirtualServiceReads returns a copy of ts as its rendered VirtualService
// vs reads (see TestParseTrafficSplitRoundTrip).
func asVirtualServiceReads(t *testing.T, ts mesh.TrafficSplit, vs *unstructured.Unstructured) mesh.TrafficSplit {
	t.Helper()
	http, _, err := unstructured.NestedSlice(vs.Object, "spec", "http")
	if err != nil {
		t.Fatal(err)
	}
	in := ts.MatchRoutes
	// The routes come back in the configuration's order, which their names
	// record (the VirtualService holds them in precedence order).
	ts.MatchRoutes = nil
	if len(in) > 0 {
		ts.MatchRoutes = make([]mesh.MatchRoute, len(in))
	}
	for _, r := range http {
		index, ok := strings.CutPrefix(r.(map[string]any)["name"].(string), "match-")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(index)
		if err != nil {
			t.Fatal(err)
		}
		route := in[i]
		route.Headers = nil
		for _, h := range in[i].Headers {
			h.Name = strings.ToLower(h.Name)
			route.Headers = append(route.Headers, h)
		}
		if p := in[i].Path; p != nil && p.Type == mesh.MatchPrefix && p.Value != "/" {
			route.Path = &mesh.PathMatch{Type: mesh.MatchPrefix, Value: strings.TrimRight(p.Value, "/")}
		}
		ts.MatchRoutes[i] = route
	}
	return ts
}

func decode(t *testing.T, text string) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	for _, doc := range strings.Split(text, "\n---\n") {
		doc = strings.TrimPrefix(doc, "---\n")
		data, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(data); err != nil {
			t.Fatalf("%v in\n%s", err, doc)
		}
		objs = append(objs, obj)
	}
	return objs
}

func decodeFile(t *testing.T, name string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, string(data))
}

func TestParseTrafficSplitUnmanagedObjects(t *testing.T) {
	wp := mesh.Waypoint{Mode: mesh.WaypointRequire, Name: mesh.DefaultWaypointName}
	tests := []struct {
		file   string
		target mesh.Target
		want   mesh.TrafficSplit
	}{
		{"import_virtualservice_unmanaged.yaml", mesh.TargetIstioSidecar, mesh.TrafficSplit{
			Name: "reviews", Namespace: "bookinfo", Service: "reviews", Port: 9080, Target: mesh.TargetIstioSidecar,
			Backends: []mesh.Backend{
				{Service: "reviews", Port: 9080, Weight: 75, SubsetLabels: map[string]string{"version": "v1"}},
				{Service: "reviews", Port: 9080, Weight: 25, SubsetLabels: map[string]string{"version": "v3"}},
			},
			MatchRoutes: []mesh.MatchRoute{
				{
					Path:     &mesh.PathMatch{Type: mesh.MatchPrefix, Value: "/ratings"},
					Method:   "GET",
					Backends: []mesh.Backend{{Service: "ratings", Port: 9080, Weight: 100}},
				},
				{
					Headers: []mesh.HeaderMatch{
						{Name: "end-user", Value: "jason", Type: mesh.MatchExact},
						{Name: "x-client", Value: "ios-", Type: mesh.MatchPrefix},
					},
					Backends: []mesh.Backend{{Service: "reviews", Port: 9080, Weight: 100, SubsetLabels: map[string]string{"version": "v2"}}},
				},
			},
			WeightSemantics: mesh.WeightPercent, IstioAPI: mesh.IstioAPIAuto, Waypoint: wp,
		}},
		{"import_httproute_from_cluster.yaml", mesh.TargetLinkerd, mesh.TrafficSplit{
			Name: "web-canary", Namespace: "shop", Service: "web", Port: 8080, Target: mesh.TargetLinkerd,
			Backends: []mesh.Backend{{Service: "web-v1", Port: 8080, Weight: 3}, {Service: "web-v2", Port: 8080, Weight: 1}},
			MatchRoutes: []mesh.MatchRoute{
				{
					Headers:  []mesh.HeaderMatch{{Name: "X-Canary", Value: "true", Type: mesh.MatchExact}},
					Backends: []mesh.Backend{{Service: "web-v2", Port: 8080, Weight: 1}},
				},
				{
					Path:     &mesh.PathMatch{Type: mesh.MatchPrefix, Value: "/beta"},
					Backends: []mesh.Backend{{Service: "web-v2", Port: 8080, Weight: 1}},
				},
			},
			WeightSemantics: mesh.WeightRelative, IstioAPI: mesh.IstioAPIAuto, Waypoint: wp,
		}},
		{"import_ambient_shared_waypoint.yaml", mesh.TargetIstioAmbient, mesh.TrafficSplit{
			Name: "reviews", Namespace: "bookinfo", Service: "reviews", Port: 9080, Target: mesh.TargetIstioAmbient,
			Backends: []mesh.Backend{{Service: "reviews-v1", Port: 9080, Weight: 80}, {Service: "reviews-v2", Port: 9080, Weight: 20}},
			MatchRoutes: []mesh.MatchRoute{{
				Headers: []mesh.HeaderMatch{
					{Name: "x-user-group", Value: "beta.", Type: mesh.MatchPrefix},
					{Name: "x-client", Value: "^ios|android.*", Type: mesh.MatchRegex},
				},
				Method:   "POST",
				Backends: []mesh.Backend{{Service: "reviews-v2", Port: 9080, Weight: 100}},
			}},
			WeightSemantics: mesh.WeightPercent, IstioAPI: mesh.IstioAPIAuto,
			Waypoint: mesh.Waypoint{Mode: mesh.WaypointRequire, Name: "shared-waypoint"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := render.ParseTrafficSplit(decodeFile(t, tt.file), tt.target)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseTrafficSplit (-want +got):\n%s", diff)
			}
			if ps := got.Validate(); ps.HasErrors() {
				t.Errorf("imported split does not validate: %+v", ps)
			}
			if _, err := render.TrafficSplit(got); err != nil {
				t.Errorf("imported split does not render: %v", err)
			}
		})
	}
}

// Building blocks of the error cases: a route's header, its default rule,
// and the waypoint objects.
const (
	vsHead = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n  namespace: bookinfo\nspec:\n"
	hrHead = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: reviews\n  namespace: bookinfo\nspec:\n"
	// vsDefault is a last route to reviews:9080.
	vsDefault = `
  - route:
    - destination:
        host: reviews
        port:
          number: 9080`
	hrParent = `
  parentRefs:
  - group: ""
    kind: Service
    name: reviews
    port: 9080`
	// hrDefault is a default rule to reviews-v1:9080.
	hrDefault = `
  - backendRefs:
    - name: reviews-v1
      port: 9080`
	drReviews = `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews.bookinfo.svc.cluster.local
  subsets:
  - name: v1
    labels:
      version: v1`
	waypointGW = `
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: waypoint
  namespace: bookinfo
spec:
  gatewayClassName: istio-waypoint`
)

// vsWith is a VirtualService for host reviews whose http routes are routes
// followed by the default route.
func vsWith(routes string) string {
	return vsHead + "  hosts:\n  - reviews\n  http:" + routes + vsDefault
}

// hrWith is an HTTPRoute parented to reviews:9080 whose rules are rules
// followed by the default rule.
func hrWith(rules string) string {
	return hrHead + hrParent + "\n  rules:" + rules + hrDefault
}

const toV2 = `
    route:
    - destination:
        host: reviews-v2`

const hrToV2 = `
    backendRefs:
    - name: reviews-v2
      port: 9080`

func TestParseTrafficSplitErrors(t *testing.T) {
	sidecar, ambient, linkerd := mesh.TargetIstioSidecar, mesh.TargetIstioAmbient, mesh.TargetLinkerd
	tests := []struct {
		name    string
		objects string
		target  mesh.Target
		want    string
	}{
		// which objects
		{"unknown target", vsWith(""), "consul", `unknown target "consul": use one of ["istio-sidecar" "istio-ambient" "linkerd"]`},
		{"no route", drReviews[5:], sidecar, `no route among the 1 objects: a traffic split is imported from a VirtualService (networking.istio.io) or an HTTPRoute (gateway.networking.k8s.io)`},
		{"two routes", vsWith("") + "\n---\n" + hrWith(""), ambient, `several routes among the objects (VirtualService bookinfo/reviews, HTTPRoute bookinfo/reviews): a traffic split is one VirtualService or one HTTPRoute; import them one by one`},
		{"other kind", vsWith("") + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: reviews\n  namespace: bookinfo", sidecar, `cannot import ConfigMap bookinfo/reviews: a traffic split is a VirtualService (networking.istio.io) with its DestinationRules, or an HTTPRoute (gateway.networking.k8s.io), plus for istio-ambient the waypoint Gateway and the parent Service`},
		{"object in another namespace", vsWith("") + strings.Replace(drReviews, "namespace: bookinfo", "namespace: shop", 1), sidecar, `DestinationRule shop/reviews is in namespace "shop", not in the route's namespace "bookinfo": every object of a traffic split is in the route's namespace`},
		{"route without namespace", strings.Replace(vsWith(""), "  namespace: bookinfo\n", "", 1), sidecar, `VirtualService /reviews has no metadata.namespace: pass the object as read from the cluster`},
		{"virtualservice on linkerd", vsWith(""), linkerd, `VirtualService bookinfo/reviews cannot be imported for target "linkerd": Linkerd does not read VirtualServices; import an HTTPRoute`},
		{"destinationrule with an httproute", hrWith("") + drReviews, ambient, `DestinationRule bookinfo/reviews is not part of an HTTPRoute split: DestinationRule subsets are only used with a VirtualService; leave it out of the import`},
		{"waypoint on sidecar", hrWith("") + waypointGW, sidecar, `Gateway bookinfo/waypoint: a waypoint applies only to target "istio-ambient", not "istio-sidecar"; leave the Gateway out of the import`},
		{"two waypoints", hrWith("") + waypointGW + strings.Replace(waypointGW, "name: waypoint", "name: waypoint-2", 1), ambient, `several Gateways among the objects (Gateway bookinfo/waypoint, Gateway bookinfo/waypoint-2): a traffic split uses one waypoint`},
		{"gateway that is not a waypoint", hrWith("") + strings.Replace(waypointGW, "istio-waypoint", "istio", 1), ambient, `Gateway bookinfo/waypoint has gatewayClassName "istio", not "istio-waypoint": it is not a waypoint; leave it out of the import`},
		{"service that is not the parent", hrWith("") + "\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: ratings\n  namespace: bookinfo", ambient, `Service bookinfo/ratings is not the route's parent Service "reviews": pass only the parent Service`},
		{"service uses another waypoint", hrWith("") + waypointGW + "\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\n  namespace: bookinfo\n  labels:\n    istio.io/use-waypoint: other", ambient, `Service bookinfo/reviews labels istio.io/use-waypoint="other", but the Gateway among the objects is "waypoint": pass the waypoint the Service uses`},

		// VirtualService
		{"several hosts", vsHead + "  hosts:\n  - reviews\n  - ratings\n  http:" + vsDefault, sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.hosts has 2 hosts [reviews ratings]; mesh_traffic_split routes exactly one Service, so split the VirtualService into one per host`},
		{"host in another namespace", vsHead + "  hosts:\n  - reviews.shop.svc.cluster.local\n  http:" + vsDefault, sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.hosts[0] "reviews.shop.svc.cluster.local" is in namespace "shop" (or is not a cluster Service at all); mesh_traffic_split only routes to Services in the route's namespace "bookinfo"`},
		{"external host", vsHead + "  hosts:\n  - api.example.com\n  http:" + vsDefault, sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.hosts[0] "api.example.com" is not a Service of the cluster; mesh_traffic_split routes to Services of the route's namespace ("<service>", "<service>.bookinfo" or the FQDN "<service>.bookinfo.svc.cluster.local")`},
		{"wildcard host", vsHead + "  hosts:\n  - '*'\n  http:" + vsDefault, sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.hosts[0] "*" is not a Service of the cluster; mesh_traffic_split routes to Services of the route's namespace`},
		{"tcp routes", vsWith("") + "\n  tcp:\n  - route:\n    - destination:\n        host: reviews", sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.tcp is set to [{"route":[{"destination":{"host":"reviews"}}]}], and mesh_traffic_split has no attribute for it; remove it from the object before importing, or keep managing the object outside Terraform`},
		{"ingress gateway", vsWith("") + "\n  gateways:\n  - istio-system/ingress", sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.gateways binds the route to gateways [istio-system/ingress]; mesh_traffic_split only renders mesh (sidecar and waypoint) routing`},
		{"mirror", vsWith("\n  - mirror:\n      host: reviews-v2" + toV2 + "\n    match:\n    - method:\n        exact: GET"), sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.http[0].mirror is set to {"host":"reviews-v2"}, and mesh_traffic_split has no attribute for it; remove it from the object before importing, or keep managing the object outside Terraform`},
		{"retries", vsWith("\n  - retries:\n      attempts: 3" + toV2 + "\n    match:\n    - method:\n        exact: GET"), sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.http[0].retries is set to {"attempts":3}, and mesh_traffic_split has no attribute for it; remove it from the object before importing, or keep managing the object outside Terraform`},
		{"timeout", strings.Replace(vsWith(""), "  - route:", "  - timeout: 5s\n    route:", 1), sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.http[0].timeout is set to "5s", and mesh_traffic_split has no attribute for it; remove it from the object before importing, or keep managing the object outside Terraform`},
		{"rewrite", vsWith("\n  - rewrite:\n      uri: /v2" + toV2 + "\n    match:\n    - method:\n        exact: GET"), sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.http[0].rewrite is set to {"uri":"/v2"}, and mesh_traffic_split has no attribute for it; remove it from the object before importing, or keep managing the object outside Terraform`},
		{"fault injection", vsWith("\n  - fault:\n      abort:\n        httpStatus: 500" + toV2 + "\n    match:\n    - method:\n        exact: GET"), sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.http[0].fault is set to {"abort":{"httpStatus":500}}, and mesh_traffic_split has no attribute for it; remove it from the object before importing, or keep managing the object outside Terraform`},
		{"match on port", vsWith("\n  - match:\n    - port: 9080" + toV2), sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.http[0].match[0].port is set to 9080, and mesh_traffic_split has no attribute for it; remove it from the object before importing, or keep managing the object outside Terraform`},
		{"plain uri prefix", vsWith("\n  - match:\n    - uri:\n        prefix: /api" + toV2), sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.http[0].match[0].uri.prefix "/api" is a plain string prefix (it also matches "/apix"), while a mesh_traffic_split path prefix matches whole path segments and renders as exact "/api" plus prefix "/api/"; rewrite the match as that pair, or as a regex, before importing`},
		{"method regex", vsWith("\n  - match:\n    - method:\n        regex: GET|HEAD" + toV2), sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.http[0].match[0].method is a regex match; mesh_traffic_split matches the method exactly`},
		{"header presence match", vsWith("\n  - match:\n    - headers:\n        x-beta: {}" + toV2), sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.http[0].match[0].headers.x-beta has 0 of exact, prefix and regex; mesh_traffic_split needs exactly one (a presence match has none: use regex ".*" or ".+")`},
		{"destination headers", vsWith("\n  - match:\n    - method:\n        exact: GET" + toV2 + "\n      headers:\n        request:\n          set:\n            x-v: \"2\""), sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.http[0].route[0].headers is set to {"request":{"set":{"x-v":"2"}}}, and mesh_traffic_split has no attribute for it; remove it from the object before importing, or keep managing the object outside Terraform`},
		{"undefined subset", vsWith("\n  - match:\n    - method:\n        exact: GET"+toV2+"\n        subset: v2") + drReviews, sidecar, `VirtualService bookinfo/reviews: spec.http[0].route[0].destination.subset = "v2" names a subset that no DestinationRule among the objects defines for Service "reviews-v2"; pass the DestinationRule that defines it`},
		{"two destinationrules for a host", vsWith("") + drReviews + strings.Replace(drReviews, "name: reviews\n", "name: reviews-2\n", 1), sidecar, `DestinationRule bookinfo/reviews and DestinationRule bookinfo/reviews-2 both configure Service "reviews": import cannot tell which subsets apply; pass only the DestinationRule the route uses`},
		{"destinationrule traffic policy", vsWith("") + drReviews + "\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL", sidecar, `DestinationRule bookinfo/reviews cannot be imported losslessly: spec.trafficPolicy is set to {"tls":{"mode":"ISTIO_MUTUAL"}}, and mesh_traffic_split has no attribute for it; remove it from the object before importing, or keep managing the object outside Terraform`},
		{"no default route", vsHead + "  hosts:\n  - reviews\n  http:\n  - match:\n    - method:\n        exact: GET" + toV2, sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.http has no route that matches every request, so unmatched requests fall through to Service "reviews" itself; mesh_traffic_split always renders a weighted default rule (backends): add a last route without match`},
		{"catch-all route before others", vsHead + "  hosts:\n  - reviews\n  http:\n  - match:\n    - uri:\n        prefix: /" + toV2 + vsDefault, sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.http[0] matches every request, so the 1 route(s) after it are never used; remove them before importing`},
		{"no port anywhere", vsHead + "  hosts:\n  - reviews\n  http:\n  - route:\n    - destination:\n        host: reviews-v1", sidecar, `VirtualService bookinfo/reviews: the route has no port: no destination sets port.number, so import cannot pick one; set port.number on the destinations (or pass Service "reviews" if it has a single port)`},
		{"routes out of precedence order", vsWith("\n  - match:\n    - method:\n        exact: GET" + toV2 + "\n  - match:\n    - uri:\n        exact: /login" + toV2), sidecar, `VirtualService bookinfo/reviews cannot be imported losslessly: spec.http is not in Gateway API precedence order (exact path, longest path prefix, regex path, method, most headers), the order mesh_traffic_split renders match routes in, so after import spec.http[1] would be tried before spec.http[0] and could take requests that spec.http[0] wins today; reorder the routes before importing`},
		{"weight that is not a number", strings.Replace(vsWith(""), "          number: 9080", "          number: 9080\n      weight: ten", 1), sidecar, `VirtualService bookinfo/reviews: spec.http[0].route[0].weight is string (ten), want an integer`},

		// HTTPRoute
		{"hostnames", hrHead + "  hostnames:\n  - reviews.example.com" + hrParent + "\n  rules:" + hrDefault, ambient, `HTTPRoute bookinfo/reviews cannot be imported losslessly: spec.hostnames is set ([reviews.example.com]); mesh_traffic_split renders Service-parented routes without hostnames`},
		{"several parentRefs", hrHead + hrParent + "\n  - group: \"\"\n    kind: Service\n    name: ratings\n    port: 9080\n  rules:" + hrDefault, ambient, `HTTPRoute bookinfo/reviews cannot be imported losslessly: spec.parentRefs has 2 parents; mesh_traffic_split attaches its route to exactly one Service`},
		{"parentRef to a gateway", hrHead + "\n  parentRefs:\n  - name: ingress\n  rules:" + hrDefault, ambient, `HTTPRoute bookinfo/reviews cannot be imported losslessly: spec.parentRefs[0] refers to a Gateway (group "gateway.networking.k8s.io"), not to a Service; mesh_traffic_split only renders Service-parented (GAMMA) routes`},
		{"parentRef without port", strings.Replace(hrWith(""), "    port: 9080\n  rules", "  rules", 1), linkerd, `HTTPRoute bookinfo/reviews cannot be imported losslessly: spec.parentRefs[0].port is not set, so the route applies to every port of Service "reviews", while mesh_traffic_split attaches to one port; set the port before importing`},
		{"rule filters", hrWith("\n  - matches:\n    - method: GET\n    filters:\n    - type: RequestHeaderModifier" + hrToV2), ambient, `HTTPRoute bookinfo/reviews cannot be imported losslessly: spec.rules[0].filters[0].type is RequestHeaderModifier; mesh_traffic_split renders only RequestMirror filters`},
		{"rule timeouts", hrWith("\n  - matches:\n    - method: GET\n    timeouts:\n      request: 5s" + hrToV2), ambient, `HTTPRoute bookinfo/reviews cannot be imported losslessly: spec.rules[0].timeouts is set to {"request":"5s"}, and mesh_traffic_split has no attribute for it; remove it from the object before importing, or keep managing the object outside Terraform`},
		{"backendRef filters", hrWith("\n  - matches:\n    - method: GET" + hrToV2 + "\n      filters:\n      - type: RequestMirror"), ambient, `HTTPRoute bookinfo/reviews cannot be imported losslessly: spec.rules[0].backendRefs[0].filters is set to [{"type":"RequestMirror"}], and mesh_traffic_split has no attribute for it; remove it from the object before importing, or keep managing the object outside Terraform`},
		{"backendRef to another namespace", hrWith("\n  - matches:\n    - method: GET" + hrToV2 + "\n      namespace: shop"), ambient, `HTTPRoute bookinfo/reviews cannot be imported losslessly: spec.rules[0].backendRefs[0].namespace is shop; mesh_traffic_split only routes to Services in the route's namespace "bookinfo"`},
		{"backendRef to another kind", hrWith("\n  - matches:\n    - method: GET" + hrToV2 + "\n      group: inference.networking.k8s.io\n      kind: InferencePool"), ambient, `HTTPRoute bookinfo/reviews cannot be imported losslessly: spec.rules[0].backendRefs[0].group is "inference.networking.k8s.io"; mesh_traffic_split only routes to core Services`},
		{"backendRef to a service import", hrWith("\n  - matches:\n    - method: GET" + hrToV2 + "\n      kind: ServiceImport"), ambient, `HTTPRoute bookinfo/reviews cannot be imported losslessly: spec.rules[0].backendRefs[0].kind is "ServiceImport"; mesh_traffic_split only routes to Services`},
		{"query param match", hrWith("\n  - matches:\n    - queryParams:\n      - name: beta\n        value: \"1\"" + hrToV2), ambient, `HTTPRoute bookinfo/reviews cannot be imported losslessly: spec.rules[0].matches[0].queryParams is set to [{"name":"beta","value":"1"}], and mesh_traffic_split has no attribute for it; remove it from the object before importing, or keep managing the object outside Terraform`},
		{"no default rule", hrHead + hrParent + "\n  rules:\n  - matches:\n    - method: GET" + hrToV2, ambient, `HTTPRoute bookinfo/reviews cannot be imported losslessly: spec.rules has no rule that matches every request, so unmatched requests get no route; mesh_traffic_split always renders a weighted default rule (backends): add a rule without matches`},
		{"two default rules", hrWith(hrDefault), ambient, `HTTPRoute bookinfo/reviews cannot be imported losslessly: spec.rules[1] matches every request, as spec.rules[0] does; mesh_traffic_split has one weighted default rule (backends): merge them before importing`},
		{"rule without backends", hrWith("\n  - matches:\n    - method: GET"), ambient, `HTTPRoute bookinfo/reviews cannot be imported losslessly: spec.rules[0].backendRefs is empty, so the requests the rule matches get an error response; mesh_traffic_split needs at least one backend per rule`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render.ParseTrafficSplit(decode(t, tt.objects), tt.target)
			if err == nil {
				t.Fatal("ParseTrafficSplit succeeded; want an error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestParseTrafficSplitVirtualServiceFallbacks: ORed matches become one
// match route each, and without any destination port the parent Service's
// only port is used.
func TestParseTrafficSplitVirtualServiceFallbacks(t *testing.T) {
	objs := decode(t, vsHead+`  hosts:
  - reviews
  http:
  - match:
    - headers:
        x-beta:
          exact: "1"
    - uri:
        exact: /beta
    route:
    - destination:
        host: reviews-v2
  - route:
    - destination:
        host: reviews-v1
      weight: 90
    - destination:
        host: reviews-v2
---
apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: bookinfo
spec:
  ports:
  - port: 9080
`)
	got, err := render.ParseTrafficSplit(objs, mesh.TargetIstioSidecar)
	if err != nil {
		t.Fatal(err)
	}
	toV2 := []mesh.Backend{{Service: "reviews-v2", Port: 9080, Weight: 100}}
	want := mesh.TrafficSplit{
		Name: "reviews", Namespace: "bookinfo", Service: "reviews", Port: 9080, Target: mesh.TargetIstioSidecar,
		Backends: []mesh.Backend{{Service: "reviews-v1", Port: 9080, Weight: 90}, {Service: "reviews-v2", Port: 9080, Weight: 0}},
		MatchRoutes: []mesh.MatchRoute{
			{Headers: []mesh.HeaderMatch{{Name: "x-beta", Value: "1", Type: mesh.MatchExact}}, Backends: toV2},
			{Path: &mesh.PathMatch{Type: mesh.MatchExact, Value: "/beta"}, Backends: toV2},
		},
		WeightSemantics: mesh.WeightRelative, IstioAPI: mesh.IstioAPIAuto,
		Waypoint: mesh.Waypoint{Mode: mesh.WaypointRequire, Name: mesh.DefaultWaypointName},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseTrafficSplit (-want +got):\n%s", diff)
	}
}

// TestParseTrafficSplitUnusedSubsetOfTheRenderedRule: a DestinationRule of
// the name the split renders is replaced on apply, so a subset it would not
// keep under the same name (one no route of the split uses, or one the
// renderer names otherwise) would be removed, and another route using it
// would fail: the import refuses it. Under another name the rule stays, and
// merges.
func TestParseTrafficSplitUnusedSubsetOfTheRenderedRule(t *testing.T) {
	vs := vsHead + `  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
        port:
          number: 9080`
	rule := func(name, subsets string) string {
		return strings.Replace(drReviews, "name: reviews\n", "name: "+name+"\n", 1) + subsets
	}
	unused := `
  - name: v4
    labels:
      version: v4`
	_, err := render.ParseTrafficSplit(decode(t, vs+rule("reviews", unused)), mesh.TargetIstioSidecar)
	want := `DestinationRule bookinfo/reviews cannot be imported losslessly: spec.subsets defines subset "v4" {"labels":{"version":"v4"}}, which the DestinationRule mesh_traffic_split renders does not keep under that name (it holds the subsets the split's routes use, named from their labels: ["v1"]), so applying the import would remove it`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("unused subset: error %v, want one containing %q", err, want)
	}
	renamed := strings.Replace(vs, "subset: v1", "subset: version-one", 1) +
		strings.Replace(rule("reviews", ""), "- name: v1", "- name: version-one", 1)
	_, err = render.ParseTrafficSplit(decode(t, renamed), mesh.TargetIstioSidecar)
	want = `spec.subsets defines subset "version-one" {"labels":{"version":"v1"}}, which the DestinationRule mesh_traffic_split renders does not keep under that name`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("renamed subset: error %v, want one containing %q", err, want)
	}
	if _, err := render.ParseTrafficSplit(decode(t, vs+rule("reviews-versions", unused)), mesh.TargetIstioSidecar); err != nil {
		t.Errorf("a rule of another name: %v", err)
	}
}
