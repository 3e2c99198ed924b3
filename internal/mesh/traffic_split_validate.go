package mesh

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Catalogue wording (MESH-MAPPING §3.4), kept verbatim.
const (
	tsListLimitMessage    = "Gateway API allows at most 16 backendRefs per rule and 16 rules per HTTPRoute."
	tsSubsetLabelsMessage = "label-based subsets are only supported by Istio VirtualService/DestinationRule (istio-sidecar). For %s, create one Service per version and reference it in backends[].service."
	tsAmbientVSMessage    = `VirtualService on waypoints is Alpha and cannot be mixed with HTTPRoute; use istio_api = "gateway_api" (default in ambient).`
)

// Limits of the Gateway API fields the matches render to.
const (
	tsMaxHeaderName  = 256  // HeaderName
	tsMaxHeaderValue = 4096 // HTTPHeaderMatch.Value
	tsMaxPathValue   = 1024 // HTTPPathMatch.Value
	tsMaxPort        = 65535
)

// tsHTTPMethods are the methods Gateway API accepts (its HTTPMethod enum); VS
// accepts any string, so the stricter list keeps the targets interchangeable.
var tsHTTPMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

var (
	// tsHTTPToken is RFC 7230's token, the pattern of Gateway API HeaderName.
	tsHTTPToken = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$")
	// tsPathChars is the character rule Gateway API applies to Exact and
	// PathPrefix values.
	tsPathChars = regexp.MustCompile(`^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$`)
)

// Validate reports every pure-config mistake in a Normalize()d split: the
// checks that need no cluster and so run in ValidateConfig.
func (ts TrafficSplit) Validate() Problems {
	var ps Problems
	ts.validateNames(&ps, CodeTSName)
	ts.validatePort(&ps, tsAttr("port"), ts.Port)
	ts.validateAPI(&ps)
	ts.validateRule(&ps, tsAttr("backends"), ts.Backends)
	if len(ts.MatchRoutes) > MaxMatchRoutes {
		ps.Errorf(CodeTSListLimit, tsAttr("match_routes"), "too many match_routes",
			"%s match_routes has %d elements; at most %d are allowed because the weighted default rule (backends) is the 16th.",
			tsListLimitMessage, len(ts.MatchRoutes), MaxMatchRoutes)
	}
	for i, r := range ts.MatchRoutes {
		path := tsAttr("match_routes", i)
		ts.validateMatch(&ps, path, r)
		ts.validateRule(&ps, tsAttr(path, "backends"), r.Backends)
	}
	if ts.Mirror != nil {
		validateLabels(&ps, CodeTSLabels, tsAttr("mirror", "subset_labels"), ts.Mirror.Destination.SubsetLabels)
		ts.validateMirror(&ps, *ts.Mirror, splitMirrorPaths)
	}
	return ps
}

// validateNames checks the object and namespace names of a route resource
// (a split, or a mirror route's Split). Every object is named name, except
// the DestinationRule of another backend Service, "<name>-<service>": with
// a 63-character name and Service that stays within the 253 characters of
// a DestinationRule name, so only name itself needs checking.
func (ts TrafficSplit) validateNames(ps *Problems, code string) {
	validateDNSLabel(ps, code, tsAttr("name"), ts.Name, roleObjectName)
	validateDNSLabel(ps, code, tsAttr("namespace"), ts.Namespace, roleNamespace)
	// The waypoint Gateway's name is also the istio.io/use-waypoint label
	// value and the name of the Deployment and Service Istio creates for it.
	validateDNSLabel(ps, code, tsAttr("ambient_waypoint", "name"), ts.Waypoint.Name, roleObjectName)
	// Normalize gave a mirror without namespace the route's, which
	// namespace's check covers.
	if ts.Mirror != nil && ts.Mirror.Destination.Namespace != ts.Namespace {
		validateDNSLabel(ps, code, tsAttr("mirror", "namespace"), ts.Mirror.Destination.Namespace, roleNamespace)
	}
}

