package render

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/gatewayapi"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/istio"
)

// ParseTrafficSplit is the inverse of TrafficSplit, for terraform import,
// with the parser of the renderer that made the objects: istio's for
// istio-sidecar and istio-ambient (a VirtualService with its
// DestinationRules, or an HTTPRoute, and the waypoint), gatewayapi's for
// Linkerd (an HTTPRoute). target chooses the data plane, which the objects
// alone cannot tell.
func ParseTrafficSplit(objs []*unstructured.Unstructured, target mesh.Target) (mesh.TrafficSplit, error) {
	switch target {
	case mesh.TargetIstioSidecar, mesh.TargetIstioAmbient:
		return istio.ParseTrafficSplit(objs, target)
	case mesh.TargetLinkerd:
		return gatewayapi.ParseTrafficSplit(objs)
	}
	return mesh.TrafficSplit{}, fmt.Errorf("unknown target %q: use one of %q", target, mesh.Targets)
}
