package mesh

import (
	"fmt"
	"strings"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The registry of kinds: every API group and kind the renderers emit and
// the cluster checks read, with what installs its CRD. Istio's and Gateway
// API's groups are spelled by their Go modules; Linkerd publishes no module
// that builds with current Gateway API types (internal/mesh/linkerd mirrors
// its CRDs), so its groups are spelled here. No other package spells a
// group or a kind's GVK (TestRegistryIsTheOnlySpelling).

// API groups.
const (
	GroupIstioNetworking = networkingv1.GroupName
	GroupIstioSecurity   = securityv1.GroupName
	GroupGatewayAPI      = gwv1.GroupName
	GroupLinkerd         = "linkerd.io"
	GroupLinkerdPolicy   = "policy.linkerd.io"
	GroupAPIExtensions   = "apiextensions.k8s.io"
)

// LinkerdServerVersion is the version of Linkerd's Server kind the
// renderers emit (accessPolicy needs v1beta3).
const LinkerdServerVersion = "v1beta3"

// The kinds.
var (
	GVKVirtualService           = networkingv1.SchemeGroupVersion.WithKind("VirtualService")
	GVKDestinationRule          = networkingv1.SchemeGroupVersion.WithKind("DestinationRule")
	GVKPeerAuthentication       = securityv1.SchemeGroupVersion.WithKind("PeerAuthentication")
	GVKIstioAuthorizationPolicy = securityv1.SchemeGroupVersion.WithKind("AuthorizationPolicy")
	GVKHTTPRoute                = gwv1.SchemeGroupVersion.WithKind("HTTPRoute")
	GVKGateway                  = gwv1.SchemeGroupVersion.WithKind("Gateway")
	GVKServiceProfile           = schema.GroupVersionKind{Group: GroupLinkerd, Version: "v1alpha2", Kind: "ServiceProfile"}
	GVKPolicyServer             = schema.GroupVersionKind{Group: GroupLinkerdPolicy, Version: LinkerdServerVersion, Kind: "Server"}
	GVKLinkerdAuthorization     = schema.GroupVersionKind{Group: GroupLinkerdPolicy, Version: "v1alpha1", Kind: "AuthorizationPolicy"}
	GVKMeshTLSAuthentication    = schema.GroupVersionKind{Group: GroupLinkerdPolicy, Version: "v1alpha1", Kind: "MeshTLSAuthentication"}
	GVKNetworkAuthentication    = schema.GroupVersionKind{Group: GroupLinkerdPolicy, Version: "v1alpha1", Kind: "NetworkAuthentication"}
	GVKNamespaceCore            = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	GVKCRD                      = schema.GroupVersionKind{Group: GroupAPIExtensions, Version: "v1", Kind: "CustomResourceDefinition"}
)

// Kinds lists every kind above.
var Kinds = []schema.GroupVersionKind{
	GVKVirtualService, GVKDestinationRule, GVKPeerAuthentication, GVKIstioAuthorizationPolicy, GVKHTTPRoute, GVKGateway,
	GVKServiceProfile, GVKPolicyServer, GVKLinkerdAuthorization, GVKMeshTLSAuthentication, GVKNetworkAuthentication,
	GVKNamespaceCore, GVKCRD,
}

// crdSource names what installs a group's CRDs (a chart, when one does)
// and the oldest version of it that serves the kinds above.
type crdSource struct{ name, chart, minimum string }

var crdSources = map[string]crdSource{
	GroupIstioNetworking: {"the Istio CRDs", "Istio base chart", "1.22"},
	GroupIstioSecurity:   {"the Istio CRDs", "Istio base chart", "1.22"},
	GroupGatewayAPI:      {"the Gateway API CRDs", "", "v1.1.1"},
	GroupLinkerd:         {"the Linkerd CRDs", "linkerd-crds chart", ""},
	GroupLinkerdPolicy:   {"the Linkerd CRDs", "linkerd-crds chart", ""},
}

// Requirement names what installs gvk's CRDs, for the install or upgrade a
// cluster that does not serve it needs: at least minimum for what needs it
// (a feature of a later version than the group's kinds need), or with both
// "" the group's own minimum.
func Requirement(gvk schema.GroupVersionKind, minimum, forWhat string) string {
	src, ok := crdSources[gvk.Group]
	if !ok {
		return "the CRDs of " + gvk.Group
	}
	var parts []string
	if src.chart != "" {
		parts = append(parts, src.chart)
	}
	switch {
	case minimum != "" && forWhat != "":
		parts = append(parts, fmt.Sprintf("minimum %s for %s", minimum, forWhat))
	case minimum != "":
		parts = append(parts, "minimum "+minimum)
	case src.minimum != "":
		parts = append(parts, "minimum "+src.minimum)
	}
	if len(parts) == 0 {
		return src.name
	}
	return src.name + " (" + strings.Join(parts, ", ") + ")"
}

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
