package render

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

const (
	mtlsPolicyObjectsExpected = "an mTLS policy is one PeerAuthentication, the Linkerd Servers \"<name>-<port>\" of one workload, or one Namespace with the " + mesh.AnnotationDefaultInboundPolicy + " annotation"
)

// ParseMTLSPolicy is the inverse of MTLSPolicy, for terraform import: it
// rebuilds the Normalize()d intent of the policy named name from its live
// objects. The objects say the target's family (PeerAuthentication: Istio;
// Server or Namespace: Linkerd); target picks sidecar or ambient.
//
// Shapes that render alike are read one way: a selector-less
// PeerAuthentication in rootNamespace is scope mesh, elsewhere scope
// namespace; Linkerd Servers, which have no policy-wide mode, read as mode =
// the lowest port's mode, each port keeping its own (never UNSET).
func ParseMTLSPolicy(objs []*unstructured.Unstructured, target mesh.Target, name, rootNamespace string) (mesh.MTLSPolicy, error) {
	if len(objs) == 0 {
		return mesh.MTLSPolicy{}, fmt.Errorf("no objects: %s", mtlsPolicyObjectsExpected)
	}
	var p mesh.MTLSPolicy
	var err error
	switch first := objs[0]; {
	case first.GroupVersionKind().GroupKind() == mesh.GVKPeerAuthentication.GroupKind() && len(objs) == 1:
		p, err = parsePeerAuthentication(first, target, rootNamespace)
	case first.GroupVersionKind().GroupKind() == mesh.GVKPolicyServer.GroupKind():
		p, err = parseServers(objs, name)
	case first.GroupVersionKind().Group == "" && first.GetKind() == "Namespace" && len(objs) == 1:
		p, err = parseNamespaceAnnotation(first, name)
	default:
		return mesh.MTLSPolicy{}, fmt.Errorf("cannot import %s (and %d more): %s", describe(first), len(objs)-1, mtlsPolicyObjectsExpected)
	}
	if err != nil {
		return mesh.MTLSPolicy{}, err
	}
	p.Normalize()
	return p, nil
}

func parsePeerAuthentication(pa *unstructured.Unstructured, target mesh.Target, rootNamespace string) (mesh.MTLSPolicy, error) {
	if target != mesh.TargetIstioSidecar && target != mesh.TargetIstioAmbient {
		return mesh.MTLSPolicy{}, fmt.Errorf("%s cannot be imported for target %q: only Istio reads PeerAuthentications", describe(pa), target)
	}
	p := mesh.MTLSPolicy{Name: pa.GetName(), Namespace: pa.GetNamespace(), Target: target, Scope: mesh.MTLSScopeNamespace, Mode: mesh.MTLSUnset}
	spec, err := (&parser{}).spec(pa)
	if err != nil {
		return p, err
	}
	if err := mtlsCheckKeys(pa, "spec", spec, "selector", "mtls", "portLevelMtls"); err != nil {
		return p, err
	}
	if p.Mode, err = peerMode(pa, "spec.mtls", spec["mtls"]); err != nil {
		return p, err
	}
	if p.WorkloadSelector, err = matchLabels(pa, "spec.selector", spec["selector"]); err != nil {
		return p, err
	}
	switch {
	case len(p.WorkloadSelector) > 0:
		p.Scope = mesh.MTLSScopeWorkload
	case pa.GetNamespace() == rootNamespace:
		p.Scope, p.Namespace, p.RootNamespace = mesh.MTLSScopeMesh, "", rootNamespace
	}
	if levels, ok := spec["portLevelMtls"]; ok {
		if p.Ports, err = portLevelMTLS(pa, levels); err != nil {
			return p, err
		}
	}
	return p, nil
}

// peerMode reads {mode: X}; absent means UNSET.
func peerMode(obj *unstructured.Unstructured, field string, v any) (mesh.MTLSMode, error) {
	if v == nil {
		return mesh.MTLSUnset, nil
	}
	m, err := object(obj, field, v)
	if err != nil {
		return "", err
	}
	if err := mtlsCheckKeys(obj, field, m, "mode"); err != nil {
		return "", err
	}
	mode, ok := m["mode"]
	if !ok {
		return mesh.MTLSUnset, nil
	}
	s, err := str(obj, field+".mode", mode)
	if err != nil {
		return "", err
	}
	if !slices.Contains(mesh.MTLSModeValues, mesh.MTLSMode(s)) {
		return "", notLossless(obj, field+".mode", "is %q; mesh_mtls_policy knows STRICT, PERMISSIVE, DISABLE and UNSET", s)
	}
	return mesh.MTLSMode(s), nil
}

