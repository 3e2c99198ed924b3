package mesh

import (
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// AuthzAction is what a matching request gets.
type AuthzAction string

const (
	AuthzAllow  AuthzAction = "ALLOW"
	AuthzDeny   AuthzAction = "DENY"
	AuthzAudit  AuthzAction = "AUDIT"
	AuthzCustom AuthzAction = "CUSTOM"
)

var AuthzActionValues = []AuthzAction{AuthzAllow, AuthzDeny, AuthzAudit, AuthzCustom}

// EnforcementPoint is the proxy that enforces a policy.
type EnforcementPoint string

const (
	EnforcedBySidecar      EnforcementPoint = "sidecar"
	EnforcedByZtunnel      EnforcementPoint = "ztunnel"
	EnforcedByWaypoint     EnforcementPoint = "waypoint"
	EnforcedByLinkerdProxy EnforcementPoint = "linkerd-proxy"
)

var EnforcementPointValues = []EnforcementPoint{EnforcedBySidecar, EnforcedByZtunnel, EnforcedByWaypoint, EnforcedByLinkerdProxy}

// AuthzL4ConditionKeys are the `when` keys ztunnel enforces; any other key
// is an HTTP attribute that only a waypoint can see.
var AuthzL4ConditionKeys = []string{"source.ip", "source.namespace", "source.principal", "destination.ip", "destination.port"}

// Authorization is the intent of one mesh_authorization, with every default
// applied (see Normalize).
type Authorization struct {
	Name      string
	Namespace string
	// Owner is the value of the owner label on every rendered object.
	Owner string
	// Target is the data plane (the resource's mesh_target attribute).
	Target Target
	// Workload is the resource's `target` attribute: the pods protected.
	Workload       AuthzWorkload
	Action         AuthzAction
	CustomProvider string
	DenyAll        bool
	AllowAll       bool
	DryRun         bool
	Rules          []AuthzRule
	// Cluster holds what the renderer needs from the cluster, looked up by
	// the provider (the renderer does no I/O).
	Cluster AuthzCluster
}

// AuthzWorkload selects the protected pods: exactly one of Selector and
// Service.
type AuthzWorkload struct {
	Selector map[string]string
	Service  string
	// Ports are container ports; Linkerd renders one Server per port.
	Ports []int64
}

// AuthzRule matches a request when one source, one operation and every
// condition match.
type AuthzRule struct {
	From []AuthzSource
	To   []AuthzOperation
	When []AuthzCondition
}

// AuthzSource ANDs its fields.
type AuthzSource struct {
	ServiceAccounts []string // "ns/sa"
	Namespaces      []string
	Authenticated   bool
	IPBlocks        []string
	Principals      []string // Istio only: "<trust-domain>/ns/<ns>/sa/<sa>"
}

// AuthzOperation ANDs its fields. Paths use Istio's matching: exact,
// "/p/*" prefix, "*.x" suffix, "*" presence; on Linkerd also "~<RE2>".
type AuthzOperation struct {
	Ports   []int64
	Methods []string
	Paths   []string
}

// AuthzCondition is an Istio `when` condition.
type AuthzCondition struct {
	Key    string
	Values []string
}

// AuthzCluster is what the provider looked up for the renderer.
type AuthzCluster struct {
	// Selector is the pods' labels: Workload.Selector, or the Service's
	// spec.selector when Workload.Service is set.
	Selector map[string]string
	// ServicePorts are the Service's targetPorts, the Linkerd Server ports
	// when Workload.Ports is empty.
	ServicePorts []intstr.IntOrString
	// ProbePaths are the httpGet probe paths of the selected pods, by the
	// Server port they probe (intstr String form).
	ProbePaths map[string][]string
	// LegacyPrincipals: the cluster's AuthorizationPolicy CRD has no
	// source.serviceAccounts (Istio < 1.25), so Istio renders each service
	// account as the principal "cluster.local/ns/<ns>/sa/<sa>".
	LegacyPrincipals bool
}

// Normalize fills the defaults the schema documents.
func (a *Authorization) Normalize() {
	if a.Action == "" {
		a.Action = AuthzAllow
	}
	if len(a.Workload.Selector) > 0 {
		a.Cluster.Selector = a.Workload.Selector
	}
}

// UsesWaypoint reports whether an istio-ambient policy must be enforced by a
// waypoint (targetRefs): any HTTP attribute, AUDIT or CUSTOM.
func (a Authorization) UsesWaypoint() bool {
	if a.Target != TargetIstioAmbient {
		return false
	}
	return a.Action == AuthzAudit || a.Action == AuthzCustom || len(a.L7Attributes()) > 0
}

// L7Attributes names the HTTP attributes the rules use, e.g.
// "rules[0].to[1].methods" or `rules[0].when[0].key "request.headers[x]"`.
func (a Authorization) L7Attributes() []string {
	var found []string
	for i, r := range a.Rules {
		for j, op := range r.To {
			at := "rules[" + strconv.Itoa(i) + "].to[" + strconv.Itoa(j) + "]."
			if len(op.Methods) > 0 {
				found = append(found, at+"methods")
			}
			if len(op.Paths) > 0 {
				found = append(found, at+"paths")
			}
		}
		for j, c := range r.When {
			if !slices.Contains(AuthzL4ConditionKeys, c.Key) {
				found = append(found, "rules["+strconv.Itoa(i)+"].when["+strconv.Itoa(j)+"].key "+strconv.Quote(c.Key))
			}
		}
	}
	return found
}

// EnforcementPoint is the proxy that enforces the rendered policy.
func (a Authorization) EnforcementPoint() EnforcementPoint {
	switch {
	case a.Target == TargetLinkerd:
		return EnforcedByLinkerdProxy
	case a.UsesWaypoint():
		return EnforcedByWaypoint
	case a.Target == TargetIstioAmbient:
		return EnforcedByZtunnel
	}
	return EnforcedBySidecar
}

// NeedsServiceLookup reports whether rendering needs the Service's selector
// or ports from the cluster.
func (a Authorization) NeedsServiceLookup() bool {
	return a.Workload.Service != "" && !a.UsesWaypoint()
}

// ServerPorts are the Linkerd Server ports: target.ports, else the
// Service's targetPorts.
func (a Authorization) ServerPorts() []intstr.IntOrString {
	if len(a.Workload.Ports) == 0 {
		return a.Cluster.ServicePorts
	}
	out := make([]intstr.IntOrString, len(a.Workload.Ports))
	for i, p := range a.Workload.Ports {
		out[i] = intstr.FromInt32(int32(p))
	}
	return out
}

// HasHTTPRoutes reports whether Linkerd rendering attaches HTTPRoutes to the
// Servers: any rule with methods or paths. Probe routes are then needed.
func (a Authorization) HasHTTPRoutes() bool {
	if a.Target != TargetLinkerd || a.AllowAll || a.DenyAll {
		return false
	}
	for _, r := range a.Rules {
		for _, op := range r.To {
			if len(op.Methods) > 0 || len(op.Paths) > 0 {
				return true
			}
		}
	}
	return false
}
