package linkerd

import (
	"fmt"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/gatewayapi"
)

const mtlsResource = "mesh_mtls_policy"

// ProxyProtocolDetect is the API server's default for Server.spec.proxyProtocol
// (the proxy detects the protocol), which a rendered Server leaves out.
const ProxyProtocolDetect = "unknown"

// clearServerDefaults drops from a live Server what the API server
// defaulted and a rendered Server leaves out, before the two are compared.
func clearServerDefaults(srv *Server) {
	if srv.Spec.ProxyProtocol == ProxyProtocolDetect {
		srv.Spec.ProxyProtocol = ""
	}
}

// ParseMTLSPolicy is the inverse of RenderMTLSPolicy, for terraform import:
// objs are either the Servers "<name>-<port>" of one workload or one
// Namespace carrying the default inbound policy annotation. Each Server
// decodes into the struct RenderMTLSPolicy builds; the intent rebuilt from
// them is rendered again to prove nothing was lost (the first field not
// covered is the error).
//
// Servers have no policy-wide mode, so they read as mode = the lowest
// port's mode, each port keeping its own (never UNSET).
func ParseMTLSPolicy(objs []*unstructured.Unstructured, name string) (mesh.MTLSPolicy, error) {
	if len(objs) == 1 && objs[0].GroupVersionKind() == mesh.GVKNamespaceCore {
		return parseNamespaceAnnotation(objs[0], name)
	}
	p := mesh.MTLSPolicy{Name: name, Namespace: objs[0].GetNamespace(), Target: mesh.TargetLinkerd, Scope: mesh.MTLSScopeWorkload}
	type server struct {
		obj *unstructured.Unstructured
		srv *Server
	}
	live := map[string]server{}
	for i, obj := range objs {
		srv, port, mode, err := parseServer(obj, name)
		if err != nil {
			return p, err
		}
		if srv.Namespace != p.Namespace {
			return p, fmt.Errorf("%s is not in namespace %q: the Servers of one policy share a namespace", gatewayapi.Describe(obj), p.Namespace)
		}
		selector := srv.Spec.PodSelector.MatchLabels
		if i == 0 {
			p.WorkloadSelector = selector
		} else if !maps.Equal(selector, p.WorkloadSelector) {
			return p, gatewayapi.NotLossless(obj, "spec.podSelector.matchLabels", "differs from %s's; mesh_mtls_policy renders one workload_selector for all its Servers", gatewayapi.Describe(objs[0]))
		}
		p.Ports = append(p.Ports, mesh.MTLSPort{Port: port, Mode: mode})
		live[srv.Name] = server{obj, srv}
	}
	slices.SortFunc(p.Ports, func(a, b mesh.MTLSPort) int { return int(a.Port - b.Port) })
	p.Mode = p.Ports[0].Mode
	p.Normalize()
	rendered, err := RenderMTLSPolicy(p)
	if err != nil {
		return p, err
	}
	// One Server per port, named by it: each live Server has its rendering.
	for _, want := range rendered {
		s := live[want.GetName()]
		if err := gatewayapi.Covered(s.obj, s.srv, want, mtlsResource, "spec"); err != nil {
			return p, err
		}
	}
	return p, nil
}

// parseServer decodes one Server "<name>-<port>" of a numeric port.
func parseServer(obj *unstructured.Unstructured, name string) (*Server, int64, mesh.MTLSMode, error) {
	var srv Server
	if obj.GroupVersionKind().GroupKind() != mesh.GVKPolicyServer.GroupKind() {
		return nil, 0, "", fmt.Errorf("%s is not a Server (%s): the objects of a Linkerd mTLS policy are its Servers", gatewayapi.Describe(obj), PolicyGroup)
	}
	if err := gatewayapi.Decode(obj, mtlsResource, &srv); err != nil {
		return nil, 0, "", err
	}
	clearServerDefaults(&srv)
	if srv.Spec.Port.Type != intstr.Int {
		return nil, 0, "", gatewayapi.NotLossless(obj, "spec.port", "is %s; mesh_mtls_policy renders numeric container ports", srv.Spec.Port.String())
	}
	port := int64(srv.Spec.Port.IntValue())
	if want := mesh.LinkerdServerName(name, port); srv.Name != want {
		return nil, 0, "", gatewayapi.NotLossless(obj, "metadata.name", "is not %q: mesh_mtls_policy names each Server <name>-<port>", want)
	}
	if srv.Spec.AccessPolicy == "" {
		srv.Spec.AccessPolicy = Deny // the CRD's default
	}
	mode, err := modeOfAccessPolicy(obj, "spec.accessPolicy", srv.Spec.AccessPolicy)
	if err != nil {
		return nil, 0, "", err
	}
	if srv.Spec.PodSelector == nil || len(srv.Spec.PodSelector.MatchLabels) == 0 {
		return nil, 0, "", gatewayapi.NotLossless(obj, "spec.podSelector", "selects no pods by label; mesh_mtls_policy needs podSelector.matchLabels")
	}
	return &srv, port, mode, nil
}

// parseNamespaceAnnotation reads the default inbound policy annotation, the
// only field of the Namespace the policy renders.
func parseNamespaceAnnotation(ns *unstructured.Unstructured, name string) (mesh.MTLSPolicy, error) {
	p := mesh.MTLSPolicy{Name: name, Namespace: ns.GetName(), Target: mesh.TargetLinkerd, Scope: mesh.MTLSScopeNamespace}
	policy, ok := ns.GetAnnotations()[mesh.AnnotationDefaultInboundPolicy]
	if !ok {
		return p, fmt.Errorf("%s has no %s annotation: there is no namespace policy to import", gatewayapi.Describe(ns), mesh.AnnotationDefaultInboundPolicy)
	}
	field := "metadata.annotations." + mesh.AnnotationDefaultInboundPolicy
	var err error
	if p.Mode, err = modeOfAccessPolicy(ns, field, policy); err != nil {
		return p, err
	}
	p.Normalize()
	rendered, err := RenderMTLSPolicy(p)
	if err != nil {
		return p, err
	}
	return p, gatewayapi.CoveredValue(ns, mtlsResource, field, policy, rendered[0].GetAnnotations()[mesh.AnnotationDefaultInboundPolicy])
}

// modeOfAccessPolicy is the mode whose access policy is policy.
func modeOfAccessPolicy(obj *unstructured.Unstructured, field, policy string) (mesh.MTLSMode, error) {
	for _, m := range []mesh.MTLSMode{mesh.MTLSStrict, mesh.MTLSPermissive} {
		if p, _ := mesh.LinkerdAccessPolicy(m); p == policy {
			return m, nil
		}
	}
	return "", gatewayapi.NotLossless(obj, field, "is %q; mesh_mtls_policy renders only all-authenticated (STRICT) and all-unauthenticated (PERMISSIVE)", policy)
}
