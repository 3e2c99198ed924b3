package mesh

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Catalogue wording (MESH-MAPPING §2.3), kept verbatim.
const (
	mtlsAmbientDisableMessage = `mode "DISABLE" is not supported in Istio ambient mode: traffic between ambient workloads is always mTLS (HBONE). Use "PERMISSIVE" to accept plaintext from clients outside the mesh.`
	mtlsLinkerdDisableMessage = `Linkerd cannot disable mTLS between meshed pods (identity is always required). Use mode = "PERMISSIVE" to accept plaintext from unmeshed clients; bypassing the proxy (config.linkerd.io/skip-inbound-ports) is outside this resource.`
	mtlsPortsScopeMessage     = `mesh/namespace peer authentication cannot have port level mTLS (set scope = "workload" and workload_selector).`
	mtlsSelectorMeshMessage   = `workload_selector is ignored in the Istio root namespace (%s); use scope = "workload" in the workload's namespace.`
	mtlsLinkerdMeshMessage    = `Linkerd's mesh-wide default is an install-time value: set mesh_install.linkerd_default_inbound_policy = "%s" (all meshed pods must be restarted).`
	mtlsUnsetNoPortsMessage   = `mode "UNSET" only inherits the parent policy; it is meaningful only together with ports[].`
	mtlsLinkerdNoPortsMessage = `Linkerd enforces authentication per Server (one port each); set ports[].`
)

// maxObjectName is the longest Kubernetes object name the renderers emit
// (Linkerd Servers are DNS-1123 labels).
const maxObjectName = 63

// Validate reports every pure-config mistake in a Normalize()d policy: the
// checks that need no cluster and so run in ValidateConfig.
func (p MTLSPolicy) Validate() Problems {
	var ps Problems
	p.validateNames(&ps)
	validateLabels(&ps, CodeMTLSSelectorLabels, []any{"workload_selector"}, p.WorkloadSelector)
	p.validateScope(&ps)
	p.validatePorts(&ps)
	p.validateDisable(&ps)
	if p.Mode == MTLSUnset && len(p.Ports) == 0 {
		ps.Errorf(CodeMTLSUnsetNoPorts, []any{"mode"}, "UNSET without ports", "%s Set mode to STRICT, PERMISSIVE or DISABLE, or add ports.", mtlsUnsetNoPortsMessage)
	}
	if p.Target == TargetLinkerd {
		p.validateLinkerd(&ps)
	}
	return ps
}

// validateNames checks name and the namespaces, whatever the scope: an
// empty namespace is MESH-MTLS-015's to report, and root_namespace holds
// Normalize's default when unset.
func (p MTLSPolicy) validateNames(ps *Problems) {
	validateDNSLabel(ps, CodeMTLSName, []any{"name"}, p.Name, roleObjectName)
	if p.Namespace != "" {
		validateDNSLabel(ps, CodeMTLSName, []any{"namespace"}, p.Namespace, roleNamespace)
	}
	validateDNSLabel(ps, CodeMTLSName, []any{"root_namespace"}, p.RootNamespace, roleNamespace)
}

// validateScope checks that scope, namespace and workload_selector agree.
func (p MTLSPolicy) validateScope(ps *Problems) {
	switch p.Scope {
	case MTLSScopeMesh:
		if len(p.WorkloadSelector) > 0 {
			ps.Errorf(CodeMTLSSelectorMesh, []any{"workload_selector"}, "workload_selector with scope mesh",
				mtlsSelectorMeshMessage, p.RootNamespace)
		}
		if p.Namespace != "" {
			ps.Errorf(CodeMTLSNamespace, []any{"namespace"}, "namespace is not used with scope mesh",
				`namespace = %q: a mesh-wide policy lives in Istio's root namespace (root_namespace, default %q), not in a namespace of your choice. Remove namespace, set root_namespace if your mesh's meshConfig.rootNamespace differs, or use scope = "namespace".`,
				p.Namespace, DefaultRootNamespace)
		}
	case MTLSScopeNamespace, MTLSScopeWorkload:
		if p.Namespace == "" {
			ps.Errorf(CodeMTLSNamespace, []any{"namespace"}, "namespace required",
				`namespace is required with scope = %q: it is the namespace the policy applies to. Set namespace.`, p.Scope)
		}
	default:
		ps.Errorf(CodeMTLSNamespace, []any{"scope"}, "invalid scope",
			"scope = %q; use one of mesh, namespace, workload.", p.Scope)
	}
	if p.Scope == MTLSScopeWorkload && len(p.WorkloadSelector) == 0 {
		ps.Errorf(CodeMTLSSelectorRequired, []any{"workload_selector"}, "workload_selector required",
			`scope = "workload" needs workload_selector: the pod labels of the workloads the policy applies to. Set it, or use scope = "namespace" for every workload of the namespace.`)
	}
	if p.Scope == MTLSScopeNamespace && len(p.WorkloadSelector) > 0 {
		ps.Errorf(CodeMTLSSelectorRequired, []any{"workload_selector"}, "workload_selector with scope namespace",
			`workload_selector selects workloads, so it needs scope = "workload"; a namespace-wide policy has no selector. Set scope = "workload" or remove workload_selector.`)
	}
}

