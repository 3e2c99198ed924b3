package mesh_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// message is everything a user sees of a Problem.
type message struct {
	Severity mesh.Severity
	Code     string
	Path     []any
	Summary  string
	Detail   string
}

func errorMessage(code, summary, detail string, path ...any) message {
	return message{mesh.SeverityError, code, path, code + ": " + summary, detail}
}

// messagesWith returns the problems whose code is one of codes, in order.
func messagesWith(ps mesh.Problems, codes ...string) []message {
	var out []message
	for _, p := range ps {
		if slices.Contains(codes, p.Code) {
			out = append(out, message{p.Severity, p.Code, p.Path, p.Summary, p.Detail})
		}
	}
	return out
}

const (
	labelChars  = "use only lower-case letters, digits and '-', starting and ending with a letter or digit"
	labelKeyFix = `is not a label key: use a name of 1 to 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, optionally after a DNS subdomain prefix and '/' (e.g. "version" or "app.kubernetes.io/version").`
	labelValFix = `is not a label value: use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, or leave it empty.`
)

// dnsLabelError is the message of an attribute that is not a DNS-1123 label.
func dnsLabelError(code, attr, value, role, reason string, path ...any) message {
	return errorMessage(code, attr+" is not a DNS-1123 label",
		fmt.Sprintf("%s = %q cannot be used as %s (a DNS-1123 label): %s.", attr, value, role, reason), path...)
}

func labelKeyError(code, attr, key string, path ...any) message {
	return errorMessage(code, "invalid label key", fmt.Sprintf("%s key %q %s", attr, key, labelKeyFix), path...)
}

func labelValueError(code, attr, key, value string, path ...any) message {
	return errorMessage(code, "invalid label value", fmt.Sprintf("%s[%q] = %q %s", attr, key, value, labelValFix), path...)
}

const (
	objectName = "a Kubernetes object name"
	nsName     = "a namespace name"
)

// nameCase is one resource configuration and the syntax problems it has:
// the same, code for code, whatever the target.
type nameCase struct {
	name     string
	validate func(mesh.Target) mesh.Problems
	codes    []string
	want     []message
}

func split(edit func(*mesh.TrafficSplit)) func(mesh.Target) mesh.Problems {
	return func(t mesh.Target) mesh.Problems { return canary(t, edit).Validate() }
}

func mirrorRoute(edit func(*mesh.MirrorRoute)) func(mesh.Target) mesh.Problems {
	return func(t mesh.Target) mesh.Problems { return shadow(t, edit).Validate() }
}

func mtlsPolicy(edit func(*mesh.MTLSPolicy)) func(mesh.Target) mesh.Problems {
	return func(t mesh.Target) mesh.Problems { return mtls(t, edit).Validate() }
}

func authz(edit func(*mesh.Authorization)) func(mesh.Target) mesh.Problems {
	return func(t mesh.Target) mesh.Problems { return ordersPolicy(t, edit).Validate() }
}