// validateAPI checks the choices of routing API against the target.
func (ts TrafficSplit) validateAPI(ps *Problems) {
	if ts.Target == TargetIstioAmbient && ts.IstioAPI == IstioAPIVirtualService {
		ps.Errorf(CodeTSAmbientVS, tsAttr("istio_api"), "VirtualService is not supported on istio-ambient", "%s", tsAmbientVSMessage)
	}
	defaultWaypoint := ts.Waypoint == Waypoint{Mode: WaypointRequire, Name: DefaultWaypointName}
	if ts.Target != TargetIstioAmbient && !defaultWaypoint {
		ps.Warnf(CodeTSWaypointIgnored, tsAttr("ambient_waypoint"), "ambient_waypoint is ignored",
			"ambient_waypoint only applies to target %q; it is ignored for %q. Remove it.", TargetIstioAmbient, ts.Target)
	}
}

// validateRule checks one rule's backends: the default rule (path
// "backends") or a match route's ("match_routes", i, "backends").
func (ts TrafficSplit) validateRule(ps *Problems, path []any, backends []Backend) {
	rule := tsAttrString(path)
	switch {
	case len(backends) == 0:
		ps.Errorf(CodeTSNoBackends, path, "rule has no backends",
			"%s is empty; every rule needs at least one backend to send its requests to.", rule)
		return
	case len(backends) > MaxBackends:
		ps.Errorf(CodeTSListLimit, path, "too many backends",
			"%s %s has %d elements; remove %d.", tsListLimitMessage, rule, len(backends), len(backends)-MaxBackends)
	}
	var sum int64
	unset := false
	for i, b := range backends {
		ts.validateBackend(ps, tsAttr(path, i), b)
		if b.Weight == WeightUnset {
			unset = true
			if len(backends) > 1 {
				ts.weightRequired(ps, path, i)
			}
			continue
		}
		sum += b.Weight
	}
	switch {
	case unset:
		// MESH-TS-024 said it: a sum over a missing weight means nothing.
		// (A lone unset weight is Normalize's 100.)
	case ts.WeightSemantics == WeightPercent && sum != 100:
		ps.Errorf(CodeTSWeightSum, path, "weights must sum to 100",
			`backends weights in rule %s sum to %d; they must sum to 100 (set weight_semantics = "relative" to use proportional weights).`, rule, sum)
	case sum == 0:
		// A lone weight-0 backend is rejected too: Gateway API sends it no
		// traffic (every request fails) while Istio sends it all, so the
		// targets would disagree.
		ps.Errorf(CodeTSZeroWeight, path, "all weights are 0",
			"total destination weight = 0: at least one backend needs a non-zero weight.")
	}
}

// weightRequired reports backend i of a rule of several that has no weight.
func (ts TrafficSplit) weightRequired(ps *Problems, rulePath []any, i int) {
	weight := tsAttr(rulePath, i, "weight")
	split := "as percentages: the weights of a rule must sum to 100"
	if ts.WeightSemantics == WeightRelative {
		split = "relatively: each backend receives weight / (sum of the rule's weights) of its traffic"
	}
	ps.Errorf(CodeTSWeightRequired, weight, "weight required",
		"%s is required when a rule has more than one backend (weights are split %s). Set weight on every backend of %s; use weight = 0 for a backend that should receive no traffic.",
		tsAttrString(weight), split, tsAttrString(rulePath))
}

func (ts TrafficSplit) validateBackend(ps *Problems, path []any, b Backend) {
	ts.validatePort(ps, tsAttr(path, "port"), b.Port)
	limit := int64(MaxRelativeWeight)
	if ts.WeightSemantics == WeightPercent {
		limit = MaxPercentWeight
	}
	// WeightUnset is not out of range: validateRule reports it as
	// MESH-TS-024, or Normalize made it 100.
	if b.Weight != WeightUnset && (b.Weight < 0 || b.Weight > limit) {
		ps.Errorf(CodeTSWeightRange, tsAttr(path, "weight"), "weight out of range",
			"%s = %d; with weight_semantics = %q weights must be between 0 and %d.",
			tsAttrString(tsAttr(path, "weight")), b.Weight, ts.WeightSemantics, limit)
	}
	validateLabels(ps, CodeTSLabels, tsAttr(path, "subset_labels"), b.SubsetLabels)
	if len(b.SubsetLabels) > 0 && !ts.supportsSubsets() {
		ps.Errorf(CodeTSSubsetLabels, tsAttr(path, "subset_labels"), "subset_labels need Istio VirtualService",
			tsSubsetLabelsMessage, ts.targetDescription())
	}
}

