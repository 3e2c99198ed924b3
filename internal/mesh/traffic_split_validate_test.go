package mesh_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// finding is the part of a Problem a user sees, minus the summary wording.
type finding struct {
	Severity mesh.Severity
	Code     string
	Path     []any
	Detail   string
}

func errorAt(code string, detail string, path ...any) finding {
	return finding{mesh.SeverityError, code, path, detail}
}

func warningAt(code string, detail string, path ...any) finding {
	return finding{mesh.SeverityWarning, code, path, detail}
}

// canary is a valid 90/10 split between two Services; each case edits it.
func canary(target mesh.Target, edit func(*mesh.TrafficSplit)) mesh.TrafficSplit {
	ts := mesh.TrafficSplit{
		Name: "reviews-split", Namespace: "bookinfo", Service: "reviews", Port: 9080, Target: target,
		Backends: []mesh.Backend{{Service: "reviews-v1", Weight: 90}, {Service: "reviews-v2", Weight: 10}},
	}
	edit(&ts)
	ts.Normalize()
	return ts
}

func withMatch(m mesh.MatchRoute) func(*mesh.TrafficSplit) {
	return func(ts *mesh.TrafficSplit) {
		m.Backends = []mesh.Backend{{Service: "reviews-v2", Weight: 100}}
		ts.MatchRoutes = []mesh.MatchRoute{m}
	}
}

func header(name, value string, t mesh.MatchType) mesh.MatchRoute {
	return mesh.MatchRoute{Headers: []mesh.HeaderMatch{{Name: name, Value: value, Type: t}}}
}

func path(t mesh.MatchType, value string) mesh.MatchRoute {
	return mesh.MatchRoute{Path: &mesh.PathMatch{Type: t, Value: value}}
}

func weights(ws ...int64) func(*mesh.TrafficSplit) {
	return func(ts *mesh.TrafficSplit) {
		ts.Backends = nil
		for _, w := range ws {
			ts.Backends = append(ts.Backends, mesh.Backend{Service: "reviews-v1", Weight: w})
		}
	}
}

func relative(edit func(*mesh.TrafficSplit)) func(*mesh.TrafficSplit) {
	return func(ts *mesh.TrafficSplit) {
		ts.WeightSemantics = mesh.WeightRelative
		edit(ts)
	}
}

func subsets(ts *mesh.TrafficSplit) {
	ts.Backends = []mesh.Backend{
		{Weight: 90, SubsetLabels: map[string]string{"version": "v1"}},
		{Weight: 10, SubsetLabels: map[string]string{"version": "v2"}},
	}
}

const subsetsDetail = "label-based subsets are only supported by Istio VirtualService/DestinationRule (istio-sidecar). For %s, create one Service per version and reference it in backends[].service."

func weightRequiredPercent(weight, rule string) string {
	return weight + " is required when a rule has more than one backend (weights are split as percentages: the weights of a rule must sum to 100). Set weight on every backend of " + rule + "; use weight = 0 for a backend that should receive no traffic."
}

func weightRequiredRelative(weight, rule string) string {
	return weight + " is required when a rule has more than one backend (weights are split relatively: each backend receives weight / (sum of the rule's weights) of its traffic). Set weight on every backend of " + rule + "; use weight = 0 for a backend that should receive no traffic."
}

const listLimit = "Gateway API allows at most 16 backendRefs per rule and 16 rules per HTTPRoute."