func TestNameAndLabelSyntax(t *testing.T) {
	long := strings.Repeat("a", 70)
	ts, mir := []string{mesh.CodeTSName, mesh.CodeTSLabels}, []string{mesh.CodeMirName, mesh.CodeMirLabels}
	mt, az := []string{mesh.CodeMTLSName, mesh.CodeMTLSSelectorLabels}, []string{mesh.CodeAuthzName, mesh.CodeAuthzSelectorLabels}
	cases := []nameCase{
		// mesh_traffic_split
		{"split: valid", split(subsets), ts, nil},
		{"split: upper case and underscore in name", split(func(s *mesh.TrafficSplit) { s.Name = "Reviews_Split" }), ts, []message{
			dnsLabelError(mesh.CodeTSName, "name", "Reviews_Split", objectName, labelChars, "name"),
		}},
		{"split: name of 70 characters", split(func(s *mesh.TrafficSplit) { s.Name = long }), ts, []message{
			dnsLabelError(mesh.CodeTSName, "name", long, objectName, "it is 70 characters long: remove 7 (at most 63)", "name"),
		}},
		{"split: name of 64 characters ending in '-'", split(func(s *mesh.TrafficSplit) { s.Name = strings.Repeat("a", 63) + "-" }), ts, []message{
			dnsLabelError(mesh.CodeTSName, "name", strings.Repeat("a", 63)+"-", objectName, "it is 64 characters long: remove 1 (at most 63); "+labelChars, "name"),
		}},
		{"split: name of 63 characters", split(func(s *mesh.TrafficSplit) { s.Name = strings.Repeat("a", 63) }), ts, nil},
		{"split: empty name", split(func(s *mesh.TrafficSplit) { s.Name = "" }), ts, []message{
			dnsLabelError(mesh.CodeTSName, "name", "", objectName, "it is empty; use 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit", "name"),
		}},
		{"split: namespace with a dot", split(func(s *mesh.TrafficSplit) { s.Namespace = "book.info" }), ts, []message{
			dnsLabelError(mesh.CodeTSName, "namespace", "book.info", nsName, labelChars, "namespace"),
		}},
		{"split: waypoint name", split(func(s *mesh.TrafficSplit) { s.Waypoint.Name = "Waypoint" }), ts, []message{
			dnsLabelError(mesh.CodeTSName, "ambient_waypoint.name", "Waypoint", objectName, labelChars, "ambient_waypoint", "name"),
		}},
		{"split: mirror namespace", split(func(s *mesh.TrafficSplit) {
			s.Mirror = &mesh.Mirror{Destination: mesh.MirrorDestination{Service: "reviews-shadow", Namespace: "-shadow", Port: 9080}, Percentage: 100}
		}), ts, []message{
			dnsLabelError(mesh.CodeTSName, "mirror.namespace", "-shadow", nsName, labelChars, "mirror", "namespace"),
		}},
		{"split: subset label keys and values", split(func(s *mesh.TrafficSplit) {
			subsets(s)
			s.Backends[0].SubsetLabels = map[string]string{
				"version":                   "v1",
				"app.kubernetes.io/version": "",
				"Version!":                  "v1",
				"track":                     "canary!",
				"example.com/":              strings.Repeat("x", 64),
			}
		}), ts, []message{
			labelKeyError(mesh.CodeTSLabels, "backends[0].subset_labels", "Version!", "backends", 0, "subset_labels"),
			labelKeyError(mesh.CodeTSLabels, "backends[0].subset_labels", "example.com/", "backends", 0, "subset_labels"),
			labelValueError(mesh.CodeTSLabels, "backends[0].subset_labels", "example.com/", strings.Repeat("x", 64), "backends", 0, "subset_labels"),
			labelValueError(mesh.CodeTSLabels, "backends[0].subset_labels", "track", "canary!", "backends", 0, "subset_labels"),
		}},
		{"split: label key prefix longer than a DNS subdomain", split(func(s *mesh.TrafficSplit) {
			subsets(s)
			s.Backends[1].SubsetLabels = map[string]string{strings.Repeat("a", 254) + "/version": "v2"}
		}), ts, []message{
			labelKeyError(mesh.CodeTSLabels, "backends[1].subset_labels", strings.Repeat("a", 254)+"/version", "backends", 1, "subset_labels"),
		}},
		{"split: match route subset labels", split(func(s *mesh.TrafficSplit) {
			withMatch(header("x-user", "beta", mesh.MatchExact))(s)
			s.MatchRoutes[0].Backends[0].SubsetLabels = map[string]string{"version": "v 2"}
		}), ts, []message{
			labelValueError(mesh.CodeTSLabels, "match_routes[0].backends[0].subset_labels", "version", "v 2", "match_routes", 0, "backends", 0, "subset_labels"),
		}},
		{"split: mirror subset labels", split(func(s *mesh.TrafficSplit) {
			s.Mirror = &mesh.Mirror{Destination: mesh.MirrorDestination{Service: "reviews-shadow", Port: 9080, SubsetLabels: map[string]string{"-v": "x"}}, Percentage: 100}
		}), ts, []message{
			labelKeyError(mesh.CodeTSLabels, "mirror.subset_labels", "-v", "mirror", "subset_labels"),
		}},

		// mesh_mirror_route
		{"mirror route: valid", mirrorRoute(func(*mesh.MirrorRoute) {}), mir, nil},
		{"mirror route: name and namespace", mirrorRoute(func(mr *mesh.MirrorRoute) { mr.Name, mr.Namespace = "reviews.mirror", long }), mir, []message{
			dnsLabelError(mesh.CodeMirName, "name", "reviews.mirror", objectName, labelChars, "name"),
			dnsLabelError(mesh.CodeMirName, "namespace", long, nsName, "it is 70 characters long: remove 7 (at most 63)", "namespace"),
		}},
		{"mirror route: waypoint name and mirror namespace", mirrorRoute(func(mr *mesh.MirrorRoute) {
			mr.Waypoint.Name = "way_point"
			mr.Mirror.Destination.Namespace = "Shadow"
		}), mir, []message{
			dnsLabelError(mesh.CodeMirName, "ambient_waypoint.name", "way_point", objectName, labelChars, "ambient_waypoint", "name"),
			dnsLabelError(mesh.CodeMirName, "mirror.namespace", "Shadow", nsName, labelChars, "mirror", "namespace"),
		}},
		{"mirror route: subset labels", mirrorRoute(func(mr *mesh.MirrorRoute) {
			mr.Primary.SubsetLabels = map[string]string{"version/": "v1"}
			mr.Mirror.Destination.SubsetLabels = map[string]string{"version": "v2_"}
		}), mir, []message{
			labelKeyError(mesh.CodeMirLabels, "primary.subset_labels", "version/", "primary", "subset_labels"),
			labelValueError(mesh.CodeMirLabels, "mirror.subset_labels", "version", "v2_", "mirror", "subset_labels"),
		}},

		// mesh_mtls_policy
		{"mtls: valid", mtlsPolicy(workload(port(8080, mesh.MTLSStrict))), mt, nil},
		{"mtls: name, namespace and root_namespace", mtlsPolicy(func(p *mesh.MTLSPolicy) {
			p.Name, p.Namespace, p.RootNamespace = "Default", "foo_bar", "istio.system"
		}), mt, []message{
			dnsLabelError(mesh.CodeMTLSName, "name", "Default", objectName, labelChars, "name"),
			dnsLabelError(mesh.CodeMTLSName, "namespace", "foo_bar", nsName, labelChars, "namespace"),
			dnsLabelError(mesh.CodeMTLSName, "root_namespace", "istio.system", nsName, labelChars, "root_namespace"),
		}},
		{"mtls: mesh scope has no namespace to check", mtlsPolicy(meshScope), mt, nil},
		{"mtls: workload selector", mtlsPolicy(func(p *mesh.MTLSPolicy) {
			workload(port(8080, mesh.MTLSStrict))(p)
			p.WorkloadSelector = map[string]string{"app": "finance", "tier!": "back end"}
		}), mt, []message{
			labelKeyError(mesh.CodeMTLSSelectorLabels, "workload_selector", "tier!", "workload_selector"),
			labelValueError(mesh.CodeMTLSSelectorLabels, "workload_selector", "tier!", "back end", "workload_selector"),
		}},

		// mesh_authorization
		{"authorization: valid", authz(func(*mesh.Authorization) {}), az, nil},
		{"authorization: name and namespace", authz(func(a *mesh.Authorization) { a.Name, a.Namespace = long, "" }), az, []message{
			dnsLabelError(mesh.CodeAuthzName, "name", long, objectName, "it is 70 characters long: remove 7 (at most 63)", "name"),
			dnsLabelError(mesh.CodeAuthzName, "namespace", "", nsName, "it is empty; use 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit", "namespace"),
		}},
		{"authorization: workload selector", authz(func(a *mesh.Authorization) {
			a.Workload.Selector = map[string]string{"app": "orders", "app.kubernetes.io/Name": "orders-", "": "x"}
		}), az, []message{
			labelKeyError(mesh.CodeAuthzSelectorLabels, "target.workload_selector", "", "target", "workload_selector"),
			labelValueError(mesh.CodeAuthzSelectorLabels, "target.workload_selector", "app.kubernetes.io/Name", "orders-", "target", "workload_selector"),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, target := range mesh.Targets {
				if diff := cmp.Diff(c.want, messagesWith(c.validate(target), c.codes...)); diff != "" {
					t.Errorf("target %s (-want +got):\n%s", target, diff)
				}
			}
		})
	}
}