// validatePorts checks the port-level modes: workload scope only, each port
// once and in range.
func (p MTLSPolicy) validatePorts(ps *Problems) {
	if len(p.Ports) > 0 && p.Scope != MTLSScopeWorkload {
		ps.Errorf(CodeMTLSPortsScope, []any{"ports"}, "port-level mTLS outside workload scope", "%s", mtlsPortsScopeMessage)
	}
	seen := map[int64]bool{}
	for i, port := range p.Ports {
		switch {
		case port.Port < 1 || port.Port > 65535:
			ps.Errorf(CodeMTLSPorts, []any{"ports", i, "port"}, "port out of range",
				"ports[%d].port = %d; a container port is between 1 and 65535.", i, port.Port)
		case seen[port.Port]:
			ps.Errorf(CodeMTLSPorts, []any{"ports", i, "port"}, "duplicate port",
				"ports[%d].port = %d appears more than once; give each port one mode.", i, port.Port)
		}
		seen[port.Port] = true
		if !slices.Contains(MTLSModeValues, port.Mode) {
			ps.Errorf(CodeMTLSPorts, []any{"ports", i, "mode"}, "invalid port mode",
				"ports[%d].mode = %q; use one of STRICT, PERMISSIVE, DISABLE, UNSET.", i, port.Mode)
		}
	}
}

// validateDisable rejects DISABLE where the data plane cannot turn mTLS off.
func (p MTLSPolicy) validateDisable(ps *Problems) {
	code, summary, detail := CodeMTLSAmbientDisable, "DISABLE is not supported in ambient mode", mtlsAmbientDisableMessage
	switch p.Target {
	case TargetIstioAmbient:
	case TargetLinkerd:
		code, summary, detail = CodeMTLSLinkerdDisable, "Linkerd cannot disable mTLS", mtlsLinkerdDisableMessage
	default:
		return
	}
	if p.Mode == MTLSDisable {
		ps.Errorf(code, []any{"mode"}, summary, "%s", detail)
	}
	for i, port := range p.Ports {
		if port.Mode == MTLSDisable {
			ps.Errorf(code, []any{"ports", i, "mode"}, summary, "%s", detail)
		}
	}
}

// validateLinkerd checks what only Linkerd's objects constrain.
func (p MTLSPolicy) validateLinkerd(ps *Problems) {
	switch p.Scope {
	case MTLSScopeMesh:
		policy, ok := LinkerdAccessPolicy(p.Mode)
		if !ok {
			policy = LinkerdAllAuthenticated
		}
		ps.Errorf(CodeMTLSLinkerdMesh, []any{"scope"}, "Linkerd has no mesh-wide policy object",
			mtlsLinkerdMeshMessage+` Or use scope = "namespace" per namespace.`, policy)
	case MTLSScopeWorkload:
		if len(p.Ports) == 0 {
			ps.Errorf(CodeMTLSLinkerdNoPorts, []any{"ports"}, "Linkerd needs ports", "%s", mtlsLinkerdNoPortsMessage)
		}
		for i, port := range p.Ports {
			p.validateServer(ps, i, port)
		}
	}
}

// validateServer checks the Linkerd Server that port renders to.
func (p MTLSPolicy) validateServer(ps *Problems, i int, port MTLSPort) {
	if name := LinkerdServerName(p.Name, port.Port); len(name) > maxObjectName {
		ps.Errorf(CodeMTLSLinkerdServer, []any{"name"}, "Server name too long",
			"the Linkerd Server for ports[%d] is named %q (%d characters); object names hold at most %d. Shorten name by %s.",
			i, name, len(name), maxObjectName, characters(len(name)-maxObjectName))
	}
	if p.PortMode(port) == MTLSUnset {
		ps.Errorf(CodeMTLSLinkerdServer, []any{"ports", i, "mode"}, "Linkerd Server needs a mode",
			`ports[%d].mode = "UNSET" inherits mode, which is "UNSET" too: a Linkerd Server has no "inherit" access policy. Set ports[%d].mode or mode to STRICT or PERMISSIVE.`, i, i)
	}
}

// LinkerdServerName is the name of the Server rendered for one port.
func LinkerdServerName(name string, port int64) string {
	return fmt.Sprintf("%s-%d", name, port)
}

// IsLinkerdServerOf reports whether serverName is LinkerdServerName(name, port)
// for some port.
func IsLinkerdServerOf(serverName, name string) bool {
	rest, ok := strings.CutPrefix(serverName, name+"-")
	if !ok {
		return false
	}
	_, err := strconv.ParseUint(rest, 10, 16)
	return err == nil
}