// supportsSubsets follows the catalogue: subsets only on istio-sidecar with
// VirtualService (VS on ambient waypoints is rejected by MESH-TS-007).
func (ts TrafficSplit) supportsSubsets() bool {
	return ts.Target == TargetIstioSidecar && ts.UsesVirtualService()
}

func (ts TrafficSplit) targetDescription() string {
	if ts.Target == TargetIstioSidecar && ts.IstioAPI == IstioAPIGatewayAPI {
		return `istio-sidecar with istio_api = "gateway_api"`
	}
	return string(ts.Target)
}

func (ts TrafficSplit) validatePort(ps *Problems, path []any, port int64) {
	if port < 1 || port > tsMaxPort {
		ps.Errorf(CodeTSPortRange, path, "port out of range",
			"%s = %d; a Service port must be between 1 and %d.", tsAttrString(path), port, tsMaxPort)
	}
}

// validateMatch checks the conditions of match route path.
func (ts TrafficSplit) validateMatch(ps *Problems, path []any, r MatchRoute) {
	if r.matchesEverything() {
		ps.Errorf(CodeTSMatchAll, path, "match route matches every request",
			"%s has no header, method or path condition narrower than prefix \"/\", so it matches every request and the weighted default rule (backends) is never used. Add a headers, path or method condition, or move its backends into backends.",
			tsAttrString(path))
	}
	ts.validateConditions(ps, path, r)
}

// validateConditions checks the headers, path and method of a match.
func (ts TrafficSplit) validateConditions(ps *Problems, path []any, r MatchRoute) {
	seen := map[string]bool{}
	for j, h := range r.Headers {
		ts.validateHeader(ps, tsAttr(path, "headers", j), h, seen)
	}
	if r.Path != nil {
		tsValidatePath(ps, tsAttr(path, "path"), *r.Path)
	}
	if r.Method != "" && !slices.Contains(tsHTTPMethods, r.Method) {
		ps.Errorf(CodeTSInvalidMatch, tsAttr(path, "method"), "invalid method",
			"%s = %q is not an HTTP method the route APIs accept; use one of %s (upper case).",
			tsAttrString(tsAttr(path, "method")), r.Method, strings.Join(tsHTTPMethods, ", "))
	}
}

// matchesEverything: a route without conditions, or whose only condition is
// the prefix "/", would shadow the default rule.
func (r MatchRoute) matchesEverything() bool {
	if len(r.Headers) > 0 || r.Method != "" {
		return false
	}
	return r.Path == nil || (r.Path.Type == MatchPrefix && r.Path.Value == "/")
}

func (ts TrafficSplit) validateHeader(ps *Problems, path []any, h HeaderMatch, seen map[string]bool) {
	name := tsAttr(path, "name")
	switch {
	case !tsHTTPToken.MatchString(h.Name) || len(h.Name) > tsMaxHeaderName:
		ps.Errorf(CodeTSInvalidMatch, name, "invalid header name",
			"%s = %q is not a valid HTTP header name: use 1 to %d letters, digits or !#$%%&'*+-.^_`|~ (no spaces, colons or pseudo-headers).",
			tsAttrString(name), h.Name, tsMaxHeaderName)
	case seen[strings.ToLower(h.Name)]:
		ps.Errorf(CodeTSInvalidMatch, name, "duplicate header name",
			"%s = %q repeats a header of the same match route (names are case-insensitive); combine the conditions into one, e.g. with type = \"regex\".",
			tsAttrString(name), h.Name)
	case ts.UsesVirtualService() && h.Name != strings.ToLower(h.Name):
		ps.Warnf(CodeTSHeaderCase, name, "header name is lower-cased",
			"header names are lower-cased for Istio VirtualService (required by the API). %q is rendered as %q.",
			h.Name, strings.ToLower(h.Name))
	}
	seen[strings.ToLower(h.Name)] = true
	tsValidateHeaderValue(ps, path, h)
	if h.Type == MatchPrefix && !ts.UsesVirtualService() {
		ps.Warnf(CodeTSPrefixHeader, tsAttr(path, "type"), "prefix header match becomes a regular expression",
			`prefix header matches are rendered as RegularExpression "^%s.*".`, regexp.QuoteMeta(h.Value))
	}
}