func TestTrafficSplitValidate(t *testing.T) {
	sidecar, ambient, linkerd := mesh.TargetIstioSidecar, mesh.TargetIstioAmbient, mesh.TargetLinkerd
	tests := []struct {
		name string
		ts   mesh.TrafficSplit
		want []finding
	}{
		{"valid canary", canary(sidecar, func(*mesh.TrafficSplit) {}), nil},
		{"valid subsets on sidecar virtualservice", canary(sidecar, subsets), nil},
		{"percent default rule sums to 95", canary(sidecar, weights(90, 5)), []finding{
			errorAt("MESH-TS-001", `backends weights in rule backends sum to 95; they must sum to 100 (set weight_semantics = "relative" to use proportional weights).`, "backends"),
		}},
		{"percent match rule sums to 50", canary(linkerd, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes = []mesh.MatchRoute{{Method: "GET", Backends: []mesh.Backend{{Weight: 50}}}}
		}), []finding{
			errorAt("MESH-TS-001", `backends weights in rule match_routes[0].backends sum to 50; they must sum to 100 (set weight_semantics = "relative" to use proportional weights).`, "match_routes", 0, "backends"),
		}},
		{"percent all zero reports the sum only", canary(sidecar, weights(0, 0)), []finding{
			errorAt("MESH-TS-001", `backends weights in rule backends sum to 0; they must sum to 100 (set weight_semantics = "relative" to use proportional weights).`, "backends"),
		}},
		{"percent weight above 100 and below 0", canary(sidecar, weights(150, -50)), []finding{
			errorAt("MESH-TS-018", `backends[0].weight = 150; with weight_semantics = "percent" weights must be between 0 and 100.`, "backends", 0, "weight"),
			errorAt("MESH-TS-018", `backends[1].weight = -50; with weight_semantics = "percent" weights must be between 0 and 100.`, "backends", 1, "weight"),
		}},
		{"relative weight above 1000000", canary(sidecar, relative(weights(1_000_001, 1))), []finding{
			errorAt("MESH-TS-018", `backends[0].weight = 1000001; with weight_semantics = "relative" weights must be between 0 and 1000000.`, "backends", 0, "weight"),
		}},
		{"relative weights need not sum to 100", canary(sidecar, relative(weights(3, 1, 0))), nil},
		{"relative all zero", canary(sidecar, relative(weights(0, 0))), []finding{
			errorAt("MESH-TS-002", "total destination weight = 0: at least one backend needs a non-zero weight.", "backends"),
		}},
		{"relative lone backend with weight zero", canary(sidecar, relative(weights(0))), []finding{
			errorAt("MESH-TS-002", "total destination weight = 0: at least one backend needs a non-zero weight.", "backends"),
		}},
		{"percent missing weight in a rule of two", canary(sidecar, weights(90, mesh.WeightUnset)), []finding{
			errorAt("MESH-TS-024", weightRequiredPercent("backends[1].weight", "backends"), "backends", 1, "weight"),
		}},
		{"relative missing weights report each backend", canary(linkerd, relative(weights(mesh.WeightUnset, 3, mesh.WeightUnset))), []finding{
			errorAt("MESH-TS-024", weightRequiredRelative("backends[0].weight", "backends"), "backends", 0, "weight"),
			errorAt("MESH-TS-024", weightRequiredRelative("backends[2].weight", "backends"), "backends", 2, "weight"),
		}},
		{"missing weight in a match route", canary(ambient, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes = []mesh.MatchRoute{{Method: "GET", Backends: []mesh.Backend{{Weight: mesh.WeightUnset}, {Service: "reviews-v2", Weight: 50}}}}
		}), []finding{
			errorAt("MESH-TS-024", weightRequiredPercent("match_routes[0].backends[0].weight", "match_routes[0].backends"), "match_routes", 0, "backends", 0, "weight"),
		}},
		{"missing weight next to an out-of-range one", canary(sidecar, weights(150, mesh.WeightUnset)), []finding{
			errorAt("MESH-TS-018", `backends[0].weight = 150; with weight_semantics = "percent" weights must be between 0 and 100.`, "backends", 0, "weight"),
			errorAt("MESH-TS-024", weightRequiredPercent("backends[1].weight", "backends"), "backends", 1, "weight"),
		}},
		{"lone backend without weight gets 100", canary(sidecar, weights(mesh.WeightUnset)), nil},
		{"lone relative backend without weight gets 100", canary(sidecar, relative(weights(mesh.WeightUnset))), nil},
		{"subset_labels on istio-ambient", canary(ambient, subsets), []finding{
			errorAt("MESH-TS-003", strings.Replace(subsetsDetail, "%s", "istio-ambient", 1), "backends", 0, "subset_labels"),
			errorAt("MESH-TS-003", strings.Replace(subsetsDetail, "%s", "istio-ambient", 1), "backends", 1, "subset_labels"),
		}},
		{"subset_labels on linkerd match route", canary(linkerd, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes = []mesh.MatchRoute{{Method: "GET", Backends: []mesh.Backend{{Weight: 100, SubsetLabels: map[string]string{"version": "v2"}}}}}
		}), []finding{
			errorAt("MESH-TS-003", strings.Replace(subsetsDetail, "%s", "linkerd", 1), "match_routes", 0, "backends", 0, "subset_labels"),
		}},
		{"subset_labels on sidecar with gateway_api", canary(sidecar, func(ts *mesh.TrafficSplit) {
			subsets(ts)
			ts.Backends = ts.Backends[:1]
			ts.Backends[0].Weight = 100
			ts.IstioAPI = mesh.IstioAPIGatewayAPI
		}), []finding{
			errorAt("MESH-TS-003", strings.Replace(subsetsDetail, "%s", `istio-sidecar with istio_api = "gateway_api"`, 1), "backends", 0, "subset_labels"),
		}},
		{"virtualservice on istio-ambient", canary(ambient, func(ts *mesh.TrafficSplit) { ts.IstioAPI = mesh.IstioAPIVirtualService }), []finding{
			errorAt("MESH-TS-007", `VirtualService on waypoints is Alpha and cannot be mixed with HTTPRoute; use istio_api = "gateway_api" (default in ambient).`, "istio_api"),
		}},
		{"17 backends in a rule", canary(sidecar, weights(6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 4)), []finding{
			errorAt("MESH-TS-015", listLimit+" backends has 17 elements; remove 1.", "backends"),
		}},
		{"16 match routes", canary(sidecar, func(ts *mesh.TrafficSplit) {
			for range 16 {
				ts.MatchRoutes = append(ts.MatchRoutes, mesh.MatchRoute{Method: "GET", Backends: []mesh.Backend{{Weight: 100}}})
			}
		}), []finding{
			errorAt("MESH-TS-015", listLimit+" match_routes has 16 elements; at most 15 are allowed because the weighted default rule (backends) is the 16th.", "match_routes"),
		}},
		{"match route without backends", canary(sidecar, func(ts *mesh.TrafficSplit) {
			ts.MatchRoutes = []mesh.MatchRoute{{Method: "GET"}}
		}), []finding{
			errorAt("MESH-TS-023", "match_routes[0].backends is empty; every rule needs at least one backend to send its requests to.", "match_routes", 0, "backends"),
		}},
		{"ambient_waypoint on linkerd", canary(linkerd, func(ts *mesh.TrafficSplit) { ts.Waypoint.Mode = mesh.WaypointCreate }), []finding{
			warningAt("MESH-TS-022", `ambient_waypoint only applies to target "istio-ambient"; it is ignored for "linkerd". Remove it.`, "ambient_waypoint"),
		}},
		{"ambient_waypoint name on sidecar", canary(sidecar, func(ts *mesh.TrafficSplit) { ts.Waypoint.Name = "wp" }), []finding{
			warningAt("MESH-TS-022", `ambient_waypoint only applies to target "istio-ambient"; it is ignored for "istio-sidecar". Remove it.`, "ambient_waypoint"),
		}},
		{"ambient_waypoint on ambient", canary(ambient, func(ts *mesh.TrafficSplit) { ts.Waypoint.Mode = mesh.WaypointCreate }), nil},
		{"prefix header on gateway api", canary(ambient, withMatch(header("authorization", "Bearer a.b", mesh.MatchPrefix))), []finding{
			warningAt("MESH-TS-011", `prefix header matches are rendered as RegularExpression "^Bearer a\.b.*".`, "match_routes", 0, "headers", 0, "type"),
		}},
		{"prefix header on virtualservice", canary(sidecar, withMatch(header("authorization", "Bearer", mesh.MatchPrefix))), nil},
		{"upper-case header on virtualservice", canary(sidecar, withMatch(header("X-User", "beta", mesh.MatchExact))), []finding{
			warningAt("MESH-TS-012", `header names are lower-cased for Istio VirtualService (required by the API). "X-User" is rendered as "x-user".`, "match_routes", 0, "headers", 0, "name"),
		}},
		{"upper-case header on gateway api", canary(linkerd, withMatch(header("X-User", "beta", mesh.MatchExact))), nil},
		{"header name with a space", canary(sidecar, withMatch(header("x user", "beta", mesh.MatchExact))), []finding{
			errorAt("MESH-TS-019", "match_routes[0].headers[0].name = \"x user\" is not a valid HTTP header name: use 1 to 256 letters, digits or !#$%&'*+-.^_`|~ (no spaces, colons or pseudo-headers).", "match_routes", 0, "headers", 0, "name"),
		}},
		{"pseudo-header name", canary(sidecar, withMatch(header(":authority", "a", mesh.MatchExact))), []finding{
			errorAt("MESH-TS-019", "match_routes[0].headers[0].name = \":authority\" is not a valid HTTP header name: use 1 to 256 letters, digits or !#$%&'*+-.^_`|~ (no spaces, colons or pseudo-headers).", "match_routes", 0, "headers", 0, "name"),
		}},
		{"duplicate header name", canary(linkerd, withMatch(mesh.MatchRoute{Headers: []mesh.HeaderMatch{
			{Name: "x-user", Value: "a"}, {Name: "X-User", Value: "b"},
		}})), []finding{
			errorAt("MESH-TS-019", `match_routes[0].headers[1].name = "X-User" repeats a header of the same match route (names are case-insensitive); combine the conditions into one, e.g. with type = "regex".`, "match_routes", 0, "headers", 1, "name"),
		}},
		{"empty exact header value", canary(sidecar, withMatch(header("x-user", "", mesh.MatchExact))), []finding{
			errorAt("MESH-TS-019", `match_routes[0].headers[0].value is empty; give the value to match (to match any value of the header, use type = "regex" with value ".*").`, "match_routes", 0, "headers", 0, "value"),
		}},
		{"empty prefix header value", canary(sidecar, withMatch(header("x-user", "", mesh.MatchPrefix))), []finding{
			errorAt("MESH-TS-019", `match_routes[0].headers[0].value is empty; give the value to match (to match any value of the header, use type = "regex" with value ".*").`, "match_routes", 0, "headers", 0, "value"),
		}},
		{"header value too long", canary(sidecar, withMatch(header("x-user", strings.Repeat("a", 4097), mesh.MatchExact))), []finding{
			errorAt("MESH-TS-019", "match_routes[0].headers[0].value is 4097 characters long; Gateway API allows at most 4096.", "match_routes", 0, "headers", 0, "value"),
		}},
		{"unknown header type", canary(sidecar, withMatch(header("x-user", "a", "glob"))), []finding{
			errorAt("MESH-TS-019", `match_routes[0].headers[0].type = "glob"; use one of exact, prefix, regex.`, "match_routes", 0, "headers", 0, "type"),
		}},
		{"invalid header regex", canary(sidecar, withMatch(header("x-user", "[a-", mesh.MatchRegex))), []finding{
			errorAt("MESH-TS-019", "match_routes[0].headers[0].value = \"[a-\" is not a valid RE2 regular expression: error parsing regexp: missing closing ]: `[a-`.", "match_routes", 0, "headers", 0, "value"),
		}},
		{"relative exact path", canary(sidecar, withMatch(path(mesh.MatchExact, "api"))), []finding{
			errorAt("MESH-TS-019", `match_routes[0].path.value = "api" does not start with "/"; exact and prefix paths must be absolute, normalized URL paths such as "/api".`, "match_routes", 0, "path", "value"),
		}},
		{"prefix path with double slash", canary(sidecar, withMatch(path(mesh.MatchPrefix, "/a//b"))), []finding{
			errorAt("MESH-TS-019", `match_routes[0].path.value = "/a//b" contains "//"; exact and prefix paths must be absolute, normalized URL paths such as "/api".`, "match_routes", 0, "path", "value"),
		}},
		{"prefix path ending in dot segment", canary(sidecar, withMatch(path(mesh.MatchPrefix, "/a/.."))), []finding{
			errorAt("MESH-TS-019", `match_routes[0].path.value = "/a/.." ends with "/.."; exact and prefix paths must be absolute, normalized URL paths such as "/api".`, "match_routes", 0, "path", "value"),
		}},
		{"exact path with a space", canary(sidecar, withMatch(path(mesh.MatchExact, "/a b"))), []finding{
			errorAt("MESH-TS-019", `match_routes[0].path.value = "/a b" contains characters that are not allowed in a URL path (percent-encode them); exact and prefix paths must be absolute, normalized URL paths such as "/api".`, "match_routes", 0, "path", "value"),
		}},
		{"path too long", canary(sidecar, withMatch(path(mesh.MatchExact, "/"+strings.Repeat("a", 1024)))), []finding{
			errorAt("MESH-TS-019", "match_routes[0].path.value is 1025 characters long; Gateway API allows at most 1024.", "match_routes", 0, "path", "value"),
		}},
		{"invalid path regex", canary(sidecar, withMatch(path(mesh.MatchRegex, "/(a"))), []finding{
			errorAt("MESH-TS-019", "match_routes[0].path.value = \"/(a\" is not a valid RE2 regular expression: error parsing regexp: missing closing ): `/(a`.", "match_routes", 0, "path", "value"),
		}},
		{"empty path regex", canary(sidecar, withMatch(path(mesh.MatchRegex, ""))), []finding{
			errorAt("MESH-TS-019", `match_routes[0].path.value is empty; give a regular expression (for every path use type = "prefix" with value "/").`, "match_routes", 0, "path", "value"),
		}},
		{"unknown path type", canary(sidecar, withMatch(path("glob", "/a"))), []finding{
			errorAt("MESH-TS-019", `match_routes[0].path.type = "glob"; use one of exact, prefix, regex.`, "match_routes", 0, "path", "type"),
		}},
		{"lower-case method", canary(sidecar, withMatch(mesh.MatchRoute{Method: "get"})), []finding{
			errorAt("MESH-TS-019", `match_routes[0].method = "get" is not an HTTP method the route APIs accept; use one of GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH (upper case).`, "match_routes", 0, "method"),
		}},
		{"match route without conditions", canary(sidecar, withMatch(mesh.MatchRoute{})), []finding{
			errorAt("MESH-TS-020", `match_routes[0] has no header, method or path condition narrower than prefix "/", so it matches every request and the weighted default rule (backends) is never used. Add a headers, path or method condition, or move its backends into backends.`, "match_routes", 0),
		}},
		{"match route on prefix / only", canary(linkerd, withMatch(path(mesh.MatchPrefix, "/"))), []finding{
			errorAt("MESH-TS-020", `match_routes[0] has no header, method or path condition narrower than prefix "/", so it matches every request and the weighted default rule (backends) is never used. Add a headers, path or method condition, or move its backends into backends.`, "match_routes", 0),
		}},
		{"service port above 65535", canary(sidecar, func(ts *mesh.TrafficSplit) {
			ts.Port = 70000
			ts.Backends[0].Port, ts.Backends[1].Port = 9080, 9080
		}), []finding{
			errorAt("MESH-TS-021", "port = 70000; a Service port must be between 1 and 65535.", "port"),
		}},
		{"backend port below 1", canary(sidecar, func(ts *mesh.TrafficSplit) { ts.Backends[1].Port = -1 }), []finding{
			errorAt("MESH-TS-021", "backends[1].port = -1; a Service port must be between 1 and 65535.", "backends", 1, "port"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []finding
			for _, p := range tt.ts.Validate() {
				if !strings.HasPrefix(p.Summary, p.Code+": ") || len(p.Summary) == len(p.Code)+2 {
					t.Errorf("summary %q does not read \"%s: <summary>\"", p.Summary, p.Code)
				}
				got = append(got, finding{p.Severity, p.Code, p.Path, p.Detail})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate() (-want +got):\n%s", diff)
			}
		})
	}
}
