package mesh_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/linkerd"
)

// mtls is a valid namespace-wide STRICT policy; each case edits it.
func mtls(target mesh.Target, edit func(*mesh.MTLSPolicy)) mesh.MTLSPolicy {
	p := mesh.MTLSPolicy{
		Name: "default", Namespace: "foo", Scope: mesh.MTLSScopeNamespace, Mode: mesh.MTLSStrict, Target: target,
	}
	edit(&p)
	p.Normalize()
	return p
}

func workload(ports ...mesh.MTLSPort) func(*mesh.MTLSPolicy) {
	return func(p *mesh.MTLSPolicy) {
		p.Name, p.Scope = "finance", mesh.MTLSScopeWorkload
		p.WorkloadSelector = map[string]string{"app": "finance"}
		p.Ports = ports
	}
}

func meshScope(p *mesh.MTLSPolicy) { p.Scope, p.Namespace = mesh.MTLSScopeMesh, "" }

func port(n int64, mode mesh.MTLSMode) mesh.MTLSPort { return mesh.MTLSPort{Port: n, Mode: mode} }

const (
	ambientDisable = `mode "DISABLE" is not supported in Istio ambient mode: traffic between ambient workloads is always mTLS (HBONE). Use "PERMISSIVE" to accept plaintext from clients outside the mesh.`
	linkerdDisable = `Linkerd cannot disable mTLS between meshed pods (identity is always required). Use mode = "PERMISSIVE" to accept plaintext from unmeshed clients; bypassing the proxy (config.linkerd.io/skip-inbound-ports) is outside this resource.`
)

