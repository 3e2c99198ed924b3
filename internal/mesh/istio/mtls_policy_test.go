package istio_test

import (
	"encoding/json"
	"testing"

	securityapi "istio.io/api/security/v1beta1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/istio"
	"github.com/meshform/terraform-provider-mesh/internal/meshtest"
)

// finance is the policy of MESH-MAPPING §2.2, before edit and Normalize.
func finance(target mesh.Target, edit func(*mesh.MTLSPolicy)) mesh.MTLSPolicy {
	p := mesh.MTLSPolicy{Name: "default", Namespace: "foo", Scope: mesh.MTLSScopeNamespace, Mode: mesh.MTLSStrict, Target: target}
	edit(&p)
	p.Normalize()
	p.Owner = mesh.Owner("mesh_mtls_policy", p.ObjectNamespace(), p.Name)
	return p
}

var mtlsCases = map[string]mesh.MTLSPolicy{
	"peerauthentication_mesh_strict_root_namespace": finance(mesh.TargetIstioSidecar, func(p *mesh.MTLSPolicy) {
		p.Scope, p.Namespace = mesh.MTLSScopeMesh, ""
	}),
	"peerauthentication_namespace_permissive": finance(mesh.TargetIstioSidecar, func(p *mesh.MTLSPolicy) {
		p.Mode = mesh.MTLSPermissive
	}),
	"peerauthentication_workload_port_override": finance(mesh.TargetIstioSidecar, func(p *mesh.MTLSPolicy) {
		p.Name, p.Scope = "finance", mesh.MTLSScopeWorkload
		p.WorkloadSelector = map[string]string{"app": "finance"}
		p.Ports = []mesh.MTLSPort{{Port: 8080, Mode: mesh.MTLSPermissive}}
	}),
	"peerauthentication_unset_inherits_with_strict_port": finance(mesh.TargetIstioAmbient, func(p *mesh.MTLSPolicy) {
		p.Name, p.Scope, p.Mode = "finance", mesh.MTLSScopeWorkload, mesh.MTLSUnset
		p.WorkloadSelector = map[string]string{"app": "finance"}
		p.Ports = []mesh.MTLSPort{{Port: 8443, Mode: mesh.MTLSStrict}, {Port: 9090, Mode: mesh.MTLSPermissive}}
	}),
	"peerauthentication_mesh_custom_root_namespace": finance(mesh.TargetIstioAmbient, func(p *mesh.MTLSPolicy) {
		p.Scope, p.Namespace, p.RootNamespace = mesh.MTLSScopeMesh, "", "istio-config"
	}),
}

func TestRenderMTLSPolicyGolden(t *testing.T) {
	for name, p := range mtlsCases {
		t.Run(name, func(t *testing.T) {
			if ps := p.Validate(); ps.HasErrors() {
				t.Fatalf("case is not a valid policy: %+v", ps)
			}
			objs, err := istio.RenderMTLSPolicy(p)
			if err != nil {
				t.Fatal(err)
			}
			meshtest.GoldenObjects(t, name, objs...)
		})
	}
}

func TestRenderMTLSPolicyRejectsLinkerd(t *testing.T) {
	p := finance(mesh.TargetLinkerd, func(*mesh.MTLSPolicy) {})
	if _, err := istio.RenderMTLSPolicy(p); err == nil {
		t.Error("rendered a PeerAuthentication for linkerd; want an error")
	}
}

// TestRenderedPeerAuthenticationDecodesStrictly guards against fields the
// API server would reject under fieldValidation=Strict.
func TestRenderedPeerAuthenticationDecodesStrictly(t *testing.T) {
	for name, p := range mtlsCases {
		objs, err := istio.RenderMTLSPolicy(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, obj := range objs {
			if err := decodePeerAuthentication(obj); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

// decodePeerAuthentication decodes the spec with protojson, which rejects
// unknown fields and enum names.
func decodePeerAuthentication(obj *unstructured.Unstructured) error {
	if obj.GetKind() != "PeerAuthentication" || obj.GetAPIVersion() != "security.istio.io/v1" {
		return errorString("unexpected " + obj.GetAPIVersion() + " " + obj.GetKind())
	}
	data, err := json.Marshal(obj.Object["spec"])
	if err != nil {
		return err
	}
	return strictProto(data, &securityapi.PeerAuthentication{})
}
