package istio_test

import (
	"testing"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/render"
	"github.com/meshform/terraform-provider-mesh/internal/meshtest"
)

// httpbin is the mirror route of MESH-MAPPING §4.2 (httpbin to httpbin-v2),
// before edit and Normalize.
func httpbin(target mesh.Target, edit func(*mesh.MirrorRoute)) mesh.MirrorRoute {
	mr := mesh.MirrorRoute{
		Name:      "httpbin-mirror",
		Namespace: "default",
		Owner:     mesh.Owner("mesh_mirror_route", "default", "httpbin-mirror"),
		Service:   "httpbin",
		Port:      8000,
		Target:    target,
		Mirror:    mesh.Mirror{Destination: mesh.MirrorDestination{Service: "httpbin-v2", Port: 8000}, Percentage: 100},
	}
	edit(&mr)
	mr.Normalize()
	return mr
}

var mirrorCases = map[string]mesh.MirrorRoute{
	"mirror_sidecar_12_5_percent": httpbin(mesh.TargetIstioSidecar, func(mr *mesh.MirrorRoute) {
		mr.Mirror.Percentage = 12.5
	}),
	"mirror_sidecar_match_other_namespace": httpbin(mesh.TargetIstioSidecar, func(mr *mesh.MirrorRoute) {
		mr.Mirror.Destination.Namespace = "shadow"
		mr.Mirror.Percentage = 50
		mr.Mirror.Match = &mesh.MatchRoute{
			Headers: []mesh.HeaderMatch{{Name: "X-Mirror", Value: "yes"}},
			Method:  "GET",
		}
	}),
	"mirror_sidecar_subsets": httpbin(mesh.TargetIstioSidecar, func(mr *mesh.MirrorRoute) {
		mr.Primary.SubsetLabels = map[string]string{"version": "v1"}
		mr.Mirror.Destination = mesh.MirrorDestination{Service: "httpbin", Port: 8000, SubsetLabels: map[string]string{"version": "v2"}}
	}),
	"mirror_ambient_fraction_12_5": httpbin(mesh.TargetIstioAmbient, func(mr *mesh.MirrorRoute) {
		mr.Waypoint.Mode = mesh.WaypointCreate
		mr.Mirror.Percentage = 12.5
	}),
	"mirror_ambient_percent_25_match": httpbin(mesh.TargetIstioAmbient, func(mr *mesh.MirrorRoute) {
		mr.Mirror.Percentage = 25
		mr.Mirror.Match = &mesh.MatchRoute{Path: &mesh.PathMatch{Type: mesh.MatchPrefix, Value: "/api"}}
	}),
	"mirror_gateway_api_all_other_namespace": httpbin(mesh.TargetIstioSidecar, func(mr *mesh.MirrorRoute) {
		mr.IstioAPI = mesh.IstioAPIGatewayAPI
		mr.Primary.Service = "httpbin-v1"
		mr.Mirror.Destination.Namespace = "shadow"
	}),
}

func TestRenderMirrorRouteGolden(t *testing.T) {
	for name, mr := range mirrorCases {
		t.Run(name, func(t *testing.T) {
			if ps := mr.Validate(); ps.HasErrors() {
				t.Fatalf("case is not a valid mirror route: %+v", ps)
			}
			objs, err := render.MirrorRoute(mr)
			if err != nil {
				t.Fatal(err)
			}
			for _, obj := range objs {
				if err := decodeStrictly(obj); err != nil {
					t.Errorf("%s %s: %v", obj.GetKind(), obj.GetName(), err)
				}
			}
			meshtest.GoldenObjects(t, name, objs...)
		})
	}
}

func TestRenderMirrorRouteRejectsLinkerd(t *testing.T) {
	_, err := render.MirrorRoute(httpbin(mesh.TargetLinkerd, func(*mesh.MirrorRoute) {}))
	if err == nil || err.Error() != mesh.MirLinkerdMessage {
		t.Errorf("render.MirrorRoute(linkerd) = %v, want the MESH-MIR-001 text", err)
	}
}