// tsValidateHeaderValue rejects an empty value for every type: Gateway API
// requires at least one character, and Istio rejects an empty prefix or regex.
func tsValidateHeaderValue(ps *Problems, path []any, h HeaderMatch) {
	value := tsAttr(path, "value")
	switch {
	case !slices.Contains(MatchTypeValues, h.Type):
		ps.Errorf(CodeTSInvalidMatch, tsAttr(path, "type"), "invalid header match type",
			"%s = %q; use one of exact, prefix, regex.", tsAttrString(tsAttr(path, "type")), h.Type)
	case h.Value == "":
		ps.Errorf(CodeTSInvalidMatch, value, "empty header value",
			"%s is empty; give the value to match (to match any value of the header, use type = \"regex\" with value \".*\").",
			tsAttrString(value))
	case len(h.Value) > tsMaxHeaderValue:
		ps.Errorf(CodeTSInvalidMatch, value, "header value too long",
			"%s is %d characters long; Gateway API allows at most %d.", tsAttrString(value), len(h.Value), tsMaxHeaderValue)
	case h.Type == MatchRegex:
		tsValidateRegex(ps, value, h.Value)
	}
}

func tsValidatePath(ps *Problems, path []any, p PathMatch) {
	value := tsAttr(path, "value")
	switch {
	case !slices.Contains(MatchTypeValues, p.Type):
		ps.Errorf(CodeTSInvalidMatch, tsAttr(path, "type"), "invalid path match type",
			"%s = %q; use one of exact, prefix, regex.", tsAttrString(tsAttr(path, "type")), p.Type)
	case len(p.Value) > tsMaxPathValue:
		ps.Errorf(CodeTSInvalidMatch, value, "path value too long",
			"%s is %d characters long; Gateway API allows at most %d.", tsAttrString(value), len(p.Value), tsMaxPathValue)
	case p.Type == MatchRegex && p.Value == "":
		ps.Errorf(CodeTSInvalidMatch, value, "empty path regex",
			"%s is empty; give a regular expression (for every path use type = \"prefix\" with value \"/\").", tsAttrString(value))
	case p.Type == MatchRegex:
		tsValidateRegex(ps, value, p.Value)
	default:
		if reason := tsBadAbsolutePath(p.Value); reason != "" {
			ps.Errorf(CodeTSInvalidMatch, value, "invalid path",
				"%s = %q %s; exact and prefix paths must be absolute, normalized URL paths such as \"/api\".",
				tsAttrString(value), p.Value, reason)
		}
	}
}

// tsBadAbsolutePath mirrors the CEL rules of Gateway API HTTPPathMatch for
// Exact and PathPrefix, so a value fails here rather than at apply.
func tsBadAbsolutePath(v string) string {
	if !strings.HasPrefix(v, "/") {
		return `does not start with "/"`
	}
	for _, s := range []string{"//", "/./", "/../", "%2f", "%2F", "#"} {
		if strings.Contains(v, s) {
			return fmt.Sprintf("contains %q", s)
		}
	}
	for _, s := range []string{"/..", "/."} {
		if strings.HasSuffix(v, s) {
			return fmt.Sprintf("ends with %q", s)
		}
	}
	if !tsPathChars.MatchString(v) {
		return "contains characters that are not allowed in a URL path (percent-encode them)"
	}
	return ""
}

// tsValidateRegex compiles with Go's regexp, whose syntax is close to the RE2
// that Envoy (Istio) and Linkerd use; it is an approximation, not a proof.
func tsValidateRegex(ps *Problems, path []any, re string) {
	if _, err := regexp.Compile(re); err != nil {
		ps.Errorf(CodeTSInvalidMatch, path, "invalid regular expression",
			"%s = %q is not a valid RE2 regular expression: %v.", tsAttrString(path), re, err)
	}
}

// attr builds an attribute path, copying the prefix so that sibling paths
// never share a backing array.
func tsAttr(parts ...any) []any {
	var path []any
	for _, p := range parts {
		if prefix, ok := p.([]any); ok {
			path = append(path, prefix...)
			continue
		}
		path = append(path, p)
	}
	return path
}

// tsAttrString renders an attribute path the way users write it in HCL:
// "match_routes[0].backends[1].weight".
func tsAttrString(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, p)
		}
	}
	return b.String()
}
