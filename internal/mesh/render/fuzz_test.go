package render_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/render"
)

// The fuzz targets: every renderer with its validator and the parser that
// inverts it, and every parser on arbitrary objects. Plain `go test` runs
// them on their seeds (the round-trip cases, the committed testdata and
// testdata/fuzz); `make fuzz` mutates them for a bounded time. On any
// input: no panic; and an intent that validates renders objects that parse
// back into an intent rendering the very same objects (nothing lost).

// seedIntents adds each case, JSON-encoded, as a seed.
func seedIntents[T any](f *testing.F, cases map[string]T) {
	for _, c := range cases {
		data, err := json.Marshal(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// yamlOf renders objs as the manifests state holds.
func yamlOf(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	out := make([]string, len(objs))
	for i, obj := range objs {
		y, err := render.YAML(obj)
		if err != nil {
			t.Fatalf("YAML: %v", err)
		}
		out[i] = y
	}
	return out
}

// sameObjects fails unless two renderings are the same objects.
func sameObjects(t *testing.T, what string, first, again []*unstructured.Unstructured) {
	t.Helper()
	if diff := cmp.Diff(yamlOf(t, first), yamlOf(t, again)); diff != "" {
		t.Fatalf("%s: rendering the parsed intent gives other objects (-rendered +re-rendered):\n%s", what, diff)
	}
}

func FuzzTrafficSplit(f *testing.F) {
	seedIntents(f, roundTripCases())
	f.Fuzz(func(t *testing.T, data []byte) {
		var ts mesh.TrafficSplit
		if json.Unmarshal(data, &ts) != nil {
			return
		}
		ts.Normalize()
		if ts.Validate().HasErrors() {
			return
		}
		objs, err := render.TrafficSplit(ts)
		if err != nil {
			return
		}
		got, err := render.ParseTrafficSplit(objs, ts.Target)
		if err != nil {
			t.Fatalf("ParseTrafficSplit(TrafficSplit(%+v)): %v", ts, err)
		}
		got.Normalize()
		again, err := render.TrafficSplit(got)
		if err != nil {
			t.Fatalf("TrafficSplit(parsed %+v): %v", got, err)
		}
		sameObjects(t, "traffic split", objs, again)
	})
}

func FuzzAuthorization(f *testing.F) {
	seedIntents(f, authzRoundTripCases())
	f.Fuzz(func(t *testing.T, data []byte) {
		var a mesh.Authorization
		if json.Unmarshal(data, &a) != nil {
			return
		}
		if a.Validate().HasErrors() {
			return
		}
		objs, err := render.Authorization(a)
		if err != nil {
			return
		}
		got, err := render.ParseAuthorization(objs, a.Target, a.Cluster.LegacyPrincipals)
		if err != nil {
			t.Fatalf("ParseAuthorization(Authorization(%+v)): %v", a, err)
		}
		got.Name, got.Owner, got.Cluster = a.Name, a.Owner, a.Cluster // what the provider supplies
		again, err := render.Authorization(got)
		if err != nil {
			t.Fatalf("Authorization(parsed %+v): %v", got, err)
		}
		sameObjects(t, "authorization", objs, again)
	})
}

func FuzzMTLSPolicy(f *testing.F) {
	seedIntents(f, mtlsRoundTripCases())
	f.Fuzz(func(t *testing.T, data []byte) {
		var p mesh.MTLSPolicy
		// The schema requires a name, a scope, a target and a mode.
		if json.Unmarshal(data, &p) != nil || p.Name == "" || p.Scope == "" || p.Target == "" || p.Mode == "" {
			return
		}
		if p.Validate().HasErrors() {
			return
		}
		objs, err := render.MTLSPolicy(p)
		if err != nil {
			return
		}
		got, err := render.ParseMTLSPolicy(objs, p.Target, p.Name, p.RootNamespace)
		if err != nil {
			t.Fatalf("ParseMTLSPolicy(MTLSPolicy(%+v)): %v", p, err)
		}
		got.Owner = p.Owner
		again, err := render.MTLSPolicy(got)
		if err != nil {
			t.Fatalf("MTLSPolicy(parsed %+v): %v", got, err)
		}
		sameObjects(t, "mtls policy", objs, again)
	})
}

func FuzzMirrorRoute(f *testing.F) {
	sidecar, ambient := mesh.TargetIstioSidecar, mesh.TargetIstioAmbient
	seedIntents(f, map[string]mesh.MirrorRoute{
		"sidecar": mirrorRoute(sidecar, func(mr *mesh.MirrorRoute) {
			mr.Mirror.Percentage = 12.5
			mr.Mirror.Match = &mesh.MatchRoute{Headers: []mesh.HeaderMatch{{Name: "x-mirror", Value: "yes"}}}
		}),
		"ambient":     mirrorRoute(ambient, func(mr *mesh.MirrorRoute) { mr.Waypoint.Mode = mesh.WaypointCreate }),
		"gateway api": mirrorRoute(sidecar, func(mr *mesh.MirrorRoute) { mr.IstioAPI = mesh.IstioAPIGatewayAPI }),
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		var mr mesh.MirrorRoute
		// The schema requires a name, a namespace, a service, a port and a
		// target.
		if json.Unmarshal(data, &mr) != nil || mr.Name == "" || mr.Namespace == "" || mr.Service == "" || mr.Port == 0 || mr.Target == "" {
			return
		}
		if mr.Validate().HasErrors() {
			return
		}
		objs, err := render.MirrorRoute(mr)
		if err != nil {
			return
		}
		if _, err := render.ParseMirrorRoute(objs, mr.Target); err != nil {
			t.Fatalf("ParseMirrorRoute(MirrorRoute(%+v)): %v", mr, err)
		}
	})
}

// FuzzParse feeds arbitrary YAML documents (seeded with every committed
// fixture) to every parser, for every target: errors are fine, panics are
// not.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var objs []*unstructured.Unstructured
		for _, doc := range strings.Split(string(data), "\n---\n") {
			j, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil {
				return
			}
			obj := &unstructured.Unstructured{}
			if obj.UnmarshalJSON(j) != nil {
				continue
			}
			objs = append(objs, obj)
		}
		for _, target := range mesh.Targets {
			_, _ = render.ParseTrafficSplit(objs, target)
			_, _ = render.ParseMirrorRoute(objs, target)
			_, _ = render.ParseAuthorization(objs, target, true)
			_, _ = render.ParseMTLSPolicy(objs, target, "policy", "istio-system")
		}
	})
}
