package mesh_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// shadow is a valid mirror route: reviews to reviews-v1, 10 % copied to
// reviews-v2; each case edits it.
func shadow(target mesh.Target, edit func(*mesh.MirrorRoute)) mesh.MirrorRoute {
	mr := mesh.MirrorRoute{
		Name: "reviews-mirror", Namespace: "bookinfo", Service: "reviews", Port: 9080, Target: target,
		Primary: mesh.Backend{Service: "reviews-v1"},
		Mirror:  mesh.Mirror{Destination: mesh.MirrorDestination{Service: "reviews-v2", Port: 9080}, Percentage: 10},
	}
	edit(&mr)
	mr.Normalize()
	return mr
}

func findings(ps mesh.Problems) []finding {
	var got []finding
	for _, p := range ps {
		if !strings.HasPrefix(p.Summary, p.Code+": ") {
			got = append(got, finding{p.Severity, "summary without code: " + p.Summary, p.Path, p.Detail})
			continue
		}
		got = append(got, finding{p.Severity, p.Code, p.Path, p.Detail})
	}
	return got
}

const (
	subsetText     = "label-based subsets are only supported by Istio VirtualService/DestinationRule (istio-sidecar). For %s, create one Service per version and reference it in backends[].service."
	linkerdText    = `traffic mirroring is not supported by Linkerd: the policy controller rejects RequestMirror filters ("RequestMirror filter is not supported") and drops the whole HTTPRoute. See linkerd/linkerd2#4385. Remove the mirror, or mirror on an Istio target.`
	sameTargetText = "mirror target must differ from the primary destination. Service bookinfo/reviews-v1:9080 already receives these requests; mirror to another Service, port or subset."
)

func TestMirrorRouteValidate(t *testing.T) {
	labels := map[string]string{"version": "v2"}
	cases := map[string]struct {
		mr   mesh.MirrorRoute
		want []finding
	}{
		"valid sidecar with match and subsets": {shadow(mesh.TargetIstioSidecar, func(mr *mesh.MirrorRoute) {
			mr.Primary = mesh.Backend{SubsetLabels: map[string]string{"version": "v1"}}
			mr.Mirror.Destination = mesh.MirrorDestination{Service: "reviews", Port: 9080, SubsetLabels: labels}
			m := header("x-mirror", "yes", "")
			mr.Mirror.Match = &m
		}), nil},
		"valid ambient in another namespace": {shadow(mesh.TargetIstioAmbient, func(mr *mesh.MirrorRoute) {
			mr.Mirror.Destination.Namespace = "shadow"
		}), nil},
		"linkerd": {shadow(mesh.TargetLinkerd, func(*mesh.MirrorRoute) {}),
			[]finding{errorAt(mesh.CodeMirLinkerd, linkerdText, "target")}},
		"percentage above 100": {shadow(mesh.TargetIstioSidecar, func(mr *mesh.MirrorRoute) { mr.Mirror.Percentage = 100.5 }),
			[]finding{errorAt(mesh.CodeMirPercentage, "percentage must be between 0 and 100. It is 100.5.", "percentage")}},
		"percentage below 0": {shadow(mesh.TargetIstioSidecar, func(mr *mesh.MirrorRoute) { mr.Mirror.Percentage = -1 }),
			[]finding{errorAt(mesh.CodeMirPercentage, "percentage must be between 0 and 100. It is -1.", "percentage")}},
		"mirror is the primary": {shadow(mesh.TargetIstioSidecar, func(mr *mesh.MirrorRoute) { mr.Mirror.Destination.Service = "reviews-v1" }),
			[]finding{errorAt(mesh.CodeMirSameTarget, sameTargetText, "mirror")}},
		"mirror subset on ambient": {shadow(mesh.TargetIstioAmbient, func(mr *mesh.MirrorRoute) { mr.Mirror.Destination.SubsetLabels = labels }),
			[]finding{errorAt(mesh.CodeMirSubsetLabels, strings.Replace(subsetText, "%s", "istio-ambient", 1), "mirror", "subset_labels")}},
		"mirror subset with gateway_api": {shadow(mesh.TargetIstioSidecar, func(mr *mesh.MirrorRoute) {
			mr.IstioAPI = mesh.IstioAPIGatewayAPI
			mr.Mirror.Destination.SubsetLabels = labels
		}), []finding{errorAt(mesh.CodeMirSubsetLabels, strings.Replace(subsetText, "%s", `istio-sidecar with istio_api = "gateway_api"`, 1), "mirror", "subset_labels")}},
		"primary subset on ambient": {shadow(mesh.TargetIstioAmbient, func(mr *mesh.MirrorRoute) { mr.Primary.SubsetLabels = labels }),
			[]finding{errorAt(mesh.CodeTSSubsetLabels, strings.Replace(subsetText, "%s", "istio-ambient", 1), "primary", "subset_labels")}},
		"mirror subset in another namespace": {shadow(mesh.TargetIstioSidecar, func(mr *mesh.MirrorRoute) {
			mr.Mirror.Destination = mesh.MirrorDestination{Service: "reviews", Namespace: "shadow", Port: 9080, SubsetLabels: labels}
		}), []finding{errorAt(mesh.CodeMirSubsetNS, "mirror subset_labels are rendered as a DestinationRule subset in namespace bookinfo, the route's, but the mirror Service is in shadow. Mirror to a Service of bookinfo, or to one Service per version without subset_labels.", "mirror", "subset_labels")}},
		"match matches everything": {shadow(mesh.TargetIstioSidecar, func(mr *mesh.MirrorRoute) {
			m := path(mesh.MatchPrefix, "/")
			mr.Mirror.Match = &m
		}), []finding{errorAt(mesh.CodeMirMatchAll, `match has no header, method or path condition narrower than prefix "/"; leave match out to mirror every request.`, "match")}},
		"invalid match method": {shadow(mesh.TargetIstioSidecar, func(mr *mesh.MirrorRoute) {
			mr.Mirror.Match = &mesh.MatchRoute{Method: "FETCH"}
		}), []finding{errorAt(mesh.CodeTSInvalidMatch, `match.method = "FETCH" is not an HTTP method the route APIs accept; use one of GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH (upper case).`, "match", "method")}},
		"mirror port out of range": {shadow(mesh.TargetIstioSidecar, func(mr *mesh.MirrorRoute) { mr.Mirror.Destination.Port = 70000 }),
			[]finding{errorAt(mesh.CodeTSPortRange, "mirror.port = 70000; a Service port must be between 1 and 65535.", "mirror", "port")}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, findings(c.mr.Validate())); diff != "" {
				t.Errorf("Validate() (-want +got):\n%s", diff)
			}
		})
	}
}

