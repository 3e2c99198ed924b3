package mesh

import "k8s.io/apimachinery/pkg/runtime/schema"

// The kinds the renderers emit and the cluster checks look up.
var (
	GVKVirtualService  = schema.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService"}
	GVKDestinationRule = schema.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "DestinationRule"}
	GVKHTTPRoute       = schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"}
	GVKGateway         = schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "Gateway"}
	GVKServiceProfile  = schema.GroupVersionKind{Group: "linkerd.io", Version: "v1alpha2", Kind: "ServiceProfile"}
)

// ApplyRank orders a resource's objects for apply, lowest first:
// prerequisites come first, so that applying them in order never routes to
// a subset or a waypoint that does not exist yet. DestinationRules (the
// subsets), the waypoint Gateway, the Services labelled to use it, then
// everything else (the routes and policies). Objects of one rank apply in
// the order of their manifest keys.
func ApplyRank(gvk schema.GroupVersionKind) int {
	switch {
	case gvk == GVKDestinationRule:
		return 0
	case gvk == GVKGateway:
		return 1
	case gvk.Group == "" && gvk.Kind == "Service":
		return 2
	}
	return 3
}
