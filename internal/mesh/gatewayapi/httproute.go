// Package gatewayapi renders mesh intent as Gateway API (GAMMA) routes, the
// shape both Istio and Linkerd read for Service-parented routing.
package gatewayapi

import (
	"fmt"
	"math"
	"regexp"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// HTTPRoute renders a Normalize()d split as one gateway.networking.k8s.io/v1
// HTTPRoute attached to its parent Service: one rule per match route, in the
// user's order (implementations apply Gateway API precedence themselves),
// then the weighted default rule.
func HTTPRoute(ts mesh.TrafficSplit) (*unstructured.Unstructured, error) {
	rules := make([]gwv1.HTTPRouteRule, 0, len(ts.MatchRoutes)+1)
	for i, r := range ts.MatchRoutes {
		rule, err := matchRule(r)
		if err != nil {
			return nil, fmt.Errorf("match_routes[%d]: %w", i, err)
		}
		rules = append(rules, rule)
	}
	backendRefs, err := backendRefs(ts.Backends)
	if err != nil {
		return nil, fmt.Errorf("backends: %w", err)
	}
	defaultRule := gwv1.HTTPRouteRule{BackendRefs: backendRefs}
	if m := ts.Mirror; m != nil {
		rule, err := mirrorRule(ts, *m, backendRefs)
		switch {
		case err != nil:
			return nil, err
		case m.Match != nil:
			rules = append(rules, rule)
		default:
			defaultRule = rule
		}
	}
	rules = append(rules, defaultRule)

	route := &gwv1.HTTPRoute{
		TypeMeta:   TypeMeta(mesh.GVKHTTPRoute),
		ObjectMeta: ObjectMeta(ts.Name, ts.Namespace, ts.Owner),
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{serviceParent(ts)}},
			Rules:           rules,
		},
	}
	return ToUnstructured(route)
}

// serviceParent attaches the route to the Service (GAMMA). The group must be
// "" explicitly: left out, it defaults to gateway.networking.k8s.io and the
// route would look for a Gateway named after the Service.
func serviceParent(ts mesh.TrafficSplit) gwv1.ParentReference {
	return gwv1.ParentReference{
		Group: ptr(gwv1.Group("")),
		Kind:  ptr(gwv1.Kind("Service")),
		Name:  gwv1.ObjectName(ts.Service),
		Port:  ptr(gwv1.PortNumber(ts.Port)),
	}
}

// mirrorRule routes like the default rule (backendRefs) and mirrors: the
// default rule itself, or with the mirror's match a rule of its own.
func mirrorRule(ts mesh.TrafficSplit, m mesh.Mirror, backendRefs []gwv1.HTTPBackendRef) (gwv1.HTTPRouteRule, error) {
	rule := gwv1.HTTPRouteRule{
		Filters:     []gwv1.HTTPRouteFilter{requestMirror(ts, m)},
		BackendRefs: backendRefs,
	}
	if m.Match != nil {
		match, err := routeMatch(*m.Match)
		if err != nil {
			return rule, fmt.Errorf("mirror match: %w", err)
		}
		rule.Matches = []gwv1.HTTPRouteMatch{match}
	}
	return rule, nil
}

// MirrorFractionDenominator is the denominator of a non-integer mirror
// percentage: 12.5 % is 1250/10000.
const MirrorFractionDenominator = 10_000

// requestMirror renders the RequestMirror filter. An integer percentage is
// `percent`, any other a `fraction` over 10000; 100 leaves both out (the
// API's default). The namespace is set only for a mirror elsewhere.
func requestMirror(ts mesh.TrafficSplit, m mesh.Mirror) gwv1.HTTPRouteFilter {
	d := m.Destination
	f := &gwv1.HTTPRequestMirrorFilter{BackendRef: gwv1.BackendObjectReference{
		Name: gwv1.ObjectName(d.Service),
		Port: ptr(gwv1.PortNumber(d.Port)),
	}}
	if d.Namespace != ts.Namespace {
		f.BackendRef.Namespace = ptr(gwv1.Namespace(d.Namespace))
	}
	switch {
	case m.Percentage == mesh.MaxMirrorPercentage:
	case m.IsWholePercent():
		f.Percent = ptr(int32(m.Percentage))
	default:
		f.Fraction = &gwv1.Fraction{
			Numerator:   int32(math.Round(m.Percentage * MirrorFractionDenominator / 100)),
			Denominator: ptr(int32(MirrorFractionDenominator)),
		}
	}
	return gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestMirror, RequestMirror: f}
}

