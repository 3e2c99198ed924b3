package render

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/gatewayapi"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/istio"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/linkerd"
)

// MTLSPolicy renders a Normalize()d mTLS policy for its target.
func MTLSPolicy(p mesh.MTLSPolicy) ([]*unstructured.Unstructured, error) {
	switch p.Target {
	case mesh.TargetIstioSidecar, mesh.TargetIstioAmbient:
		return istio.RenderMTLSPolicy(p)
	case mesh.TargetLinkerd:
		return linkerd.RenderMTLSPolicy(p)
	}
	return nil, fmt.Errorf("unknown target %q: use one of %q", p.Target, mesh.Targets)
}

const mtlsPolicyObjectsExpected = "an mTLS policy is one PeerAuthentication, the Linkerd Servers \"<name>-<port>\" of one workload, or one Namespace with the " + mesh.AnnotationDefaultInboundPolicy + " annotation"

// ParseMTLSPolicy is the inverse of MTLSPolicy, for terraform import: it
// rebuilds the Normalize()d intent of the policy named name from its live
// objects, with the parser of the renderer that made them (istio or
// linkerd). The objects say the target's family (PeerAuthentication: Istio;
// Servers or a Namespace: Linkerd); target picks sidecar or ambient.
func ParseMTLSPolicy(objs []*unstructured.Unstructured, target mesh.Target, name, rootNamespace string) (mesh.MTLSPolicy, error) {
	if len(objs) == 0 {
		return mesh.MTLSPolicy{}, fmt.Errorf("no objects: %s", mtlsPolicyObjectsExpected)
	}
	first := objs[0].GroupVersionKind()
	switch {
	case first.GroupKind() == mesh.GVKPeerAuthentication.GroupKind() && len(objs) == 1:
		return istio.ParseMTLSPolicy(objs[0], target, rootNamespace)
	case first.GroupKind() == mesh.GVKPolicyServer.GroupKind(),
		first == mesh.GVKNamespaceCore && len(objs) == 1:
		if target != mesh.TargetLinkerd {
			return mesh.MTLSPolicy{}, fmt.Errorf("%s cannot be imported for target %q: only Linkerd reads it", gatewayapi.Describe(objs[0]), target)
		}
		return linkerd.ParseMTLSPolicy(objs, name)
	}
	return mesh.MTLSPolicy{}, fmt.Errorf("cannot import %s (and %d more): %s", gatewayapi.Describe(objs[0]), len(objs)-1, mtlsPolicyObjectsExpected)
}
