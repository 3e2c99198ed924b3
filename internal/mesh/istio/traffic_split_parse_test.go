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
