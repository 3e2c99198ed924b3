package istio

import (
	"strings"
	"testing"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/meshtest"
)

// TestProveCatchesAnIntentThatLosesSomething: the parse of these unmanaged
// objects passes its proof; an intent that differs from them in any way the
// renderer shows fails it, naming the live field. This is the net under the
// parser: a reading that drops or changes something is caught here.
func TestProveCatchesAnIntentThatLosesSomething(t *testing.T) {
	cases := []struct {
		file   string
		target mesh.Target
		edit   func(*mesh.TrafficSplit)
		want   string
	}{
		{"import_virtualservice_unmanaged.yaml", mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) { ts.Backends[1].Weight = 20 },
			"spec.http[2].route[1].weight is 25, and mesh_traffic_split would render 20"},
		{"import_virtualservice_unmanaged.yaml", mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes[1].Backends[0].SubsetLabels = map[string]string{"version": "v9"}
		}, `spec.http[1].route[0].destination.subset.labels.version is "v2", and mesh_traffic_split would render "v9"`},
		{"import_virtualservice_unmanaged.yaml", mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) { ts.MatchRoutes = ts.MatchRoutes[:1] },
			`spec.http[1] matches {"headers":{"end-user":{"exact":"jason"},"x-client":{"prefix":"ios-"}}}, and mesh_traffic_split would render no route for that match`},
		{"import_virtualservice_unmanaged.yaml", mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes[0].Method = "POST"
		}, `spec.http[0] matches`},
		{"import_virtualservice_unmanaged.yaml", mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) {
			ts.Mirror = &mesh.Mirror{Percentage: 10, Destination: mesh.MirrorDestination{Service: "shadow", Namespace: "bookinfo", Port: 9080}}
		}, `spec.http[2].mirrors is not set, and mesh_traffic_split would set it to`},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			p, err := readSplit(meshtest.ObjectsFile(t, "../render/testdata/"+c.file), c.target)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.prove(); err != nil {
				t.Fatalf("the parse itself fails its proof: %v", err)
			}
			c.edit(&p.TS)
			err = p.prove()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestProveComparesTheWaypointItCreates: the waypoint Gateway of a split
// that creates it parses with what the API server adds (the listeners'
// default allowedRoutes, status, metadata), and any other difference from
// the Gateway the split renders fails the import, naming the field. A
// waypoint the split only requires is not compared.
func TestProveComparesTheWaypointItCreates(t *testing.T) {
	cases := []struct {
		name string
		edit func(gw map[string]any)
		want string // "" parses
	}{
		{"as the API server returns it", func(gw map[string]any) {
			listener := gw["spec"].(map[string]any)["listeners"].([]any)[0].(map[string]any)
			listener["allowedRoutes"] = map[string]any{"namespaces": map[string]any{"from": "Same"}}
			gw["status"] = map[string]any{"conditions": []any{map[string]any{"type": "Programmed", "status": "True", "reason": "Programmed", "message": "", "lastTransitionTime": "2026-12-02T00:00:00Z"}}}
			gw["metadata"].(map[string]any)["uid"] = "5d1f0c2e-0000-4000-8000-000000000001"
		}, ""},
		{"another port", func(gw map[string]any) {
			gw["spec"].(map[string]any)["listeners"].([]any)[0].(map[string]any)["port"] = int64(15009)
		}, "spec.listeners[0].port is 15009, and mesh_traffic_split would render 15008"},
		{"routes from every namespace", func(gw map[string]any) {
			listener := gw["spec"].(map[string]any)["listeners"].([]any)[0].(map[string]any)
			listener["allowedRoutes"] = map[string]any{"namespaces": map[string]any{"from": "All"}}
		}, "spec.listeners[0].allowedRoutes"},
		{"a second listener", func(gw map[string]any) {
			spec := gw["spec"].(map[string]any)
			spec["listeners"] = append(spec["listeners"].([]any), map[string]any{"name": "http", "port": int64(80), "protocol": "HTTP"})
		}, "spec.listeners has 2 items, and mesh_traffic_split would render 1"},
		{"infrastructure", func(gw map[string]any) {
			gw["spec"].(map[string]any)["infrastructure"] = map[string]any{"labels": map[string]any{"team": "a"}}
		}, "spec.infrastructure"},
		{"a waypoint for workloads", func(gw map[string]any) {
			gw["metadata"].(map[string]any)["labels"].(map[string]any)["istio.io/waypoint-for"] = "workload"
		}, `metadata.labels.istio.io/waypoint-for is "workload", and mesh_traffic_split would render "service"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs := meshtest.ObjectsFile(t, "testdata/ambient_waypoint_create.golden.yaml")
			for _, obj := range objs {
				if obj.GetKind() == "Gateway" {
					c.edit(obj.Object)
				}
			}
			_, err := ParseTrafficSplit(objs, mesh.TargetIstioAmbient)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("the waypoint as the API server returns it fails: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
