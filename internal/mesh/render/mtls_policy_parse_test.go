package render_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/render"
)

// The round-trip cases are the golden cases of the renderers' mTLS tests
// (internal/mesh/istio, linkerd), copied because test files export nothing.

func mtlsPolicy(target mesh.Target, edit func(*mesh.MTLSPolicy)) mesh.MTLSPolicy {
	p := mesh.MTLSPolicy{Name: "default", Namespace: "foo", Scope: mesh.MTLSScopeNamespace, Mode: mesh.MTLSStrict, Target: target}
	edit(&p)
	p.Normalize()
	return p
}

func financeWorkload(mode mesh.MTLSMode, ports ...mesh.MTLSPort) func(*mesh.MTLSPolicy) {
	return func(p *mesh.MTLSPolicy) {
		p.Name, p.Scope, p.Mode = "finance", mesh.MTLSScopeWorkload, mode
		p.WorkloadSelector = map[string]string{"app": "finance"}
		p.Ports = ports
	}
}

func mtlsRoundTripCases() map[string]mesh.MTLSPolicy {
	sidecar, ambient, linkerd := mesh.TargetIstioSidecar, mesh.TargetIstioAmbient, mesh.TargetLinkerd
	return map[string]mesh.MTLSPolicy{
		"peerauthentication_mesh_strict_root_namespace": mtlsPolicy(sidecar, func(p *mesh.MTLSPolicy) { p.Scope, p.Namespace = mesh.MTLSScopeMesh, "" }),
		"peerauthentication_namespace_permissive":       mtlsPolicy(sidecar, func(p *mesh.MTLSPolicy) { p.Mode = mesh.MTLSPermissive }),
		"peerauthentication_workload_port_override": mtlsPolicy(sidecar, financeWorkload(mesh.MTLSStrict,
			mesh.MTLSPort{Port: 8080, Mode: mesh.MTLSPermissive})),
		"peerauthentication_unset_inherits_with_strict_port": mtlsPolicy(ambient, financeWorkload(mesh.MTLSUnset,
			mesh.MTLSPort{Port: 8443, Mode: mesh.MTLSStrict}, mesh.MTLSPort{Port: 9090, Mode: mesh.MTLSPermissive})),
		"peerauthentication_mesh_custom_root_namespace": mtlsPolicy(ambient, func(p *mesh.MTLSPolicy) {
			p.Scope, p.Namespace, p.RootNamespace = mesh.MTLSScopeMesh, "", "istio-config"
		}),
		"namespace_annotation_strict":     mtlsPolicy(linkerd, func(*mesh.MTLSPolicy) {}),
		"namespace_annotation_permissive": mtlsPolicy(linkerd, func(p *mesh.MTLSPolicy) { p.Mode = mesh.MTLSPermissive }),
		"server_per_port": mtlsPolicy(linkerd, financeWorkload(mesh.MTLSPermissive,
			mesh.MTLSPort{Port: 8080, Mode: mesh.MTLSPermissive}, mesh.MTLSPort{Port: 8443, Mode: mesh.MTLSStrict})),
	}
}

func TestParseMTLSPolicyRoundTrip(t *testing.T) {
	for name, want := range mtlsRoundTripCases() {
		t.Run(name, func(t *testing.T) {
			want.Owner = mesh.Owner("mesh_mtls_policy", want.ObjectNamespace(), want.Name)
			objs, err := render.MTLSPolicy(want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := render.ParseMTLSPolicy(objs, want.Target, want.Name, want.RootNamespace)
			if err != nil {
				t.Fatal(err)
			}
			got.Owner = want.Owner
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("parsed policy (-rendered +parsed):\n%s", diff)
			}
		})
	}
}

