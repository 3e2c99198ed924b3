package render_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
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

// renderCycle is one intent kind's renderer, validator and parser.
type renderCycle[T any] struct {
	name string
	// usable normalizes an intent and reports whether the provider could
	// hand it to the renderer: its schema's required values are set and
	// it validates.
	usable func(*T) bool
	render func(T) ([]*unstructured.Unstructured, error)
	// parse reads objects rendered from orig back, supplying what the
	// provider supplies on import (names, owner, cluster lookups).
	parse func(orig T, objs []*unstructured.Unstructured) (T, error)
}

// check runs data (a JSON intent) through render, parse and render again.
func (c renderCycle[T]) check(t *testing.T, data []byte) {
	var in T
	if json.Unmarshal(data, &in) != nil || !c.usable(&in) {
		return
	}
	objs, err := c.render(in)
	if err != nil {
		return
	}
	got, err := c.parse(in, objs)
	if err != nil {
		t.Fatalf("%s: parsing the objects rendered from %+v: %v", c.name, in, err)
	}
	again, err := c.render(got)
	if err != nil {
		t.Fatalf("%s: rendering the parsed %+v: %v", c.name, got, err)
	}
	sameObjects(t, c.name, objs, again)
}

func FuzzTrafficSplit(f *testing.F) {
	seedIntents(f, roundTripCases())
	c := renderCycle[mesh.TrafficSplit]{
		name: "traffic split",
		usable: func(ts *mesh.TrafficSplit) bool {
			if ts.Owner == "" { // the provider always sets it
				ts.Owner = mesh.Owner("mesh_traffic_split", ts.Namespace, ts.Name)
			}
			ts.Normalize()
			return splitNamesValid(*ts) && !ts.Validate().HasErrors()
		},
		render: render.TrafficSplit,
		parse: func(ts mesh.TrafficSplit, objs []*unstructured.Unstructured) (mesh.TrafficSplit, error) {
			got, err := render.ParseTrafficSplit(objs, ts.Target)
			got.Normalize()
			return got, err
		},
	}
	f.Fuzz(c.check)
}

func FuzzAuthorization(f *testing.F) {
	seedIntents(f, authzRoundTripCases())
	c := renderCycle[mesh.Authorization]{
		name:   "authorization",
		usable: func(a *mesh.Authorization) bool { return !a.Validate().HasErrors() },
		render: render.Authorization,
		parse: func(a mesh.Authorization, objs []*unstructured.Unstructured) (mesh.Authorization, error) {
			got, err := render.ParseAuthorization(objs, a.Target, a.Name, a.Cluster.LegacyPrincipals)
			got.Name, got.Owner, got.Cluster = a.Name, a.Owner, a.Cluster
			return got, err
		},
	}
	f.Fuzz(c.check)
}

func FuzzMTLSPolicy(f *testing.F) {
	seedIntents(f, mtlsRoundTripCases())
	c := renderCycle[mesh.MTLSPolicy]{
		name: "mtls policy",
		usable: func(p *mesh.MTLSPolicy) bool {
			// The schema requires a name, a scope, a target and a mode, one
			// of its values.
			return p.Name != "" && p.Scope != "" && p.Target != "" && slices.Contains(mesh.MTLSModeValues, p.Mode) && !p.Validate().HasErrors()
		},
		render: render.MTLSPolicy,
		parse: func(p mesh.MTLSPolicy, objs []*unstructured.Unstructured) (mesh.MTLSPolicy, error) {
			got, err := render.ParseMTLSPolicy(objs, p.Target, p.Name, p.RootNamespace)
			got.Owner = p.Owner
			return got, err
		},
	}
	f.Fuzz(c.check)
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
	c := renderCycle[mesh.MirrorRoute]{
		name: "mirror route",
		usable: func(mr *mesh.MirrorRoute) bool {
			// The schema requires a name, a namespace, a service, a port
			// and a target; the provider sets the owner and normalizes
			// before rendering.
			if mr.Owner == "" {
				mr.Owner = mesh.Owner("mesh_mirror_route", mr.Namespace, mr.Name)
			}
			mr.Normalize()
			return mr.Name != "" && mr.Namespace != "" && mr.Service != "" && mr.Port != 0 && mr.Target != "" &&
				!mr.Validate().HasErrors() && splitNamesValid(mr.Split())
		},
		render: render.MirrorRoute,
		parse: func(mr mesh.MirrorRoute, objs []*unstructured.Unstructured) (mesh.MirrorRoute, error) {
			got, err := render.ParseMirrorRoute(objs, mr.Target)
			got.Owner = mr.Owner
			return got, err
		},
	}
	f.Fuzz(c.check)
}

// splitNamesValid is what the schemas' dnsLabel validators check of the
// Services a split routes to (mesh's Validate leaves them to the schema).
func splitNamesValid(ts mesh.TrafficSplit) bool {
	names := []string{ts.Service}
	for _, b := range ts.Backends {
		names = append(names, b.Service)
	}
	for _, r := range ts.MatchRoutes {
		for _, b := range r.Backends {
			names = append(names, b.Service)
		}
	}
	if ts.Mirror != nil {
		names = append(names, ts.Mirror.Destination.Service, ts.Mirror.Destination.Namespace)
	}
	for _, n := range names {
		if len(validation.IsDNS1123Label(n)) > 0 {
			return false
		}
	}
	return true
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
			_, _ = render.ParseAuthorization(objs, target, "default", true)
			_, _ = render.ParseMTLSPolicy(objs, target, "policy", "istio-system")
		}
	})
}