func matchRule(r mesh.MatchRoute) (gwv1.HTTPRouteRule, error) {
	match, err := routeMatch(r)
	if err != nil {
		return gwv1.HTTPRouteRule{}, err
	}
	refs, err := backendRefs(r.Backends)
	if err != nil {
		return gwv1.HTTPRouteRule{}, fmt.Errorf("backends: %w", err)
	}
	return gwv1.HTTPRouteRule{Matches: []gwv1.HTTPRouteMatch{match}, BackendRefs: refs}, nil
}

func routeMatch(r mesh.MatchRoute) (gwv1.HTTPRouteMatch, error) {
	var m gwv1.HTTPRouteMatch
	for j, h := range r.Headers {
		header, err := headerMatch(h)
		if err != nil {
			return m, fmt.Errorf("headers[%d]: %w", j, err)
		}
		m.Headers = append(m.Headers, header)
	}
	if r.Path != nil {
		path, err := pathMatch(*r.Path)
		if err != nil {
			return m, fmt.Errorf("path: %w", err)
		}
		m.Path = &path
	}
	if r.Method != "" {
		m.Method = ptr(gwv1.HTTPMethod(r.Method))
	}
	return m, nil
}

// headerMatch maps the three canonical types onto Gateway API's two: a
// prefix becomes an anchored regular expression (MESH-TS-011).
func headerMatch(h mesh.HeaderMatch) (gwv1.HTTPHeaderMatch, error) {
	m := gwv1.HTTPHeaderMatch{Name: gwv1.HTTPHeaderName(h.Name), Value: h.Value}
	switch h.Type {
	case mesh.MatchExact:
		m.Type = ptr(gwv1.HeaderMatchExact)
	case mesh.MatchRegex:
		m.Type = ptr(gwv1.HeaderMatchRegularExpression)
	case mesh.MatchPrefix:
		m.Type = ptr(gwv1.HeaderMatchRegularExpression)
		m.Value = PrefixRegex(h.Value)
	default:
		return m, fmt.Errorf("unknown header match type %q", h.Type)
	}
	return m, nil
}

// PrefixRegex is the regular expression that matches values starting with
// prefix.
func PrefixRegex(prefix string) string {
	return "^" + regexp.QuoteMeta(prefix) + ".*"
}

func pathMatch(p mesh.PathMatch) (gwv1.HTTPPathMatch, error) {
	types := map[mesh.MatchType]gwv1.PathMatchType{
		mesh.MatchExact:  gwv1.PathMatchExact,
		mesh.MatchPrefix: gwv1.PathMatchPathPrefix,
		mesh.MatchRegex:  gwv1.PathMatchRegularExpression,
	}
	t, ok := types[p.Type]
	if !ok {
		return gwv1.HTTPPathMatch{}, fmt.Errorf("unknown path match type %q", p.Type)
	}
	return gwv1.HTTPPathMatch{Type: &t, Value: ptr(p.Value)}, nil
}

// backendRefs always sends the weight, 0 included: Gateway API's default
// weight is 1, so leaving a 0 out would send that backend traffic.
// Namespace, group and kind are left to their defaults (same namespace,
// core Service).
func backendRefs(backends []mesh.Backend) ([]gwv1.HTTPBackendRef, error) {
	refs := make([]gwv1.HTTPBackendRef, 0, len(backends))
	for k, b := range backends {
		if len(b.SubsetLabels) > 0 {
			return nil, fmt.Errorf("[%d]: subset_labels cannot be expressed in an HTTPRoute; use one Service per version", k)
		}
		refs = append(refs, gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{
			BackendObjectReference: gwv1.BackendObjectReference{
				Name: gwv1.ObjectName(b.Service),
				Port: ptr(gwv1.PortNumber(b.Port)),
			},
			Weight: ptr(int32(b.Weight)),
		}})
	}
	return refs, nil
}

func ptr[T any](v T) *T { return &v }