// Header names are HTTP tokens wherever a match has headers: match routes
// (covered in TestTrafficSplitValidate) and both kinds of mirror match,
// whatever the target.
func TestMirrorMatchHeaderNames(t *testing.T) {
	const detail = "%s = \"x user\" is not a valid HTTP header name: use 1 to 256 letters, digits or !#$%%&'*+-.^_`|~ (no spaces, colons or pseudo-headers)."
	badHeader := header("x user", "yes", mesh.MatchExact)
	cases := []nameCase{
		{"mirror route match", mirrorRoute(func(mr *mesh.MirrorRoute) { mr.Mirror.Match = &badHeader }), []string{mesh.CodeTSInvalidMatch}, []message{
			errorMessage(mesh.CodeTSInvalidMatch, "invalid header name", fmt.Sprintf(detail, "match.headers[0].name"), "match", "headers", 0, "name"),
		}},
		{"split mirror match", split(func(s *mesh.TrafficSplit) {
			s.Mirror = &mesh.Mirror{Destination: mesh.MirrorDestination{Service: "reviews-shadow", Port: 9080}, Percentage: 100, Match: &badHeader}
		}), []string{mesh.CodeTSInvalidMatch}, []message{
			errorMessage(mesh.CodeTSInvalidMatch, "invalid header name", fmt.Sprintf(detail, "mirror.match.headers[0].name"), "mirror", "match", "headers", 0, "name"),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, target := range mesh.Targets {
				if diff := cmp.Diff(c.want, messagesWith(c.validate(target), c.codes...)); diff != "" {
					t.Errorf("target %s (-want +got):\n%s", target, diff)
				}
			}
		})
	}
}

