// Package linkerd renders mesh intent as the objects Linkerd reads.
package linkerd

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/gatewayapi"
)

// RenderTrafficSplit renders a Normalize()d split as the Service-parented
// gateway.networking.k8s.io/v1 HTTPRoute that Linkerd (≥ 2.18) applies in
// the client proxies. Never SMI TrafficSplit: SMI is archived and Linkerd's
// extension for it is deprecated.
func RenderTrafficSplit(ts mesh.TrafficSplit) ([]*unstructured.Unstructured, error) {
	route, err := gatewayapi.HTTPRoute(ts)
	if err != nil {
		return nil, err
	}
	return []*unstructured.Unstructured{route}, nil
}