func TestMTLSPolicyValidate(t *testing.T) {
	sidecar, ambient, linkerdT := mesh.TargetIstioSidecar, mesh.TargetIstioAmbient, mesh.TargetLinkerd
	cases := []struct {
		name   string
		policy mesh.MTLSPolicy
		want   []finding
	}{
		{"valid namespace STRICT", mtls(sidecar, func(*mesh.MTLSPolicy) {}), nil},
		{"valid mesh STRICT", mtls(ambient, meshScope), nil},
		{"valid workload ports", mtls(sidecar, workload(port(8080, mesh.MTLSPermissive), port(8443, mesh.MTLSUnset))), nil},
		{"valid linkerd namespace", mtls(linkerdT, func(*mesh.MTLSPolicy) {}), nil},
		{"valid linkerd workload", mtls(linkerdT, workload(port(8443, mesh.MTLSUnset))), nil},
		{"DISABLE on sidecar is fine", mtls(sidecar, func(p *mesh.MTLSPolicy) { p.Mode = mesh.MTLSDisable }), nil},
		{"DISABLE on ambient", mtls(ambient, func(p *mesh.MTLSPolicy) { p.Mode = mesh.MTLSDisable }),
			[]finding{errorAt("MESH-MTLS-001", ambientDisable, "mode")}},
		{"port DISABLE on ambient", mtls(ambient, workload(port(8080, mesh.MTLSDisable))),
			[]finding{errorAt("MESH-MTLS-001", ambientDisable, "ports", 0, "mode")}},
		{"DISABLE on linkerd", mtls(linkerdT, func(p *mesh.MTLSPolicy) { p.Mode = mesh.MTLSDisable }),
			[]finding{errorAt("MESH-MTLS-002", linkerdDisable, "mode")}},
		{"port DISABLE on linkerd", mtls(linkerdT, workload(port(8080, mesh.MTLSDisable))),
			[]finding{errorAt("MESH-MTLS-002", linkerdDisable, "ports", 0, "mode")}},
		{"ports at namespace scope", mtls(sidecar, func(p *mesh.MTLSPolicy) { p.Ports = []mesh.MTLSPort{port(8080, mesh.MTLSPermissive)} }),
			[]finding{errorAt("MESH-MTLS-003", `mesh/namespace peer authentication cannot have port level mTLS (set scope = "workload" and workload_selector).`, "ports")}},
		{"selector at mesh scope", mtls(sidecar, func(p *mesh.MTLSPolicy) { meshScope(p); p.WorkloadSelector = map[string]string{"app": "x"} }),
			[]finding{errorAt("MESH-MTLS-004", `workload_selector is ignored in the Istio root namespace (istio-system); use scope = "workload" in the workload's namespace.`, "workload_selector")}},
		{"linkerd mesh scope", mtls(linkerdT, meshScope),
			[]finding{errorAt("MESH-MTLS-005", `Linkerd's mesh-wide default is an install-time value: set mesh_install.linkerd_default_inbound_policy = "all-authenticated" (all meshed pods must be restarted). Or use scope = "namespace" per namespace.`, "scope")}},
		{"linkerd mesh PERMISSIVE", mtls(linkerdT, func(p *mesh.MTLSPolicy) { meshScope(p); p.Mode = mesh.MTLSPermissive }),
			[]finding{errorAt("MESH-MTLS-005", `Linkerd's mesh-wide default is an install-time value: set mesh_install.linkerd_default_inbound_policy = "all-unauthenticated" (all meshed pods must be restarted). Or use scope = "namespace" per namespace.`, "scope")}},
		{"UNSET without ports", mtls(sidecar, func(p *mesh.MTLSPolicy) { p.Mode = mesh.MTLSUnset }),
			[]finding{errorAt("MESH-MTLS-011", `mode "UNSET" only inherits the parent policy; it is meaningful only together with ports[]. Set mode to STRICT, PERMISSIVE or DISABLE, or add ports.`, "mode")}},
		{"linkerd workload without ports", mtls(linkerdT, workload()),
			[]finding{errorAt("MESH-MTLS-012", `Linkerd enforces authentication per Server (one port each); set ports[].`, "ports")}},
		{"workload without selector", mtls(sidecar, func(p *mesh.MTLSPolicy) { p.Scope = mesh.MTLSScopeWorkload }),
			[]finding{errorAt("MESH-MTLS-014", `scope = "workload" needs workload_selector: the pod labels of the workloads the policy applies to. Set it, or use scope = "namespace" for every workload of the namespace.`, "workload_selector")}},
		{"selector at namespace scope", mtls(sidecar, func(p *mesh.MTLSPolicy) { p.WorkloadSelector = map[string]string{"app": "x"} }),
			[]finding{errorAt("MESH-MTLS-014", `workload_selector selects workloads, so it needs scope = "workload"; a namespace-wide policy has no selector. Set scope = "workload" or remove workload_selector.`, "workload_selector")}},
		{"namespace missing", mtls(sidecar, func(p *mesh.MTLSPolicy) { p.Namespace = "" }),
			[]finding{errorAt("MESH-MTLS-015", `namespace is required with scope = "namespace": it is the namespace the policy applies to. Set namespace.`, "namespace")}},
		{"namespace missing for workload", mtls(linkerdT, func(p *mesh.MTLSPolicy) { workload(port(80, mesh.MTLSStrict))(p); p.Namespace = "" }),
			[]finding{errorAt("MESH-MTLS-015", `namespace is required with scope = "workload": it is the namespace the policy applies to. Set namespace.`, "namespace")}},
		{"namespace with mesh scope", mtls(sidecar, func(p *mesh.MTLSPolicy) { p.Scope = mesh.MTLSScopeMesh }),
			[]finding{errorAt("MESH-MTLS-015", `namespace = "foo": a mesh-wide policy lives in Istio's root namespace (root_namespace, default "istio-system"), not in a namespace of your choice. Remove namespace, set root_namespace if your mesh's meshConfig.rootNamespace differs, or use scope = "namespace".`, "namespace")}},
		{"invalid scope", mtls(sidecar, func(p *mesh.MTLSPolicy) { p.Scope = "cluster" }),
			[]finding{errorAt("MESH-MTLS-015", `scope = "cluster"; use one of mesh, namespace, workload.`, "scope")}},
		{"duplicate port", mtls(sidecar, workload(port(8080, mesh.MTLSStrict), port(8080, mesh.MTLSPermissive))),
			[]finding{errorAt("MESH-MTLS-016", `ports[1].port = 8080 appears more than once; give each port one mode.`, "ports", 1, "port")}},
		{"port out of range", mtls(sidecar, workload(port(70000, mesh.MTLSStrict))),
			[]finding{errorAt("MESH-MTLS-016", `ports[0].port = 70000; a container port is between 1 and 65535.`, "ports", 0, "port")}},
		{"invalid port mode", mtls(sidecar, workload(port(80, "strict"))),
			[]finding{errorAt("MESH-MTLS-016", `ports[0].mode = "strict"; use one of STRICT, PERMISSIVE, DISABLE, UNSET.`, "ports", 0, "mode")}},
		{"linkerd server name too long", mtls(linkerdT, func(p *mesh.MTLSPolicy) {
			workload(port(8443, mesh.MTLSStrict))(p)
			p.Name = strings.Repeat("a", 60)
		}), []finding{errorAt("MESH-MTLS-017", `the Linkerd Server for ports[0] is named "`+strings.Repeat("a", 60)+`-8443" (65 characters); object names hold at most 63. Shorten name by 2 characters.`, "name")}},
		{"linkerd port inherits UNSET", mtls(linkerdT, func(p *mesh.MTLSPolicy) {
			workload(port(8443, mesh.MTLSUnset))(p)
			p.Mode = mesh.MTLSUnset
		}), []finding{errorAt("MESH-MTLS-017", `ports[0].mode = "UNSET" inherits mode, which is "UNSET" too: a Linkerd Server has no "inherit" access policy. Set ports[0].mode or mode to STRICT or PERMISSIVE.`, "ports", 0, "mode")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []finding
			for _, p := range c.policy.Validate() {
				got = append(got, finding{p.Severity, p.Code, p.Path, p.Detail})
				if !strings.HasPrefix(p.Summary, p.Code+": ") {
					t.Errorf("summary %q does not start with the code", p.Summary)
				}
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMTLSPolicyDerived(t *testing.T) {
	ns := mtls(mesh.TargetLinkerd, func(*mesh.MTLSPolicy) {})
	if !ns.RequiresRestart() {
		t.Error("linkerd namespace scope must require a restart")
	}
	if w := mtls(mesh.TargetLinkerd, workload(port(80, mesh.MTLSStrict))); w.RequiresRestart() {
		t.Error("linkerd Servers apply dynamically; no restart")
	}
	m := mtls(mesh.TargetIstioSidecar, meshScope)
	if m.ObjectNamespace() != "istio-system" {
		t.Errorf("mesh scope object namespace %q, want the root namespace", m.ObjectNamespace())
	}
	if w := mtls(mesh.TargetIstioSidecar, func(p *mesh.MTLSPolicy) {
		workload(port(80, mesh.MTLSStrict))(p)
		p.Mode = mesh.MTLSPermissive
	}); !w.UsesStrict() {
		t.Error("a STRICT port makes the policy strict")
	}
}

// linkerdDocumentedPolicies are the default-policy values Linkerd accepts
// (policy-controller/k8s/index/src/defaults.rs FromStr; MESH-MAPPING §2.2).
var linkerdDocumentedPolicies = []string{
	"all-unauthenticated", "all-authenticated", "cluster-authenticated", "cluster-unauthenticated", "deny", "audit",
}

// TestLinkerdPolicyValuesAreDocumented: every value the renderers write into
// Server.spec.accessPolicy or the default-inbound-policy annotation is one
// Linkerd knows, and the annotation key is Linkerd's.
func TestLinkerdPolicyValuesAreDocumented(t *testing.T) {
	for _, mode := range mesh.MTLSModeValues {
		policy, ok := mesh.LinkerdAccessPolicy(mode)
		if !ok {
			if mode == mesh.MTLSStrict || mode == mesh.MTLSPermissive {
				t.Errorf("%s has no Linkerd policy", mode)
			}
			continue
		}
		if !slices.Contains(linkerdDocumentedPolicies, policy) {
			t.Errorf("%s maps to %q, not a documented Linkerd default policy %v", mode, policy, linkerdDocumentedPolicies)
		}
	}
	for _, c := range []string{linkerd.AllAuthenticated, linkerd.AllUnauthenticated, linkerd.ClusterAuthenticated,
		linkerd.ClusterUnauthenticated, linkerd.Deny, linkerd.Audit} {
		if !slices.Contains(linkerdDocumentedPolicies, c) {
			t.Errorf("linkerd constant %q is not a documented policy", c)
		}
	}
	if mesh.AnnotationDefaultInboundPolicy != "config.linkerd.io/default-inbound-policy" {
		t.Errorf("annotation key %q", mesh.AnnotationDefaultInboundPolicy)
	}
}

func TestIsLinkerdServerOf(t *testing.T) {
	for name, want := range map[string]bool{
		"finance-8443": true, "finance-1": true, "finance-": false, "finance-http": false,
		"finance-api-8443": false, "other-8443": false, "finance-99999": false,
	} {
		if got := mesh.IsLinkerdServerOf(name, "finance"); got != want {
			t.Errorf("IsLinkerdServerOf(%q, finance) = %v, want %v", name, got, want)
		}
	}
}