func TestInstallNamesAndVersion(t *testing.T) {
	istio := func(edit func(*mesh.Install)) mesh.Install {
		in := mesh.Install{Mesh: mesh.MeshIstio, Mode: mesh.ModeSidecar, Version: "1.27.3"}
		edit(&in)
		return in
	}
	versionError := func(v string) message {
		return errorMessage(mesh.CodeInsVersion, "version is not a chart version",
			fmt.Sprintf(`version = %q is not a chart version: use the exact SemVer version of the charts, MAJOR.MINOR.PATCH with an optional "-" pre-release and a leading "v" if the repository uses one, e.g. "1.27.3" (Istio) or "2026.8.3" (Linkerd edge).`, v),
			"version")
	}
	releaseError := func(rev, length, remove string) message {
		return errorMessage(mesh.CodeInsName, "istiod release name too long",
			fmt.Sprintf("revision = %q names the istiod Helm release %q, %s characters long; Helm release names hold at most 53. Shorten revision by %s.",
				rev, "istiod-"+rev, length, remove), "revision")
	}
	cases := []struct {
		name string
		in   mesh.Install
		want []message
	}{
		{"valid", istio(func(*mesh.Install) {}), nil},
		{"valid with v prefix", istio(func(in *mesh.Install) { in.Version = "v1.27.3" }), nil},
		{"valid pre-release", istio(func(in *mesh.Install) { in.Version = "1.31.0-dev.20260827" }), nil},
		{"valid linkerd edge", mesh.Install{Mesh: mesh.MeshLinkerd, Version: "2026.8.3", Namespace: "linkerd"}, nil},
		{"version latest!", istio(func(in *mesh.Install) { in.Version = "latest!" }), []message{versionError("latest!")}},
		{"version empty", istio(func(in *mesh.Install) { in.Version = "" }), []message{versionError("")}},
		{"version 1..2", istio(func(in *mesh.Install) { in.Version = "1..2" }), []message{versionError("1..2")}},
		{"version without patch", istio(func(in *mesh.Install) { in.Version = "1.27" }), []message{versionError("1.27")}},
		{"version range", istio(func(in *mesh.Install) { in.Version = "~1.27.0" }), []message{versionError("~1.27.0")}},
		{"version with leading zero", istio(func(in *mesh.Install) { in.Version = "1.027.3" }), []message{versionError("1.027.3")}},
		{"namespace", istio(func(in *mesh.Install) { in.Namespace = "Istio-System" }), []message{
			dnsLabelError(mesh.CodeInsName, "namespace", "Istio-System", nsName, labelChars, "namespace"),
		}},
		{"revision not a label", istio(func(in *mesh.Install) { in.Revision = "1-27.3" }), []message{
			dnsLabelError(mesh.CodeInsName, "revision", "1-27.3", "an Istio revision", labelChars, "revision"),
		}},
		{"revision of 46 characters", istio(func(in *mesh.Install) { in.Revision = strings.Repeat("r", 46) }), nil},
		{"revision of 47 characters", istio(func(in *mesh.Install) { in.Revision = strings.Repeat("r", 47) }), []message{
			releaseError(strings.Repeat("r", 47), "54", "1 character"),
		}},
		{"revision of 50 characters", istio(func(in *mesh.Install) { in.Revision = strings.Repeat("r", 50) }), []message{
			releaseError(strings.Repeat("r", 50), "57", "4 characters"),
		}},
		{"revision too long for a label reports the label only", istio(func(in *mesh.Install) { in.Revision = strings.Repeat("r", 64) }), []message{
			dnsLabelError(mesh.CodeInsName, "revision", strings.Repeat("r", 64), "an Istio revision", "it is 64 characters long: remove 1 (at most 63)", "revision"),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, messagesWith(c.in.Validate(), mesh.CodeInsName, mesh.CodeInsVersion)); diff != "" {
				t.Errorf("Validate() (-want +got):\n%s", diff)
			}
		})
	}
}
