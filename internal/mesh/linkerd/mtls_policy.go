package linkerd

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/gatewayapi"
)

// RenderMTLSPolicy renders a Normalize()d, validated policy for Linkerd,
// whose meshed traffic is always mTLS: "STRICT" means rejecting
// unauthenticated (unmeshed) clients.
//
// Scope namespace sets the namespace's default inbound policy annotation,
// read when a pod is created. The Namespace is not ours: the object carries
// only that annotation and no owner label, so the apply engine adds and
// releases just that field and never creates or deletes the Namespace.
//
// Scope workload renders one Server per port ("<name>-<port>") with the
// port's access policy, which Linkerd applies without a restart.
func RenderMTLSPolicy(p mesh.MTLSPolicy) ([]*unstructured.Unstructured, error) {
	switch p.Scope {
	case mesh.MTLSScopeNamespace:
		ns, err := namespaceAnnotation(p)
		if err != nil {
			return nil, err
		}
		return []*unstructured.Unstructured{ns}, nil
	case mesh.MTLSScopeWorkload:
		return servers(p)
	}
	return nil, fmt.Errorf("linkerd has no mesh-wide policy object (%s): set it at install time", mesh.CodeMTLSLinkerdMesh)
}

func namespaceAnnotation(p mesh.MTLSPolicy) (*unstructured.Unstructured, error) {
	policy, ok := mesh.LinkerdAccessPolicy(p.Mode)
	if !ok {
		return nil, fmt.Errorf("mode %q has no Linkerd default inbound policy", p.Mode)
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Namespace",
		"metadata": map[string]any{
			"name":        p.Namespace,
			"annotations": map[string]any{mesh.AnnotationDefaultInboundPolicy: policy},
		},
	}}, nil
}

func servers(p mesh.MTLSPolicy) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, port := range p.Ports {
		mode := p.PortMode(port)
		policy, ok := mesh.LinkerdAccessPolicy(mode)
		if !ok {
			return nil, fmt.Errorf("port %d: mode %q has no Linkerd access policy", port.Port, mode)
		}
		srv, err := gatewayapi.ToUnstructured(&Server{
			TypeMeta:   metav1.TypeMeta{APIVersion: ServerAPIVersion, Kind: ServerKind},
			ObjectMeta: gatewayapi.ObjectMeta(mesh.LinkerdServerName(p.Name, port.Port), p.Namespace, p.Owner),
			Spec: ServerSpec{
				PodSelector:  &metav1.LabelSelector{MatchLabels: p.WorkloadSelector},
				Port:         intstr.FromInt32(int32(port.Port)),
				AccessPolicy: policy,
			},
		})
		if err != nil {
			return nil, err
		}
		out = append(out, srv)
	}
	return out, nil
}
