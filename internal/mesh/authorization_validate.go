package mesh

import (
	"net"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// authzPrincipal is Istio's principal form, "*" segments allowed.
var authzPrincipal = regexp.MustCompile(`^(\*|[^/\s]+/ns/[^/\s]+/sa/[^/\s]+)$`)

// isServiceAccount reports whether sa is "namespace/service-account": a
// namespace name (DNS-1123 label) and a ServiceAccount name (DNS-1123
// subdomain).
func isServiceAccount(sa string) bool {
	ns, name, ok := strings.Cut(sa, "/")
	return ok && len(validation.IsDNS1123Label(ns)) == 0 && len(validation.IsDNS1123Subdomain(name)) == 0
}

// Validate reports every pure-config mistake in a Normalize()d
// authorization: the checks that need no cluster.
func (a Authorization) Validate() Problems {
	var ps Problems
	validateDNSLabel(&ps, CodeAuthzName, tsAttr("name"), a.Name, roleObjectName)
	validateDNSLabel(&ps, CodeAuthzName, tsAttr("namespace"), a.Namespace, roleNamespace)
	validateLabels(&ps, CodeAuthzSelectorLabels, tsAttr("target", "workload_selector"), a.Workload.Selector)
	a.validateWorkload(&ps)
	a.validateAction(&ps)
	a.validateAllOrNothing(&ps)
	for i, r := range a.Rules {
		a.validateRule(&ps, i, r)
	}
	if a.Target == TargetIstioAmbient && a.UsesWaypoint() && a.Workload.Service == "" {
		found := a.L7Attributes()
		if a.Action == AuthzAudit || a.Action == AuthzCustom {
			found = append([]string{"action " + string(a.Action)}, found...)
		}
		ps.Errorf(CodeAuthzAmbientL7, tsAttr("target"), "HTTP attributes need a waypoint",
			"ztunnel does not support HTTP attributes (found: %s). In ambient mode you must use a waypoint proxy to enforce HTTP rules: set target.service (rendered as targetRefs) and bind the Service to a waypoint.",
			strings.Join(found, ", "))
	}
	return ps
}

func (a Authorization) validateWorkload(ps *Problems) {
	w := a.Workload
	if (len(w.Selector) > 0) == (w.Service != "") {
		ps.Errorf(CodeAuthzTarget, tsAttr("target"), "set exactly one of workload_selector and service",
			"target must set exactly one of workload_selector (pod labels) and service (a Service in namespace, whose selector picks the pods).")
	}
	for i, p := range w.Ports {
		authzPort(ps, tsAttr("target", "ports", i), p)
	}
	switch {
	case a.Target == TargetLinkerd && len(w.Ports) == 0 && w.Service == "":
		ps.Errorf(CodeAuthzTarget, tsAttr("target", "ports"), "ports required on linkerd",
			"Linkerd authorizes traffic per port (one Server each), so target.ports is required with workload_selector. List the container ports to protect, or set target.service to use its targetPorts.")
	case a.Target != TargetLinkerd && len(w.Ports) > 0:
		ps.Warnf(CodeAuthzPortsIgnored, tsAttr("target", "ports"), "target.ports is ignored on Istio",
			"target.ports selects the Linkerd Servers; an Istio AuthorizationPolicy covers every port of the selected workloads. Restrict ports with rules[].to[].ports instead, or remove target.ports.")
	}
}

func (a Authorization) validateAction(ps *Problems) {
	switch {
	case a.Action == AuthzCustom && a.CustomProvider == "":
		ps.Errorf(CodeAuthzProvider, tsAttr("custom_provider"), "CUSTOM needs custom_provider",
			"`provider.name` must not be empty: set custom_provider to the name of an extension provider in meshConfig.extensionProviders.")
	case a.Action != AuthzCustom && a.CustomProvider != "":
		ps.Errorf(CodeAuthzProvider, tsAttr("custom_provider"), "custom_provider needs action CUSTOM",
			"custom_provider only applies to action = \"CUSTOM\"; it is %q here. Remove custom_provider or set action = \"CUSTOM\".", a.Action)
	}
	if a.DryRun && a.Target != TargetLinkerd && (a.Action == AuthzAudit || a.Action == AuthzCustom) {
		ps.Errorf(CodeAuthzDryRunAction, tsAttr("dry_run"), "dry_run needs action ALLOW or DENY",
			"the annotation %s currently only supports action ALLOW/DENY, found action %s in %s/%s. Remove dry_run.", AnnotationIstioDryRun, a.Action, a.Namespace, a.Name)
	}
	if a.Target != TargetLinkerd {
		return
	}
	switch a.Action {
	case AuthzDeny, AuthzCustom:
		ps.Errorf(CodeAuthzLinkerdAction, tsAttr("action"), "action not supported by Linkerd",
			"Linkerd authorization is allow-list only; action %q has no Linkerd equivalent. Express it as ALLOW rules (everything else is denied by the Server).", a.Action)
	case AuthzAudit:
		ps.Warnf(CodeAuthzLinkerdAudit, tsAttr("action"), "AUDIT differs on Linkerd",
			`AUDIT maps to Server.accessPolicy = "audit" (allow + log unmatched requests), which differs from Istio AUDIT.`)
	}
}

func (a Authorization) validateAllOrNothing(ps *Problems) {
	switch {
	case a.DenyAll && a.AllowAll:
		ps.Errorf(CodeAuthzAllOrNothing, tsAttr("allow_all"), "deny_all and allow_all together",
			"deny_all and allow_all contradict each other; set at most one of them.")
	case (a.DenyAll || a.AllowAll) && len(a.Rules) > 0:
		ps.Errorf(CodeAuthzAllOrNothing, tsAttr("rules"), "rules with deny_all or allow_all",
			"deny_all and allow_all replace rules; remove rules, or remove the flag.")
	case (a.DenyAll || a.AllowAll) && a.Action != AuthzAllow:
		ps.Errorf(CodeAuthzAllOrNothing, tsAttr("action"), "deny_all and allow_all need action ALLOW",
			"deny_all and allow_all are ALLOW policies (allow nothing, allow everything); action is %q. Remove action or the flag.", a.Action)
	case len(a.Rules) > 0 || a.DenyAll || a.AllowAll:
	case a.Action == AuthzAllow:
		ps.Errorf(CodeAuthzAllowNoRules, tsAttr("rules"), "ALLOW without rules denies everything",
			"an ALLOW policy without rules matches nothing and denies all traffic to %s. Set deny_all = true if that is intended, or allow_all = true to allow everything.", a.workloadDescription())
	default:
		ps.Errorf(CodeAuthzNoRules, tsAttr("rules"), string(a.Action)+" without rules",
			"%s action without rules is meaningless as it will never be triggered, add an empty rule {} if you want it be triggered for every request.", a.Action)
	}
}

func (a Authorization) workloadDescription() string {
	if a.Workload.Service != "" {
		return "Service " + a.Namespace + "/" + a.Workload.Service
	}
	return "the pods selected by target.workload_selector"
}

func (a Authorization) validateRule(ps *Problems, i int, r AuthzRule) {
	at := tsAttr("rules", i)
	for j, s := range r.From {
		a.validateSource(ps, i, tsAttr(at, "from", j), s)
	}
	for j, op := range r.To {
		a.validateOperation(ps, i, tsAttr(at, "to", j), op)
	}
	if len(r.When) > 0 && a.Target == TargetLinkerd {
		ps.Errorf(CodeAuthzLinkerdField, tsAttr(at, "when"), "when is not supported by Linkerd",
			"when is not supported by Linkerd authorization policy. Remove it, or express the condition with from and to.")
		return
	}
	for j, c := range r.When {
		if c.Key == "" || len(c.Values) == 0 {
			ps.Errorf(CodeAuthzInvalidValue, tsAttr(at, "when", j), "incomplete condition",
				"%s needs a key and at least one value.", tsAttrString(tsAttr(at, "when", j)))
		}
	}
	if a.Target == TargetLinkerd {
		return
	}
	if a.Action == AuthzCustom {
		customIdentities(ps, at, r)
	}
	if a.Action == AuthzDeny && denyWithOnlyHTTP(r) {
		ps.Warnf(CodeAuthzDenyHTTPOnly, tsAttr(at, "to"), "DENY with only HTTP attributes denies all TCP traffic",
			"configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port. Add the HTTP ports to %s, e.g. ports = [8080].",
			tsAttrString(tsAttr(at, "to", 0, "ports")))
	}
}

// customIdentities reports the identity matches Istio refuses in a CUSTOM
// policy (MESH-AUTHZ-004, one per field): the external authorizer gets the
// request, not the peer's verified identity.
func customIdentities(ps *Problems, at []any, r AuthzRule) {
	unsupported := func(path []any, istioField string) {
		ps.Errorf(CodeAuthzCustomIdentity, path, "identity matches are not supported with CUSTOM",
			"%s is currently not supported with CUSTOM action (%s). Match the identity in a separate ALLOW or DENY policy, or let the external authorizer decide on it, and remove it here.",
			istioField, tsAttrString(path))
	}
	for j, s := range r.From {
		from := tsAttr(at, "from", j)
		switch {
		case len(s.Principals) > 0:
			unsupported(tsAttr(from, "principals"), "From.Principals")
		case s.Authenticated: // rendered as principals ["*"]
			unsupported(tsAttr(from, "authenticated"), "From.Principals")
		}
		if len(s.Namespaces) > 0 {
			unsupported(tsAttr(from, "namespaces"), "From.Namespaces")
		}
		if len(s.ServiceAccounts) > 0 {
			unsupported(tsAttr(from, "service_accounts"), "From.ServiceAccounts")
		}
	}
	for j, c := range r.When {
		switch c.Key {
		case "source.namespace", "source.serviceAccount", "source.trustDomain", "source.principal":
		default:
			if !strings.HasPrefix(c.Key, "request.auth.") {
				continue
			}
		}
		unsupported(tsAttr(at, "when", j, "key"), c.Key)
	}
}

// denyWithOnlyHTTP is Istio's test for a DENY rule that, without ports,
// also denies the TCP traffic it cannot inspect: operations and none of
// them names a port. (A rule with sources only matches on identities, which
// TCP has; every source this schema allows is one.)
func denyWithOnlyHTTP(r AuthzRule) bool {
	if len(r.To) == 0 {
		return false
	}
	for _, op := range r.To {
		if len(op.Ports) > 0 {
			return false
		}
	}
	return true
}

func (s AuthzSource) empty() bool {
	return len(s.ServiceAccounts)+len(s.Namespaces)+len(s.IPBlocks)+len(s.Principals) == 0 && !s.Authenticated
}

func (a Authorization) validateSource(ps *Problems, rule int, at []any, s AuthzSource) {
	if s.empty() {
		ps.Errorf(CodeAuthzEmpty, at, "empty source",
			"`from.source` must not be empty, found at rule %d. Set service_accounts, namespaces, authenticated, ip_blocks or principals, or remove the entry (a rule without from matches every source).", rule)
		return
	}
	for k, sa := range s.ServiceAccounts {
		if !isServiceAccount(sa) {
			ps.Errorf(CodeAuthzInvalidValue, tsAttr(at, "service_accounts", k), "invalid service account",
				"%s = %q; write service accounts as \"<namespace>/<service-account>\", e.g. \"frontend/web\".", tsAttrString(tsAttr(at, "service_accounts", k)), sa)
		}
	}
	for k, ns := range s.Namespaces {
		if len(validation.IsDNS1123Label(ns)) > 0 {
			ps.Errorf(CodeAuthzInvalidValue, tsAttr(at, "namespaces", k), "invalid namespace",
				"%s = %q is not a namespace name (a DNS-1123 label).", tsAttrString(tsAttr(at, "namespaces", k)), ns)
		}
	}
	for k, cidr := range s.IPBlocks {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			ps.Errorf(CodeAuthzInvalidValue, tsAttr(at, "ip_blocks", k), "invalid CIDR",
				"%s = %q is not a CIDR; write an address block such as \"10.0.0.0/8\" (a single address is \"10.1.2.3/32\").", tsAttrString(tsAttr(at, "ip_blocks", k)), cidr)
		}
	}
	if a.Target == TargetLinkerd {
		a.validateLinkerdSource(ps, at, s)
		return
	}
	for k, p := range s.Principals {
		if strings.HasPrefix(p, "spiffe://") || !authzPrincipal.MatchString(p) {
			ps.Errorf(CodeAuthzPrincipal, tsAttr(at, "principals", k), "invalid principal",
				`principals use the form <trust-domain>/ns/<namespace>/sa/<service-account> without the "spiffe://" scheme (got %q). For example "%s/ns/frontend/sa/web", or use service_accounts = ["frontend/web"].`, p, DefaultTrustDomain)
		}
	}
	if len(s.ServiceAccounts) > 0 && (len(s.Namespaces) > 0 || len(s.Principals) > 0 || s.Authenticated) {
		ps.Errorf(CodeAuthzSAMixed, tsAttr(at, "service_accounts"), "service_accounts mixed with other identities",
			"cannot set serviceAccounts with namespaces or principals, found at rule %d (authenticated renders as principals). A service account already names its namespace and implies an authenticated peer: remove the other fields, or move them to a separate from entry (which ORs instead of ANDs).", rule)
	}
}

