package mesh

import (
	"istio.io/api/annotation"
	"istio.io/api/label"
	gwconsts "sigs.k8s.io/gateway-api/pkg/consts"
)

// The registry of the labels and annotations the meshes define, which the
// renderers set and the cluster checks read. Istio's and Gateway API's are
// spelled by their Go modules; Linkerd's here. No other package spells one
// (TestRegistryIsTheOnlySpelling). The provider's own labels are in
// mesh.go.

// Istio.
var (
	LabelUseWaypoint          = label.IoIstioUseWaypoint.Name
	LabelUseWaypointNamespace = label.IoIstioUseWaypointNamespace.Name
	LabelWaypointFor          = label.IoIstioWaypointFor.Name
	LabelIstioRev             = label.IoIstioRev.Name
	LabelDataplaneMode        = label.IoIstioDataplaneMode.Name
	LabelTLSMode              = label.SecurityTlsMode.Name
	AnnotationSidecarStatus   = annotation.SidecarStatus.Name
	AnnotationIstioDryRun     = annotation.IoIstioDryRun.Name
)

// LabelIstioInjection is the namespace label of sidecar injection that
// istio.io/api no longer lists (it predates revisions).
const LabelIstioInjection = "istio-injection"

// Linkerd.
const (
	AnnotationLinkerdInject = "linkerd.io/inject"
	// LabelLinkerdControlPlaneNS is on every pod the proxy injector meshed.
	LabelLinkerdControlPlaneNS    = "linkerd.io/control-plane-ns"
	AnnotationLinkerdProxyVersion = "linkerd.io/proxy-version"
	// AnnotationDefaultInboundPolicy sets the default policy of the pods
	// created in a namespace (read at pod creation).
	AnnotationDefaultInboundPolicy = "config.linkerd.io/default-inbound-policy"
)

// Gateway API: the annotations on its CRDs.
const (
	AnnotationGatewayAPIBundleVersion = gwconsts.BundleVersionAnnotation
	AnnotationGatewayAPIChannel       = gwconsts.ChannelAnnotation
)