// matchLabels reads a selector that may only use matchLabels.
func matchLabels(obj *unstructured.Unstructured, field string, v any) (map[string]string, error) {
	if v == nil {
		return nil, nil
	}
	sel, err := object(obj, field, v)
	if err != nil {
		return nil, err
	}
	if err := mtlsCheckKeys(obj, field, sel, "matchLabels"); err != nil {
		return nil, err
	}
	labels, ok := sel["matchLabels"]
	if !ok {
		return nil, nil
	}
	m, err := object(obj, field+".matchLabels", labels)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if out[k], err = str(obj, field+".matchLabels."+k, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// portLevelMTLS reads the port-keyed modes, sorted by port.
func portLevelMTLS(pa *unstructured.Unstructured, v any) ([]mesh.MTLSPort, error) {
	levels, err := object(pa, "spec.portLevelMtls", v)
	if err != nil {
		return nil, err
	}
	var ports []mesh.MTLSPort
	for _, key := range sortedKeys(levels) {
		field := "spec.portLevelMtls." + key
		n, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			return nil, malformed(pa, field, key, "a port number key")
		}
		mode, err := peerMode(pa, field, levels[key])
		if err != nil {
			return nil, err
		}
		ports = append(ports, mesh.MTLSPort{Port: n, Mode: mode})
	}
	sort.Slice(ports, func(i, j int) bool { return ports[i].Port < ports[j].Port })
	return ports, nil
}

// parseServers reads the Servers "<name>-<port>" of one workload.
func parseServers(servers []*unstructured.Unstructured, name string) (mesh.MTLSPolicy, error) {
	p := mesh.MTLSPolicy{Name: name, Namespace: servers[0].GetNamespace(), Target: mesh.TargetLinkerd, Scope: mesh.MTLSScopeWorkload}
	for i, srv := range servers {
		port, mode, selector, err := parseServer(srv, name)
		if err != nil {
			return p, err
		}
		if srv.GetNamespace() != p.Namespace {
			return p, fmt.Errorf("%s is not in namespace %q: the Servers of one policy share a namespace", describe(srv), p.Namespace)
		}
		if i == 0 {
			p.WorkloadSelector = selector
		} else if !maps.Equal(selector, p.WorkloadSelector) {
			return p, notLossless(srv, "spec.podSelector.matchLabels", "differs from %s's; mesh_mtls_policy renders one workload_selector for all its Servers", describe(servers[0]))
		}
		p.Ports = append(p.Ports, mesh.MTLSPort{Port: port, Mode: mode})
	}
	sort.Slice(p.Ports, func(i, j int) bool { return p.Ports[i].Port < p.Ports[j].Port })
	p.Mode = p.Ports[0].Mode
	return p, nil
}

func parseServer(srv *unstructured.Unstructured, name string) (int64, mesh.MTLSMode, map[string]string, error) {
	spec, err := (&parser{}).spec(srv)
	if err != nil {
		return 0, "", nil, err
	}
	if err := mtlsCheckKeys(srv, "spec", spec, "podSelector", "port", "accessPolicy", "proxyProtocol"); err != nil {
		return 0, "", nil, err
	}
	// The API server defaults proxyProtocol to "unknown" (detect), which is
	// what leaving it out renders.
	if pp, ok := spec["proxyProtocol"]; ok && pp != "unknown" {
		return 0, "", nil, notLossless(srv, "spec.proxyProtocol", "is %v; mesh_mtls_policy renders Servers that detect the protocol (unknown)", pp)
	}
	port, err := integer(srv, "spec.port", spec["port"])
	if err != nil {
		return 0, "", nil, notLossless(srv, "spec.port", "is %v; mesh_mtls_policy renders numeric container ports", spec["port"])
	}
	if want := mesh.LinkerdServerName(name, port); srv.GetName() != want {
		return 0, "", nil, notLossless(srv, "metadata.name", "is not %q: mesh_mtls_policy names each Server <name>-<port>", want)
	}
	policy := "deny" // the CRD's default
	if v, ok := spec["accessPolicy"]; ok {
		if policy, err = str(srv, "spec.accessPolicy", v); err != nil {
			return 0, "", nil, err
		}
	}
	mode, err := modeOfLinkerdPolicy(srv, "spec.accessPolicy", policy)
	if err != nil {
		return 0, "", nil, err
	}
	selector, err := matchLabels(srv, "spec.podSelector", spec["podSelector"])
	if err == nil && len(selector) == 0 {
		err = notLossless(srv, "spec.podSelector", "selects no pods by label; mesh_mtls_policy needs podSelector.matchLabels")
	}
	return port, mode, selector, err
}

// parseNamespaceAnnotation reads the default inbound policy annotation.
func parseNamespaceAnnotation(ns *unstructured.Unstructured, name string) (mesh.MTLSPolicy, error) {
	p := mesh.MTLSPolicy{Name: name, Namespace: ns.GetName(), Target: mesh.TargetLinkerd, Scope: mesh.MTLSScopeNamespace}
	policy, ok := ns.GetAnnotations()[mesh.AnnotationDefaultInboundPolicy]
	if !ok {
		return p, fmt.Errorf("%s has no %s annotation: there is no namespace policy to import", describe(ns), mesh.AnnotationDefaultInboundPolicy)
	}
	var err error
	p.Mode, err = modeOfLinkerdPolicy(ns, "metadata.annotations."+mesh.AnnotationDefaultInboundPolicy, policy)
	return p, err
}

func modeOfLinkerdPolicy(obj *unstructured.Unstructured, field, policy string) (mesh.MTLSMode, error) {
	for _, m := range []mesh.MTLSMode{mesh.MTLSStrict, mesh.MTLSPermissive} {
		if p, _ := mesh.LinkerdAccessPolicy(m); p == policy {
			return m, nil
		}
	}
	return "", notLossless(obj, field, "is %q; mesh_mtls_policy renders only all-authenticated (STRICT) and all-unauthenticated (PERMISSIVE)", policy)
}

// IsLinkerdServerOf reports whether a Server's name is "<name>-<port>".
func IsLinkerdServerOf(serverName, name string) bool {
	rest, ok := strings.CutPrefix(serverName, name+"-")
	if !ok {
		return false
	}
	_, err := strconv.ParseUint(rest, 10, 16)
	return err == nil
}

// mtlsCheckKeys rejects the fields of m that mesh_mtls_policy has no
// attribute for.
func mtlsCheckKeys(obj *unstructured.Unstructured, field string, m map[string]any, allowed ...string) error {
	for _, k := range sortedKeys(m) {
		if !slices.Contains(allowed, k) {
			return notLossless(obj, field+"."+k,
				"is set, and mesh_mtls_policy has no attribute for it; remove it from the object before importing, or keep managing the object outside Terraform")
		}
	}
	return nil
}
