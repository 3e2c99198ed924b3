package istio

import (
	"fmt"

	securityapi "istio.io/api/security/v1beta1"
	typeapi "istio.io/api/type/v1beta1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/gatewayapi"
)

// RenderMTLSPolicy renders a Normalize()d policy as one security.istio.io/v1
// PeerAuthentication, for istio-sidecar and istio-ambient alike (ambient
// reads the same object; Validate rejected what it cannot do). Scope mesh
// puts it in the root namespace without a selector, scope namespace in the
// namespace without a selector; scope workload adds the selector and the
// port-level modes, keyed by container port. A top-level UNSET is left out:
// it means "inherit", which is what an absent mtls says.
func RenderMTLSPolicy(p mesh.MTLSPolicy) ([]*unstructured.Unstructured, error) {
	if p.Target != mesh.TargetIstioSidecar && p.Target != mesh.TargetIstioAmbient {
		return nil, fmt.Errorf("istio renders for istio-sidecar and istio-ambient, not %q", p.Target)
	}
	var mtls *securityapi.PeerAuthentication_MutualTLS
	if p.Mode != mesh.MTLSUnset {
		mtls = peerMTLS(p.Mode)
	}
	var selector *typeapi.WorkloadSelector
	var portLevel map[uint32]*securityapi.PeerAuthentication_MutualTLS
	if p.Scope == mesh.MTLSScopeWorkload {
		selector = &typeapi.WorkloadSelector{MatchLabels: p.WorkloadSelector}
		for _, port := range p.Ports {
			if portLevel == nil {
				portLevel = map[uint32]*securityapi.PeerAuthentication_MutualTLS{}
			}
			portLevel[uint32(port.Port)] = peerMTLS(port.Mode)
		}
	}
	pa, err := gatewayapi.ToUnstructured(&securityv1.PeerAuthentication{
		TypeMeta:   gatewayapi.TypeMeta(mesh.GVKPeerAuthentication),
		ObjectMeta: gatewayapi.ObjectMeta(p.Name, p.ObjectNamespace(), p.Owner),
		Spec:       securityapi.PeerAuthentication{Selector: selector, Mtls: mtls, PortLevelMtls: portLevel},
	})
	if err != nil {
		return nil, err
	}
	return []*unstructured.Unstructured{pa}, nil
}

func peerMTLS(m mesh.MTLSMode) *securityapi.PeerAuthentication_MutualTLS {
	mode := securityapi.PeerAuthentication_MutualTLS_Mode(securityapi.PeerAuthentication_MutualTLS_Mode_value[string(m)])
	return &securityapi.PeerAuthentication_MutualTLS{Mode: mode}
}