func (a Authorization) validateLinkerdSource(ps *Problems, at []any, s AuthzSource) {
	if len(s.Principals) > 0 {
		ps.Errorf(CodeAuthzLinkerdField, tsAttr(at, "principals"), "principals are not supported by Linkerd",
			"principals is not supported by Linkerd authorization policy. Use service_accounts (\"<namespace>/<service-account>\") or namespaces.")
	}
	kinds := 0
	for _, set := range []bool{len(s.ServiceAccounts) > 0, len(s.Namespaces) > 0, s.Authenticated} {
		if set {
			kinds++
		}
	}
	if kinds > 1 {
		ps.Errorf(CodeAuthzLinkerdIdentity, at, "one identity kind per source on Linkerd",
			"Linkerd MeshTLSAuthentication lists identities with OR semantics and takes either identities or identityRefs; split this source into separate from[] entries (or intersect them yourself). %s sets more than one of service_accounts, namespaces and authenticated.", tsAttrString(at))
	}
}

func (a Authorization) validateOperation(ps *Problems, rule int, at []any, op AuthzOperation) {
	if len(op.Ports)+len(op.Methods)+len(op.Paths) == 0 {
		ps.Errorf(CodeAuthzEmpty, at, "empty operation",
			"`to.operation` must not be empty, found at rule %d. Set ports, methods or paths, or remove the entry (a rule without to matches every request).", rule)
		return
	}
	for k, p := range op.Ports {
		authzPort(ps, tsAttr(at, "ports", k), p)
		if a.Target == TargetLinkerd && len(a.Workload.Ports) > 0 && !slices.Contains(a.Workload.Ports, p) {
			ps.Errorf(CodeAuthzInvalidValue, tsAttr(at, "ports", k), "port has no Server",
				"%s = %d is not in target.ports %v; Linkerd authorizes per Server port, so add it to target.ports or remove it here.", tsAttrString(tsAttr(at, "ports", k)), p, a.Workload.Ports)
		}
	}
	for k, m := range op.Methods {
		if !slices.Contains(tsHTTPMethods, m) {
			ps.Errorf(CodeAuthzInvalidValue, tsAttr(at, "methods", k), "invalid method",
				"%s = %q is not an HTTP method; use one of %s (upper case).", tsAttrString(tsAttr(at, "methods", k)), m, strings.Join(tsHTTPMethods, ", "))
		}
	}
	for k, p := range op.Paths {
		a.validatePath(ps, tsAttr(at, "paths", k), p)
	}
}

