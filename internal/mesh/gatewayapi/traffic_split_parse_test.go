package gatewayapi

import (
	"strings"
	"testing"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/meshtest"
)

// TestProveHTTPRouteCatchesAnIntentThatLosesSomething: the parse of this
// HTTPRoute read from a cluster passes its proof; an intent that differs
// from it in any way the renderer shows fails it, naming the live field.
func TestProveHTTPRouteCatchesAnIntentThatLosesSomething(t *testing.T) {
	cases := []struct {
		file   string
		target mesh.Target
		edit   func(*mesh.TrafficSplit)
		want   string
	}{
		{"import_httproute_from_cluster.yaml", mesh.TargetLinkerd, func(ts *mesh.TrafficSplit) { ts.Backends[0].Port = 8081 },
			"spec.rules[1].backendRefs[0].port is 8080, and mesh_traffic_split would render 8081"},
		{"import_httproute_from_cluster.yaml", mesh.TargetLinkerd, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes = append(ts.MatchRoutes, mesh.MatchRoute{Method: "DELETE", Backends: ts.Backends})
		}, `spec has no route for {"method":"DELETE"}, and mesh_traffic_split would render one`},
		{"import_httproute_from_cluster.yaml", mesh.TargetLinkerd, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes[0].Headers[0].Value = "false"
		}, `spec.rules[0] matches {"headers":[{"name":"X-Canary","type":"Exact","value":"true"}]}`},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			p, err := readLinkerdSplit(meshtest.ObjectsFile(t, "../render/testdata/"+c.file))
			if err != nil {
				t.Fatal(err)
			}
			if err := p.proveHTTPRoute(); err != nil {
				t.Fatalf("the parse itself fails its proof: %v", err)
			}
			c.edit(&p.TS)
			err = p.proveHTTPRoute()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
