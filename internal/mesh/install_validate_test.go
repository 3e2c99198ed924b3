package mesh

import (
	"fmt"
	"strings"
	"testing"
)

func TestInstallValidate(t *testing.T) {
	const v = "1.31.0-dev.20260827"
	cases := []struct {
		name string
		in   Install
		want []string // substrings of the summaries+details, in order; none means valid
	}{
		{"ambient defaults", Install{Mesh: MeshIstio, Mode: ModeAmbient, Version: v}, nil},
		{"sidecar defaults", Install{Mesh: MeshIstio, Mode: ModeSidecar, Version: v}, nil},
		{"linkerd values", Install{Mesh: MeshLinkerd, Version: "2026.8.3", Values: map[string]string{
			"linkerd-control-plane": "proxy:\n  logLevel: debug\n"}}, nil},
		{"unknown chart", Install{Mesh: MeshLinkerd, Version: "2026.8.3", Values: map[string]string{"istiod": "a: 1"}},
			[]string{`linkerd installs no chart "istiod"`}},
		{"values not a mapping", Install{Mesh: MeshIstio, Mode: ModeAmbient, Version: v, Values: map[string]string{"istiod": "- a\n- b"}},
			[]string{`values["istiod"] is not a YAML mapping`}},
		{"ambient with cni ambient off", Install{Mesh: MeshIstio, Mode: ModeAmbient, Version: v, Values: map[string]string{
			"cni": "ambient:\n  enabled: false\n"}}, []string{"MESH-INS-001", "requires the Istio CNI node agent"}},
		{"ambient with legacy cni prefix off", Install{Mesh: MeshIstio, Mode: ModeAmbient, Version: v, Values: map[string]string{
			"cni": "cni:\n  ambient:\n    enabled: false\n"}}, []string{"MESH-INS-001"}},
		{"ambient with istiod ambient env off", Install{Mesh: MeshIstio, Mode: ModeAmbient, Version: v, Values: map[string]string{
			"istiod": "env:\n  PILOT_ENABLE_AMBIENT: \"false\"\n"}}, []string{"MESH-INS-001"}},
		{"cni values in sidecar mode", Install{Mesh: MeshIstio, Mode: ModeSidecar, Version: v, Values: map[string]string{
			"cni": "ambient:\n  enabled: false\n"}}, []string{`istio (mode sidecar) installs no chart "cni"`}},
		{"ztunnel newer than istiod", Install{Mesh: MeshIstio, Mode: ModeAmbient, Version: v, Values: map[string]string{
			"ztunnel": "tag: 1.32.0\n"}}, []string{"MESH-INS-002", "ztunnel version 1.32.0 is not supported with istiod 1.31.0-dev.20260827"}},
		{"cni two minors older", Install{Mesh: MeshIstio, Mode: ModeAmbient, Version: v, Values: map[string]string{
			"cni": "global:\n  tag: 1.29.3\n"}}, []string{"MESH-INS-002", "cni version 1.29.3"}},
		{"istiod tag ahead of data plane by one", Install{Mesh: MeshIstio, Mode: ModeAmbient, Version: "1.30.3", Values: map[string]string{
			"istiod": "tag: 1.31.0\n"}}, nil},
		{"istiod pilot tag behind ztunnel", Install{Mesh: MeshIstio, Mode: ModeAmbient, Version: "1.31.0", Values: map[string]string{
			"istiod": "pilot:\n  tag: 1.30.1\n"}}, []string{"MESH-INS-002", "ztunnel version 1.31.0", "MESH-INS-002", "cni version 1.31.0"}},
		{"non-version tags are not judged", Install{Mesh: MeshIstio, Mode: ModeAmbient, Version: v, Values: map[string]string{
			"ztunnel": "tag: latest\n"}}, nil},
		{"ambient before 1.24", Install{Mesh: MeshIstio, Mode: ModeAmbient, Version: "1.23.6"},
			[]string{"MESH-INS-012", `ambient mode requires Istio ≥ 1.24 (version = "1.23.6"). Set version to 1.24 or later, or use mode = "sidecar".`}},
		{"ambient at 1.24", Install{Mesh: MeshIstio, Mode: ModeAmbient, Version: "1.24.0"}, nil},
		{"sidecar before 1.24", Install{Mesh: MeshIstio, Mode: ModeSidecar, Version: "1.23.6"}, nil},
		{"hold application with native sidecars", Install{Mesh: MeshIstio, Mode: ModeSidecar, Version: v, Values: map[string]string{
			"istiod": "meshConfig:\n  defaultConfig:\n    holdApplicationUntilProxyStarts: true\n"}},
			[]string{"MESH-INS-011", "holdApplicationUntilProxyStarts has no effect when Istio injects native sidecars (ENABLE_NATIVE_SIDECARS=auto): istiod " + v, `set env.ENABLE_NATIVE_SIDECARS = "false"`}},
		{"hold application, legacy global.proxy", Install{Mesh: MeshIstio, Mode: ModeAmbient, Version: v, Values: map[string]string{
			"istiod": "global:\n  proxy:\n    holdApplicationUntilProxyStarts: true\n"}}, []string{"MESH-INS-011"}},
		{"hold application, native sidecars off", Install{Mesh: MeshIstio, Mode: ModeSidecar, Version: v, Values: map[string]string{
			"istiod": "meshConfig:\n  defaultConfig:\n    holdApplicationUntilProxyStarts: true\nenv:\n  ENABLE_NATIVE_SIDECARS: \"false\"\n"}}, nil},
		{"hold application before 1.27", Install{Mesh: MeshIstio, Mode: ModeSidecar, Version: "1.26.4", Values: map[string]string{
			"istiod": "meshConfig:\n  defaultConfig:\n    holdApplicationUntilProxyStarts: true\n"}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.in.Validate()
			if (len(c.want) == 0) != (len(got) == 0) {
				t.Fatalf("want %q, got %v", c.want, got)
			}
			var all strings.Builder
			for _, p := range got {
				all.WriteString(p.Summary + " " + p.Detail + "\n")
			}
			rest := all.String()
			for _, w := range c.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("want %q in order in:\n%s", w, all.String())
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestInstallTrustDomainChange(t *testing.T) {
	istio := func(values string) Install {
		in := Install{Mesh: MeshIstio, Mode: ModeAmbient, Version: "1.31.0"}
		if values != "" {
			in.Values = map[string]string{"istiod": values}
		}
		return in
	}
	linkerd := func(td string) Install {
		return Install{Mesh: MeshLinkerd, Version: "2026.8.3", Values: map[string]string{"linkerd-control-plane": "identityTrustDomain: " + td}}
	}
	if ps := TrustDomainChange(istio(""), istio("meshConfig:\n  accessLogFile: /dev/stdout\n")); len(ps) != 0 {
		t.Errorf("unrelated values change warned: %v", ps)
	}
	ps := TrustDomainChange(istio(""), istio("meshConfig:\n  trustDomain: prod.example\n"))
	if len(ps) != 1 || ps[0].Severity != SeverityWarning || ps[0].Code != "MESH-INS-014" ||
		!strings.Contains(ps[0].Detail, `from the chart default (cluster.local) to "prod.example"`) ||
		!strings.Contains(ps[0].Detail, "invalidates all workload identities and authorization principals") {
		t.Errorf("istio trust domain change: %+v", ps)
	}
	ps = TrustDomainChange(linkerd("a.example"), linkerd("b.example"))
	if len(ps) != 1 || !strings.Contains(ps[0].Detail, `from "a.example" to "b.example"`) {
		t.Errorf("linkerd trust domain change: %+v", ps)
	}
}

func TestKubernetesTooOld(t *testing.T) {
	cases := []struct {
		mesh          InstallMesh
		version, kube string
		want          string
	}{
		{MeshIstio, "1.31.0-dev.20260827", "v1.34.2", ""},
		{MeshIstio, "1.31.0-dev.20260827", "v1.32.0", ""},
		{MeshIstio, "1.30.3", "v1.31.9", "MESH-INS-003: Kubernetes version too old|Kubernetes v1.31.9 is below the minimum supported by istio 1.30.3 (1.32)."},
		{MeshIstio, "1.29.6", "v1.31.0", ""},
		{MeshLinkerd, "2026.8.3", "v1.30.4", "MESH-INS-003: Kubernetes version too old|Kubernetes v1.30.4 is below the minimum supported by linkerd 2026.8.3 (1.31)."},
		{MeshLinkerd, "2026.8.3", "v1.31.0", ""},
		{MeshLinkerd, "2026.8.3", "v0.0.0-master", "below the minimum"},
		{MeshIstio, "not-a-version", "v1.20.0", ""},
	}
	for _, c := range cases {
		ps := KubernetesTooOld(c.mesh, c.version, c.kube)
		if c.want == "" {
			if len(ps) != 0 {
				t.Errorf("%s %s on %s: unexpected %v", c.mesh, c.version, c.kube, ps)
			}
			continue
		}
		if len(ps) != 1 {
			t.Fatalf("%s %s on %s: got %v", c.mesh, c.version, c.kube, ps)
		}
		if got := ps[0].Summary + "|" + ps[0].Detail; !strings.Contains(got, c.want) {
			t.Errorf("%s %s on %s:\n got %s\nwant %s", c.mesh, c.version, c.kube, got, c.want)
		}
	}
}

// MESH-INS-011 warns (the install still works as asked); MESH-INS-012
// refuses the plan, at the attributes they name.
func TestInstallVersionFindingsSeverity(t *testing.T) {
	hold := Install{Mesh: MeshIstio, Mode: ModeSidecar, Version: "1.27.0", Values: map[string]string{
		"istiod": "meshConfig:\n  defaultConfig:\n    holdApplicationUntilProxyStarts: true\n"}}
	old := Install{Mesh: MeshIstio, Mode: ModeAmbient, Version: "1.22.0"}
	for _, c := range []struct {
		in   Install
		code string
		sev  Severity
		path string
	}{
		{hold, "MESH-INS-011", SeverityWarning, "[values]"},
		{old, "MESH-INS-012", SeverityError, "[version]"},
	} {
		ps := c.in.Validate()
		if len(ps) != 1 || ps[0].Code != c.code || ps[0].Severity != c.sev || fmt.Sprint(ps[0].Path) != c.path {
			t.Errorf("%s: got %+v", c.code, ps)
		}
	}
}
