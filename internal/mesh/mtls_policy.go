package mesh

// MTLSScope is what a mesh_mtls_policy applies to.
type MTLSScope string

const (
	MTLSScopeMesh      MTLSScope = "mesh"
	MTLSScopeNamespace MTLSScope = "namespace"
	MTLSScopeWorkload  MTLSScope = "workload"
)

var MTLSScopeValues = []MTLSScope{MTLSScopeMesh, MTLSScopeNamespace, MTLSScopeWorkload}

// MTLSMode is PeerAuthentication's mutual TLS mode.
type MTLSMode string

const (
	MTLSStrict     MTLSMode = "STRICT"
	MTLSPermissive MTLSMode = "PERMISSIVE"
	MTLSDisable    MTLSMode = "DISABLE"
	// MTLSUnset inherits the parent policy; meaningful only with ports.
	MTLSUnset MTLSMode = "UNSET"
)

var MTLSModeValues = []MTLSMode{MTLSStrict, MTLSPermissive, MTLSDisable, MTLSUnset}

// StrictPreflight says what the STRICT safety check (MESH-MTLS-010) does
// with the unmeshed pods it finds.
type StrictPreflight string

const (
	StrictPreflightWarn  StrictPreflight = "warn"
	StrictPreflightError StrictPreflight = "error"
	StrictPreflightOff   StrictPreflight = "off"
)

var StrictPreflightValues = []StrictPreflight{StrictPreflightWarn, StrictPreflightError, StrictPreflightOff}

// DefaultRootNamespace is Istio's meshConfig.rootNamespace default.
const DefaultRootNamespace = "istio-system"

// MTLSPolicy is the intent of one mesh_mtls_policy, with every default
// already applied (see Normalize).
type MTLSPolicy struct {
	Name string
	// Namespace is the user's namespace; empty for scope mesh, whose object
	// lives in RootNamespace (see ObjectNamespace).
	Namespace string
	// Owner is the value of the owner label on every owned rendered object.
	Owner            string
	Scope            MTLSScope
	WorkloadSelector map[string]string
	Mode             MTLSMode
	Ports            []MTLSPort
	RootNamespace    string
	StrictPreflight  StrictPreflight
	Target           Target
}

// MTLSPort overrides the mode on one workload (container) port.
type MTLSPort struct {
	Port int64
	Mode MTLSMode
}

// Normalize fills the defaults the schema documents.
func (p *MTLSPolicy) Normalize() {
	if p.RootNamespace == "" {
		p.RootNamespace = DefaultRootNamespace
	}
	if p.StrictPreflight == "" {
		p.StrictPreflight = StrictPreflightWarn
	}
}

// ObjectNamespace is where the policy's objects live: Istio's root
// namespace for scope mesh, else Namespace.
func (p MTLSPolicy) ObjectNamespace() string {
	if p.Scope == MTLSScopeMesh {
		return p.RootNamespace
	}
	return p.Namespace
}

// RequiresRestart reports whether running pods keep the old policy until
// they are restarted: Linkerd reads the namespace's default inbound policy
// only when a pod is created.
func (p MTLSPolicy) RequiresRestart() bool {
	return p.Target == TargetLinkerd && p.Scope == MTLSScopeNamespace
}

// UsesStrict reports whether the policy or any port asks for STRICT.
func (p MTLSPolicy) UsesStrict() bool {
	if p.Mode == MTLSStrict {
		return true
	}
	for _, port := range p.Ports {
		if port.Mode == MTLSStrict {
			return true
		}
	}
	return false
}

// PortMode is the effective mode of a port: its own, or the policy's when
// the port says UNSET (inherit).
func (p MTLSPolicy) PortMode(port MTLSPort) MTLSMode {
	if port.Mode == MTLSUnset {
		return p.Mode
	}
	return port.Mode
}

// Linkerd access policies (Server.spec.accessPolicy and the
// config.linkerd.io/default-inbound-policy annotation) that the modes map to.
const (
	LinkerdAllAuthenticated   = "all-authenticated"
	LinkerdAllUnauthenticated = "all-unauthenticated"
)

// LinkerdAccessPolicy maps a mode to Linkerd's policy; ok is false for
// modes Linkerd cannot express (DISABLE, UNSET).
func LinkerdAccessPolicy(m MTLSMode) (policy string, ok bool) {
	switch m {
	case MTLSStrict:
		return LinkerdAllAuthenticated, true
	case MTLSPermissive:
		return LinkerdAllUnauthenticated, true
	}
	return "", false
}