// The mirror block of a split is checked alike, at its own paths.
func TestTrafficSplitMirrorValidate(t *testing.T) {
	mirror := func(edit func(*mesh.Mirror)) func(*mesh.TrafficSplit) {
		return func(ts *mesh.TrafficSplit) {
			ts.Mirror = &mesh.Mirror{Destination: mesh.MirrorDestination{Service: "reviews-shadow", Port: 9080}, Percentage: 100}
			edit(ts.Mirror)
		}
	}
	beta := withMatch(header("x-user-group", "beta", mesh.MatchExact))
	cases := map[string]struct {
		ts   mesh.TrafficSplit
		want []finding
	}{
		"valid": {canary(mesh.TargetIstioAmbient, mirror(func(*mesh.Mirror) {})), nil},
		"linkerd": {canary(mesh.TargetLinkerd, mirror(func(*mesh.Mirror) {})),
			[]finding{errorAt(mesh.CodeMirLinkerd, linkerdText, "mirror")}},
		"percentage": {canary(mesh.TargetIstioSidecar, mirror(func(m *mesh.Mirror) { m.Percentage = 101 })),
			[]finding{errorAt(mesh.CodeMirPercentage, "percentage must be between 0 and 100. It is 101.", "mirror", "percentage")}},
		"mirror is a backend": {canary(mesh.TargetIstioSidecar, mirror(func(m *mesh.Mirror) { m.Destination.Service = "reviews-v2" })),
			[]finding{errorAt(mesh.CodeMirSameTarget, strings.Replace(sameTargetText, "reviews-v1", "reviews-v2", 1), "mirror")}},
		"match with match_routes on Gateway API": {canary(mesh.TargetIstioAmbient, func(ts *mesh.TrafficSplit) {
			beta(ts)
			mirror(func(m *mesh.Mirror) { m.Match = &mesh.MatchRoute{Method: "POST"} })(ts)
		}), []finding{errorAt(mesh.CodeMirMatchPrecedent, "With Gateway API (HTTPRoute) rendering, a mirror rule with its own match could outrank match_routes and take their requests. Leave mirror.match out (the mirror then copies the default rule's requests), or drop match_routes.", "mirror", "match")}},
		"match with match_routes on VirtualService": {canary(mesh.TargetIstioSidecar, func(ts *mesh.TrafficSplit) {
			beta(ts)
			mirror(func(m *mesh.Mirror) { m.Match = &mesh.MatchRoute{Method: "POST"} })(ts)
		}), nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, findings(c.ts.Validate())); diff != "" {
				t.Errorf("Validate() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMirrorPercentSupported(t *testing.T) {
	cases := []struct {
		version, channel string
		supported, known bool
	}{
		{"v1.4.0", "standard", true, true},
		{"v1.3.0", "standard", true, true},
		{"v1.3.0-rc.1", "standard", true, true},
		{"v1.2.1", "standard", false, true},
		{"v1.2.0", "experimental", true, true},
		{"v1.1.1", "experimental", false, true},
		{"v0.8.1", "", false, true},
		{"v2.0.0", "standard", true, true},
		{"v1.10.0", "standard", true, true},
		{"", "standard", false, false},
		{"1.3.0", "standard", false, false},
		{"v1.x.0", "standard", false, false},
	}
	for _, c := range cases {
		supported, known := mesh.MirrorPercentSupported(c.version, c.channel)
		if supported != c.supported || known != c.known {
			t.Errorf("MirrorPercentSupported(%q, %q) = %v, %v; want %v, %v", c.version, c.channel, supported, known, c.supported, c.known)
		}
	}
}