func (a Authorization) validatePath(ps *Problems, at []any, p string) {
	kind := AuthzPathKindOf(p)
	switch {
	case kind == AuthzPathRegex && a.Target == TargetLinkerd:
		if _, err := regexp.Compile(strings.TrimPrefix(p, "~")); err != nil {
			ps.Errorf(CodeAuthzInvalidValue, at, "invalid regular expression",
				"%s = %q is not a valid RE2 regular expression: %v.", tsAttrString(at), p, err)
		}
	case kind == AuthzPathRegex || kind == AuthzPathInvalid:
		what := "is a regular expression (\"~\")"
		if kind == AuthzPathInvalid {
			what = "is neither an exact path, a prefix, a suffix nor \"*\""
		}
		ps.Errorf(CodeAuthzPathSyntax, at, "unsupported path syntax",
			"%s = %q %s. Istio AuthorizationPolicy paths support exact (\"/api\", starting with \"/\"), prefix (\"/api/*\"), suffix (\"*.json\") and presence (\"*\"), not regular expressions or templates; the \"~<regex>\" form is accepted on linkerd only.",
			tsAttrString(at), p, what)
	}
}

// AuthzPathKind is how a path string matches.
type AuthzPathKind int

const (
	AuthzPathInvalid AuthzPathKind = iota
	AuthzPathExact
	AuthzPathPrefix
	AuthzPathSuffix
	AuthzPathPresence
	AuthzPathRegex
)

// AuthzPathKindOf classifies a path: "*" presence, "~re" regex, "/p*"
// prefix, "*x" suffix, "/p" exact; templates ("{") and inner "*" are invalid.
func AuthzPathKindOf(p string) AuthzPathKind {
	stars := strings.Count(p, "*")
	switch {
	case p == "*":
		return AuthzPathPresence
	case strings.HasPrefix(p, "~") && len(p) > 1:
		return AuthzPathRegex
	case strings.ContainsAny(p, "{} \t") || p == "":
		return AuthzPathInvalid
	case stars == 0 && strings.HasPrefix(p, "/"):
		return AuthzPathExact
	case stars == 1 && strings.HasSuffix(p, "*") && strings.HasPrefix(p, "/"):
		return AuthzPathPrefix
	case stars == 1 && strings.HasPrefix(p, "*"):
		return AuthzPathSuffix
	}
	return AuthzPathInvalid
}

func authzPort(ps *Problems, at []any, p int64) {
	if p < 1 || p > tsMaxPort {
		ps.Errorf(CodeAuthzInvalidValue, at, "port out of range",
			"%s = %d; a port must be between 1 and %d.", tsAttrString(at), p, tsMaxPort)
	}
}
