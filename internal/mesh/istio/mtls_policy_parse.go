package istio

import (
	"fmt"
	"slices"

	securityapi "istio.io/api/security/v1beta1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/gatewayapi"
)

const mtlsResource = "mesh_mtls_policy"

// ParseMTLSPolicy is the inverse of RenderMTLSPolicy, for terraform import:
// it decodes a live PeerAuthentication into the struct RenderMTLSPolicy
// builds, rebuilds the Normalize()d intent from it, and renders that intent
// again to prove that nothing was lost (the first field not covered is the
// error). target picks sidecar or ambient, which the object cannot tell.
//
// A selector-less PeerAuthentication in rootNamespace reads as scope mesh,
// elsewhere as scope namespace; with a selector, as scope workload.
func ParseMTLSPolicy(obj *unstructured.Unstructured, target mesh.Target, rootNamespace string) (mesh.MTLSPolicy, error) {
	if target != mesh.TargetIstioSidecar && target != mesh.TargetIstioAmbient {
		return mesh.MTLSPolicy{}, fmt.Errorf("%s cannot be imported for target %q: only Istio reads PeerAuthentications", gatewayapi.Describe(obj), target)
	}
	// The spec first, strictly: Decode reads it leniently.
	var pa securityv1.PeerAuthentication
	if err := gatewayapi.DecodeProto(obj, mtlsResource, "spec", &pa.Spec); err != nil {
		return mesh.MTLSPolicy{}, err
	}
	if err := gatewayapi.Decode(obj, mtlsResource, &pa); err != nil {
		return mesh.MTLSPolicy{}, err
	}
	p := mesh.MTLSPolicy{
		Name: pa.Name, Namespace: pa.Namespace, Target: target,
		Scope: mesh.MTLSScopeNamespace, Mode: peerMode(pa.Spec.GetMtls()),
	}
	switch selector := pa.Spec.GetSelector().GetMatchLabels(); {
	case len(selector) > 0:
		p.Scope, p.WorkloadSelector = mesh.MTLSScopeWorkload, selector
	case pa.Namespace == rootNamespace:
		p.Scope, p.Namespace, p.RootNamespace = mesh.MTLSScopeMesh, "", rootNamespace
	}
	for port, mtls := range pa.Spec.GetPortLevelMtls() {
		p.Ports = append(p.Ports, mesh.MTLSPort{Port: int64(port), Mode: peerMode(mtls)})
	}
	slices.SortFunc(p.Ports, func(a, b mesh.MTLSPort) int { return int(a.Port - b.Port) })
	p.Normalize()
	rendered, err := RenderMTLSPolicy(p)
	if err != nil {
		return mesh.MTLSPolicy{}, fmt.Errorf("%s: %w", gatewayapi.Describe(obj), err)
	}
	if err := gatewayapi.Covered(obj, &pa, rendered[0], mtlsResource, "spec"); err != nil {
		return mesh.MTLSPolicy{}, err
	}
	return p, nil
}

// peerMode is the mode of {mode: X}; absent means UNSET.
func peerMode(m *securityapi.PeerAuthentication_MutualTLS) mesh.MTLSMode {
	return mesh.MTLSMode(m.GetMode().String())
}
