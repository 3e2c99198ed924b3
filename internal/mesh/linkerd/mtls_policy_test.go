package linkerd_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/linkerd"
	"github.com/meshform/terraform-provider-mesh/internal/meshtest"
)

func finance(edit func(*mesh.MTLSPolicy)) mesh.MTLSPolicy {
	p := mesh.MTLSPolicy{Name: "default", Namespace: "foo", Scope: mesh.MTLSScopeNamespace, Mode: mesh.MTLSStrict, Target: mesh.TargetLinkerd}
	edit(&p)
	p.Normalize()
	p.Owner = mesh.Owner("mesh_mtls_policy", p.ObjectNamespace(), p.Name)
	return p
}

var mtlsCases = map[string]mesh.MTLSPolicy{
	"namespace_annotation_strict":     finance(func(*mesh.MTLSPolicy) {}),
	"namespace_annotation_permissive": finance(func(p *mesh.MTLSPolicy) { p.Mode = mesh.MTLSPermissive }),
	"server_per_port_strict_and_inherited": finance(func(p *mesh.MTLSPolicy) {
		p.Name, p.Scope, p.Mode = "finance", mesh.MTLSScopeWorkload, mesh.MTLSPermissive
		p.WorkloadSelector = map[string]string{"app": "finance"}
		p.Ports = []mesh.MTLSPort{{Port: 8443, Mode: mesh.MTLSStrict}, {Port: 8080, Mode: mesh.MTLSUnset}}
	}),
}

func TestRenderMTLSPolicyGolden(t *testing.T) {
	for name, p := range mtlsCases {
		t.Run(name, func(t *testing.T) {
			if ps := p.Validate(); ps.HasErrors() {
				t.Fatalf("case is not a valid policy: %+v", ps)
			}
			objs, err := linkerd.RenderMTLSPolicy(p)
			if err != nil {
				t.Fatal(err)
			}
			meshtest.GoldenObjects(t, name, objs...)
			for _, obj := range objs {
				if err := decodeMTLSObject(obj); err != nil {
					t.Errorf("%s %s: %v", obj.GetKind(), obj.GetName(), err)
				}
			}
		})
	}
}

// TestRenderMTLSPolicyNamespaceIsShared: the Namespace carries only the
// annotation and no owner label, so the engine never creates or deletes it.
func TestRenderMTLSPolicyNamespaceIsShared(t *testing.T) {
	objs, err := linkerd.RenderMTLSPolicy(mtlsCases["namespace_annotation_strict"])
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].GetKind() != "Namespace" {
		t.Fatalf("want one Namespace, got %v", objs)
	}
	ns := objs[0]
	if len(ns.GetLabels()) != 0 {
		t.Errorf("shared Namespace carries labels %v", ns.GetLabels())
	}
	if got := ns.GetAnnotations(); len(got) != 1 || got[mesh.AnnotationDefaultInboundPolicy] != linkerd.AllAuthenticated {
		t.Errorf("annotations %v, want only %s=%s", got, mesh.AnnotationDefaultInboundPolicy, linkerd.AllAuthenticated)
	}
	if _, ok := ns.Object["spec"]; ok {
		t.Error("shared Namespace must carry no spec")
	}
}

func TestRenderMTLSPolicyRejectsMeshScope(t *testing.T) {
	p := finance(func(p *mesh.MTLSPolicy) { p.Scope, p.Namespace = mesh.MTLSScopeMesh, "" })
	if _, err := linkerd.RenderMTLSPolicy(p); err == nil {
		t.Error("rendered a mesh-wide Linkerd policy; want an error (MESH-MTLS-005)")
	}
}

// decodeMTLSObject decodes a Server into the typed struct, rejecting
// fields it does not know; the apiserver's Strict validation against the
// CRD schema is exercised by the acceptance tests.
func decodeMTLSObject(obj *unstructured.Unstructured) error {
	if obj.GetKind() == "Namespace" {
		return nil
	}
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(&linkerd.Server{})
}
