package render_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/render"
)

func mirrorRoute(target mesh.Target, edit func(*mesh.MirrorRoute)) mesh.MirrorRoute {
	mr := mesh.MirrorRoute{
		Name: "reviews-mirror", Namespace: "bookinfo", Service: "reviews", Port: 9080, Target: target,
		Owner:  mesh.Owner("mesh_mirror_route", "bookinfo", "reviews-mirror"),
		Mirror: mesh.Mirror{Destination: mesh.MirrorDestination{Service: "reviews-v2", Port: 9080}, Percentage: 100},
	}
	edit(&mr)
	mr.Normalize()
	return mr
}

// TestParseMirrorRouteRoundTrip renders each mirror route, reads it back
// through YAML as import does, and expects the same intent.
func TestParseMirrorRouteRoundTrip(t *testing.T) {
	sidecar, ambient := mesh.TargetIstioSidecar, mesh.TargetIstioAmbient
	cases := map[string]mesh.MirrorRoute{
		"sidecar 12.5 with match": mirrorRoute(sidecar, func(mr *mesh.MirrorRoute) {
			mr.Primary.Service = "reviews-v1"
			mr.Mirror.Percentage = 12.5
			mr.Mirror.Match = &mesh.MatchRoute{Headers: []mesh.HeaderMatch{{Name: "x-mirror", Value: "yes"}}}
		}),
		"sidecar subsets": mirrorRoute(sidecar, func(mr *mesh.MirrorRoute) {
			mr.Primary.SubsetLabels = map[string]string{"version": "v1"}
			mr.Mirror.Destination = mesh.MirrorDestination{Service: "reviews", Port: 9080, SubsetLabels: map[string]string{"version": "v2"}}
		}),
		"sidecar other namespace 0": mirrorRoute(sidecar, func(mr *mesh.MirrorRoute) {
			mr.Mirror.Destination.Namespace = "shadow"
			mr.Mirror.Percentage = 0
		}),
		"ambient waypoint percent 25": mirrorRoute(ambient, func(mr *mesh.MirrorRoute) {
			mr.Waypoint.Mode = mesh.WaypointCreate
			mr.Mirror.Percentage = 25
		}),
		"ambient fraction with path match": mirrorRoute(ambient, func(mr *mesh.MirrorRoute) {
			mr.Mirror.Percentage = 12.5
			mr.Mirror.Match = &mesh.MatchRoute{Path: &mesh.PathMatch{Type: mesh.MatchExact, Value: "/login"}, Method: "POST"}
		}),
		"gateway api other namespace": mirrorRoute(sidecar, func(mr *mesh.MirrorRoute) {
			mr.IstioAPI = mesh.IstioAPIGatewayAPI
			mr.Mirror.Destination.Namespace = "shadow"
		}),
	}
	for name, mr := range cases {
		t.Run(name, func(t *testing.T) {
			if ps := mr.Validate(); ps.HasErrors() {
				t.Fatalf("case is not valid: %+v", ps)
			}
			objs, err := render.MirrorRoute(mr)
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
			got, err := render.ParseMirrorRoute(decode(t, strings.Join(docs, "---\n")), mr.Target)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(mr, got); diff != "" {
				t.Errorf("ParseMirrorRoute(render(mr)) (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseMirrorRouteErrors(t *testing.T) {
	const vs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:`
	const hr = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews, namespace: bookinfo}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
  rules:`
	cases := []struct {
		name, yaml string
		target     mesh.Target
		want       string
	}{
		{"no mirror", vs + `
  - route: [{destination: {host: reviews, port: {number: 9080}}}]`, mesh.TargetIstioSidecar,
			"bookinfo/reviews cannot be imported as a mesh_mirror_route: the route mirrors no requests; import it as a mesh_traffic_split"},
		{"weighted split", vs + `
  - route: [{destination: {host: reviews-v1, port: {number: 9080}}, weight: 50}, {destination: {host: reviews-v2, port: {number: 9080}}, weight: 50}]
    mirrors: [{destination: {host: shadow, port: {number: 9080}}}]`, mesh.TargetIstioSidecar,
			"the route splits traffic (0 match routes, 2 default backends) besides mirroring; import it as a mesh_traffic_split with a mirror block"},
		{"two mirrors", vs + `
  - route: [{destination: {host: reviews, port: {number: 9080}}}]
    mirrors: [{destination: {host: a, port: {number: 1}}}, {destination: {host: b, port: {number: 1}}}]`, mesh.TargetIstioSidecar,
			"spec.http[0].mirrors has 2 mirrors; a mirror route has exactly one"},
		{"mirror without port", vs + `
  - route: [{destination: {host: reviews, port: {number: 9080}}}]
    mirrors: [{destination: {host: shadow}}]`, mesh.TargetIstioSidecar,
			"spec.http[0].mirrors[0].destination.port.number is not set"},
		{"mirror route routes elsewhere", vs + `
  - match: [{headers: {x-mirror: {exact: "yes"}}}]
    route: [{destination: {host: reviews-v2, port: {number: 9080}}}]
    mirrors: [{destination: {host: shadow, port: {number: 9080}}}]
  - route: [{destination: {host: reviews, port: {number: 9080}}}]`, mesh.TargetIstioSidecar,
			"spec.http[0] mirrors its requests but routes them to other destinations than the default route"},
		{"other filter", hr + `
  - backendRefs: [{name: reviews, port: 9080}]
    filters: [{type: RequestHeaderModifier}]`, mesh.TargetIstioAmbient,
			"spec.rules[0].filters[0].type is RequestHeaderModifier; mesh_traffic_split renders only RequestMirror filters"},
		{"linkerd", hr + `
  - backendRefs: [{name: reviews, port: 9080}]`, mesh.TargetLinkerd, mesh.MirLinkerdMessage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := render.ParseMirrorRoute(decode(t, c.yaml), c.target)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error:\n got %v\nwant containing %s", err, c.want)
			}
		})
	}
}