// TestParseMTLSPolicyLinkerdServerModes: Servers carry no top-level mode, so
// the parse takes the lowest port's; re-rendering gives the same Servers.
func TestParseMTLSPolicyLinkerdServerModes(t *testing.T) {
	p := mtlsPolicy(mesh.TargetLinkerd, financeWorkload(mesh.MTLSPermissive,
		mesh.MTLSPort{Port: 8443, Mode: mesh.MTLSStrict}, mesh.MTLSPort{Port: 9090, Mode: mesh.MTLSUnset}))
	objs, err := render.MTLSPolicy(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := render.ParseMTLSPolicy(objs, mesh.TargetLinkerd, "finance", mesh.DefaultRootNamespace)
	if err != nil {
		t.Fatal(err)
	}
	again, err := render.MTLSPolicy(got)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(objs, again); diff != "" {
		t.Errorf("re-rendered Servers (-first +again):\n%s", diff)
	}
	if got.Mode != mesh.MTLSStrict {
		t.Errorf("mode %s, want the lowest port's STRICT", got.Mode)
	}
}

func TestParseMTLSPolicyErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		target     mesh.Target
		want       string
	}{
		{"unknown kind", `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: default, namespace: foo}
spec: {}`, mesh.TargetIstioSidecar, "cannot import VirtualService foo/default"},
		{"peer authentication for linkerd", `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: foo}
spec: {mtls: {mode: STRICT}}`, mesh.TargetLinkerd, `cannot be imported for target "linkerd"`},
		{"unknown field", `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: foo}
spec: {selector: {matchLabels: {app: a}}, mtls: {mode: STRICT}, targetRefs: [{kind: Service, name: a}]}`, mesh.TargetIstioSidecar,
			`spec.targetRefs is set to [{"kind":"Service","name":"a"}], and mesh_mtls_policy has no attribute`},
		{"unknown mode", `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: foo}
spec: {mtls: {mode: OPTIONAL}}`, mesh.TargetIstioSidecar, `spec.mtls.mode is "OPTIONAL", which this provider's Mode does not define (it knows UNSET, DISABLE, PERMISSIVE, STRICT)`},
		{"annotation deny", `
apiVersion: v1
kind: Namespace
metadata: {name: foo, annotations: {config.linkerd.io/default-inbound-policy: deny}}`, mesh.TargetLinkerd,
			`config.linkerd.io/default-inbound-policy is "deny"; mesh_mtls_policy renders only all-authenticated (STRICT) and all-unauthenticated (PERMISSIVE)`},
		{"namespace without annotation", `
apiVersion: v1
kind: Namespace
metadata: {name: foo}`, mesh.TargetLinkerd, "has no config.linkerd.io/default-inbound-policy annotation"},
		{"named server port", `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: default-8443, namespace: foo}
spec: {podSelector: {matchLabels: {app: a}}, port: https, accessPolicy: all-authenticated}`, mesh.TargetLinkerd,
			"spec.port is https; mesh_mtls_policy renders numeric container ports"},
		{"server of another name", `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: other-8443, namespace: foo}
spec: {podSelector: {matchLabels: {app: a}}, port: 8443}`, mesh.TargetLinkerd, `metadata.name is not "default-8443"`},
		{"server cluster-authenticated", `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: default-8443, namespace: foo}
spec: {podSelector: {matchLabels: {app: a}}, port: 8443, accessPolicy: cluster-authenticated}`, mesh.TargetLinkerd,
			`spec.accessPolicy is "cluster-authenticated"`},
		{"server without accessPolicy denies", `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: default-8443, namespace: foo}
spec: {podSelector: {matchLabels: {app: a}}, port: 8443}`, mesh.TargetLinkerd, `spec.accessPolicy is "deny"`},
		{"server with proxyProtocol", `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: default-8443, namespace: foo}
spec: {podSelector: {matchLabels: {app: a}}, port: 8443, accessPolicy: all-authenticated, proxyProtocol: opaque}`, mesh.TargetLinkerd,
			`spec.proxyProtocol is set to "opaque", and mesh_mtls_policy has no attribute for it`},
		// What decoding alone would keep, and the second rendering proves lost.
		{"port-level modes without a selector", `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: foo}
spec: {mtls: {mode: STRICT}, portLevelMtls: {"8080": {mode: PERMISSIVE}}}`, mesh.TargetIstioSidecar,
			`spec.portLevelMtls is set to {"8080":{"mode":"PERMISSIVE"}}, and mesh_mtls_policy has no attribute for it`},
		{"unknown field of a port-level mode", `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: foo}
spec: {selector: {matchLabels: {app: a}}, portLevelMtls: {"8080": {mode: STRICT, fallback: x}}}`, mesh.TargetIstioSidecar,
			`spec.portLevelMtls.8080.fallback is set to "x", and mesh_mtls_policy has no attribute for it`},
		{"unknown metadata field", `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: foo, owner: me}
spec: {mtls: {mode: STRICT}}`, mesh.TargetIstioSidecar, `metadata.owner is set`},
		{"server selecting by expression", `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: default-8443, namespace: foo}
spec: {podSelector: {matchLabels: {app: a}, matchExpressions: [{key: tier, operator: Exists}]}, port: 8443, accessPolicy: all-authenticated}`, mesh.TargetLinkerd,
			`spec.podSelector.matchExpressions is set to [{"key":"tier","operator":"Exists"}], and mesh_mtls_policy has no attribute for it`},
		{"server field unknown to the type", `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: default-8443, namespace: foo}
spec: {podSelector: {matchLabels: {app: a}}, port: 8443, accessPolicy: all-authenticated, protocol: grpc}`, mesh.TargetLinkerd,
			`spec.protocol is set, and mesh_mtls_policy has no attribute for it`},
		{"server for istio", `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: default-8443, namespace: foo}
spec: {podSelector: {matchLabels: {app: a}}, port: 8443, accessPolicy: all-authenticated}`, mesh.TargetIstioAmbient,
			`cannot be imported for target "istio-ambient": only Linkerd reads it`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := render.ParseMTLSPolicy(decode(t, c.yaml), c.target, "default", mesh.DefaultRootNamespace)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestParseMTLSPolicyAPIServerDefaults: what the API server adds to a live
// Server (proxyProtocol: unknown, status) reads as not set.
func TestParseMTLSPolicyAPIServerDefaults(t *testing.T) {
	objs := decode(t, `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: finance-8443, namespace: foo, uid: 5e2d, resourceVersion: "7", generation: 1, creationTimestamp: "2026-12-02T00:00:00Z", managedFields: [{manager: terraform-provider-mesh, operation: Apply}]}
spec: {podSelector: {matchLabels: {app: finance}}, port: 8443, accessPolicy: all-authenticated, proxyProtocol: unknown}
status: {conditions: []}`)
	got, err := render.ParseMTLSPolicy(objs, mesh.TargetLinkerd, "finance", mesh.DefaultRootNamespace)
	if err != nil {
		t.Fatal(err)
	}
	want := mtlsPolicy(mesh.TargetLinkerd, financeWorkload(mesh.MTLSStrict, mesh.MTLSPort{Port: 8443, Mode: mesh.MTLSStrict}))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parsed policy (-want +got):\n%s", diff)
	}
}
