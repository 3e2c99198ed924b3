package gatewayapi

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// SplitReader reads a traffic split (or a mirror route) from its live
// objects, for terraform import. It holds what the route parsers of this
// package (HTTPRoute) and of package istio (VirtualService, DestinationRule,
// waypoint) share: the objects sorted by kind, the split read so far, and
// the reading of match routes and mirrors common to both route kinds.
type SplitReader struct {
	Target mesh.Target
	// mirrorMatch is the route or rule that mirrors matching requests (the
	// mirror's own match), until CheckMirrorRoute has checked it.
	mirrorMatch *mirrorMatch
	Route       *unstructured.Unstructured
	Rules       []*unstructured.Unstructured // DestinationRules
	Gateways    []*unstructured.Unstructured // waypoint Gateways
	Services    []*unstructured.Unstructured // the parent Service
	NS          string
	TS          mesh.TrafficSplit
	// Subsets: service → subset name → labels, from the DestinationRules.
	Subsets map[string]map[string]map[string]string
	// Sources: the field each match route was parsed from, by match
	// route; LiveSources: the same in the live object's order.
	Sources, LiveSources []string
}

// ParseTrafficSplit is the inverse of HTTPRoute, for terraform import on
// Linkerd: objs hold one Service-parented HTTPRoute. The intent read from it
// is rendered again and compared with it (see Entry); whatever the resource
// cannot represent is an error naming the object and the field. Istio's
// targets read with istio.ParseTrafficSplit, which also knows
// VirtualServices and waypoints.
func ParseTrafficSplit(objs []*unstructured.Unstructured) (mesh.TrafficSplit, error) {
	p, err := readLinkerdSplit(objs)
	if err != nil {
		return mesh.TrafficSplit{}, err
	}
	if err := p.DecodeStrictly(objs); err != nil {
		return mesh.TrafficSplit{}, err
	}
	if err := p.proveHTTPRoute(); err != nil {
		return mesh.TrafficSplit{}, err
	}
	return p.TS, nil
}

func readLinkerdSplit(objs []*unstructured.Unstructured) (*SplitReader, error) {
	p := &SplitReader{Target: mesh.TargetLinkerd}
	if err := p.Classify(objs); err != nil {
		return nil, err
	}
	p.Begin()
	if err := p.ReadHTTPRoute(); err != nil {
		return nil, err
	}
	if err := p.Finish(); err != nil {
		return nil, err
	}
	p.TS.Normalize()
	return p, nil
}

// proveHTTPRoute renders the split read again and compares its route with
// the live one.
func (p *SplitReader) proveHTTPRoute() error {
	route, err := HTTPRoute(p.TS)
	if err != nil {
		return fmt.Errorf("%s: rendering the imported split: %w", Describe(p.Route), err)
	}
	return p.CompareEntries(p.HTTPRouteEntries(p.Route.Object), p.HTTPRouteEntries(route.Object))
}

// DecodeStrictly decodes the Gateway API objects among objs into their
// types, failing on a field the type does not define.
func (p *SplitReader) DecodeStrictly(objs []*unstructured.Unstructured) error {
	for _, obj := range objs {
		var err error
		switch obj.GroupVersionKind().GroupKind() {
		case mesh.GVKHTTPRoute.GroupKind():
			err = Decode(obj, SplitResource, &gwv1.HTTPRoute{})
		case mesh.GVKGateway.GroupKind():
			err = Decode(obj, SplitResource, &gwv1.Gateway{})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// classify sorts the objects by kind and checks that they belong together.
func (p *SplitReader) Classify(objs []*unstructured.Unstructured) error {
	var routes []*unstructured.Unstructured
	for i, obj := range objs {
		if obj == nil {
			return fmt.Errorf("objects[%d] is nil", i)
		}
		gvk := obj.GroupVersionKind()
		switch {
		case gvk.GroupKind() == mesh.GVKVirtualService.GroupKind(),
			gvk.GroupKind() == mesh.GVKHTTPRoute.GroupKind():
			routes = append(routes, obj)
		case gvk.GroupKind() == mesh.GVKDestinationRule.GroupKind():
			p.Rules = append(p.Rules, obj)
		case gvk.GroupKind() == mesh.GVKGateway.GroupKind():
			p.Gateways = append(p.Gateways, obj)
		case gvk.Group == "" && gvk.Kind == "Service":
			p.Services = append(p.Services, obj)
		default:
			return fmt.Errorf("cannot import %s: a traffic split is a VirtualService (%s) with its DestinationRules, or an HTTPRoute (%s), plus for %s the waypoint Gateway and the parent Service",
				Describe(obj), mesh.GroupIstioNetworking, mesh.GroupGatewayAPI, mesh.TargetIstioAmbient)
		}
	}
	switch len(routes) {
	case 0:
		return fmt.Errorf("no route among the %d objects: a traffic split is imported from a VirtualService (%s) or an HTTPRoute (%s)",
			len(objs), mesh.GroupIstioNetworking, mesh.GroupGatewayAPI)
	case 1:
		p.Route = routes[0]
	default:
		var names []string
		for _, r := range routes {
			names = append(names, Describe(r))
		}
		return fmt.Errorf("several routes among the objects (%s): a traffic split is one VirtualService or one HTTPRoute; import them one by one",
			strings.Join(names, ", "))
	}
	p.NS = p.Route.GetNamespace()
	if p.Route.GetName() == "" {
		return fmt.Errorf("%s has no metadata.name: pass the object as read from the cluster", Describe(p.Route))
	}
	if p.NS == "" {
		return fmt.Errorf("%s has no metadata.namespace: pass the object as read from the cluster", Describe(p.Route))
	}
	for _, obj := range objs {
		if obj.GetNamespace() != p.NS {
			return fmt.Errorf("%s is in namespace %q, not in the route's namespace %q: every object of a traffic split is in the route's namespace",
				Describe(obj), obj.GetNamespace(), p.NS)
		}
	}
	if p.IsVirtualService() {
		if p.Target == mesh.TargetLinkerd {
			return fmt.Errorf("%s cannot be imported for target %q: Linkerd does not read VirtualServices; import an HTTPRoute", Describe(p.Route), p.Target)
		}
	} else if len(p.Rules) > 0 {
		return fmt.Errorf("%s is not part of an HTTPRoute split: DestinationRule subsets are only used with a VirtualService; leave it out of the import",
			Describe(p.Rules[0]))
	}
	if len(p.Gateways) > 0 && p.Target != mesh.TargetIstioAmbient {
		return fmt.Errorf("%s: a waypoint applies only to target %q, not %q; leave the Gateway out of the import",
			Describe(p.Gateways[0]), mesh.TargetIstioAmbient, p.Target)
	}
	if len(p.Gateways) > 1 {
		return fmt.Errorf("several Gateways among the objects (%s, %s): a traffic split uses one waypoint", Describe(p.Gateways[0]), Describe(p.Gateways[1]))
	}
	if len(p.Services) > 1 {
		return fmt.Errorf("several Services among the objects (%s, %s): pass only the route's parent Service", Describe(p.Services[0]), Describe(p.Services[1]))
	}
	return nil
}

func (p *SplitReader) IsVirtualService() bool {
	return p.Route.GetKind() == mesh.GVKVirtualService.Kind
}

// Begin starts the split from the route's metadata.
func (p *SplitReader) Begin() {
	p.TS = mesh.TrafficSplit{
		Name:      p.Route.GetName(),
		Namespace: p.NS,
		Owner:     p.Route.GetLabels()[mesh.LabelOwner],
		Target:    p.Target,
	}
}

// Finish completes the split once its route is read: the parent Service
// among the objects must be the route's, and the weight semantics and the
// Istio API are the ones that render the route read.
func (p *SplitReader) Finish() error {
	if len(p.Services) == 1 && p.Services[0].GetName() != p.TS.Service {
		return fmt.Errorf("%s is not the route's parent Service %q: pass only the parent Service", Describe(p.Services[0]), p.TS.Service)
	}
	p.TS.WeightSemantics = WeightSemantics(p.TS)
	p.TS.IstioAPI = p.istioAPI()
	return nil
}

// istioAPI is "auto" when auto renders the route's kind for the target.
func (p *SplitReader) istioAPI() mesh.IstioAPI {
	switch {
	case p.Target == mesh.TargetIstioSidecar && !p.IsVirtualService():
		return mesh.IstioAPIGatewayAPI
	case p.Target == mesh.TargetIstioAmbient && p.IsVirtualService():
		return mesh.IstioAPIVirtualService
	}
	return mesh.IstioAPIAuto
}

// weightSemantics is "percent" when every rule sums to 100.
func WeightSemantics(ts mesh.TrafficSplit) mesh.WeightSemantics {
	rules := [][]mesh.Backend{ts.Backends}
	for _, r := range ts.MatchRoutes {
		rules = append(rules, r.Backends)
	}
	for _, backends := range rules {
		var sum int64
		for _, b := range backends {
			sum += b.Weight
		}
		if sum != mesh.MaxPercentWeight {
			return mesh.WeightRelative
		}
	}
	return mesh.WeightPercent
}

// addMatchRoutes adds one match route per ORed match, each with its own copy
// of the rule's backends.
func (p *SplitReader) AddMatchRoutes(field string, matches []mesh.MatchRoute, backends []mesh.Backend) {
	for _, m := range matches {
		m.Backends = slices.Clone(backends)
		p.TS.MatchRoutes = append(p.TS.MatchRoutes, m)
		p.Sources = append(p.Sources, field)
	}
}

// matchesEverything: no matches, or one whose only condition is the prefix
// "/" (ORed matches: one is enough).
func MatchesEverything(matches []mesh.MatchRoute) bool {
	if len(matches) == 0 {
		return true
	}
	for _, m := range matches {
		if len(m.Headers) == 0 && m.Method == "" && (m.Path == nil || (m.Path.Type == mesh.MatchPrefix && m.Path.Value == "/")) {
			return true
		}
	}
	return false
}

// ---- HTTPRoute ----

func (p *SplitReader) ReadHTTPRoute() error {
	hr := p.Route
	spec, err := p.Spec(hr)
	if err != nil {
		return err
	}
	if err := CheckKeys(hr, "spec", spec, "parentRefs", "rules", "hostnames"); err != nil {
		return err
	}
	if hosts, _ := spec["hostnames"].([]any); len(hosts) > 0 {
		return NotLossless(hr, "spec.hostnames", "is set (%v); mesh_traffic_split renders Service-parented routes without hostnames", hosts)
	}
	if err := p.parentRef(spec["parentRefs"]); err != nil {
		return err
	}
	rules, err := List(hr, "spec.rules", spec["rules"])
	if err != nil {
		return err
	}
	defaultRule := ""
	for i, r := range rules {
		field := fmt.Sprintf("spec.rules[%d]", i)
		rule, err := Object(hr, field, r)
		if err != nil {
			return err
		}
		if err := CheckKeys(hr, field, rule, "name", "matches", "backendRefs", "filters"); err != nil {
			return err
		}
		backends, err := p.backendRefs(field+".backendRefs", rule["backendRefs"])
		if err != nil {
			return err
		}
		matches, err := p.httpMatches(field+".matches", rule["matches"])
		if err != nil {
			return err
		}
		mirror, err := p.httpMirror(field+".filters", rule["filters"])
		if err != nil {
			return err
		}
		if !MatchesEverything(matches) {
			if err := p.AddRoute(field, matches, backends, mirror); err != nil {
				return err
			}
			continue
		}
		if defaultRule != "" {
			return NotLossless(hr, field, "matches every request, as %s does; mesh_traffic_split has one weighted default rule (backends): merge them before importing", defaultRule)
		}
		defaultRule = field
		p.TS.Backends = backends
		if err := p.DefaultMirror(field, mirror); err != nil {
			return err
		}
	}
	if defaultRule == "" {
		return NotLossless(hr, "spec.rules", "has no rule that matches every request, so unmatched requests get no route; mesh_traffic_split always renders a weighted default rule (backends): add a rule without matches")
	}
	return p.CheckMirrorRoute()
}

// parentRef reads the one Service parent (GAMMA) and its port.
func (p *SplitReader) parentRef(v any) error {
	hr := p.Route
	refs, err := List(hr, "spec.parentRefs", v)
	if err != nil {
		return err
	}
	if len(refs) != 1 {
		return NotLossless(hr, "spec.parentRefs", "has %d parents; mesh_traffic_split attaches its route to exactly one Service", len(refs))
	}
	const field = "spec.parentRefs[0]"
	ref, err := Object(hr, field, refs[0])
	if err != nil {
		return err
	}
	if err := CheckKeys(hr, field, ref, "group", "kind", "name", "namespace", "port"); err != nil {
		return err
	}
	group, kind := mesh.GroupGatewayAPI, mesh.GVKGateway.Kind // the API's defaults
	if g, ok := ref["group"].(string); ok {
		group = g
	}
	if k, ok := ref["kind"].(string); ok {
		kind = k
	}
	if group != "" || kind != "Service" {
		return NotLossless(hr, field, "refers to a %s (group %q), not to a Service; mesh_traffic_split only renders Service-parented (GAMMA) routes", kind, group)
	}
	if ns, ok := ref["namespace"]; ok && ns != p.NS {
		return NotLossless(hr, field+".namespace", "is %v; mesh_traffic_split attaches to a Service in the route's namespace %q", ns, p.NS)
	}
	if p.TS.Service, err = Str(hr, field+".name", ref["name"]); err != nil {
		return err
	}
	port, ok := ref["port"]
	if !ok {
		return NotLossless(hr, field+".port", "is not set, so the route applies to every port of Service %q, while mesh_traffic_split attaches to one port; set the port before importing", p.TS.Service)
	}
	p.TS.Port, err = Integer(hr, field+".port", port)
	return err
}

// httpMatches parses the ORed matches of one rule, API defaults included
// (a path without type is a PathPrefix, without value "/"; a header without
// type is Exact).
func (p *SplitReader) httpMatches(field string, v any) ([]mesh.MatchRoute, error) {
	hr := p.Route
	if v == nil {
		return nil, nil
	}
	items, err := List(hr, field, v)
	if err != nil {
		return nil, err
	}
	pathTypes := map[string]mesh.MatchType{"Exact": mesh.MatchExact, "PathPrefix": mesh.MatchPrefix, "RegularExpression": mesh.MatchRegex}
	var out []mesh.MatchRoute
	for j, item := range items {
		mf := fmt.Sprintf("%s[%d]", field, j)
		m, err := Object(hr, mf, item)
		if err != nil {
			return nil, err
		}
		if err := CheckKeys(hr, mf, m, "path", "headers", "method"); err != nil {
			return nil, err
		}
		var r mesh.MatchRoute
		if v, ok := m["path"]; ok {
			path, err := Object(hr, mf+".path", v)
			if err != nil {
				return nil, err
			}
			if err := CheckKeys(hr, mf+".path", path, "type", "value"); err != nil {
				return nil, err
			}
			pt, value := "PathPrefix", "/"
			if v, ok := path["type"]; ok {
				if pt, err = Str(hr, mf+".path.type", v); err != nil {
					return nil, err
				}
			}
			if v, ok := path["value"]; ok {
				if value, err = Str(hr, mf+".path.value", v); err != nil {
					return nil, err
				}
			}
			t, ok := pathTypes[pt]
			if !ok {
				return nil, NotLossless(hr, mf+".path.type", "is %q; mesh_traffic_split knows Exact, PathPrefix and RegularExpression", pt)
			}
			// PathPrefix "/" is the API server's default for a match without
			// a path: it constrains nothing, so it is no path at all.
			if t != mesh.MatchPrefix || value != "/" {
				r.Path = &mesh.PathMatch{Type: t, Value: value}
			}
		}
		if v, ok := m["headers"]; ok {
			if r.Headers, err = p.httpHeaders(mf+".headers", v); err != nil {
				return nil, err
			}
		}
		if v, ok := m["method"]; ok {
			if r.Method, err = Str(hr, mf+".method", v); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func (p *SplitReader) httpHeaders(field string, v any) ([]mesh.HeaderMatch, error) {
	hr := p.Route
	items, err := List(hr, field, v)
	if err != nil {
		return nil, err
	}
	var out []mesh.HeaderMatch
	for k, item := range items {
		hf := fmt.Sprintf("%s[%d]", field, k)
		h, err := Object(hr, hf, item)
		if err != nil {
			return nil, err
		}
		if err := CheckKeys(hr, hf, h, "name", "type", "value"); err != nil {
			return nil, err
		}
		var m mesh.HeaderMatch
		if m.Name, err = Str(hr, hf+".name", h["name"]); err != nil {
			return nil, err
		}
		if m.Value, err = Str(hr, hf+".value", h["value"]); err != nil {
			return nil, err
		}
		t := "Exact"
		if v, ok := h["type"]; ok {
			if t, err = Str(hr, hf+".type", v); err != nil {
				return nil, err
			}
		}
		switch t {
		case "Exact":
			m.Type = mesh.MatchExact
		case "RegularExpression":
			m.Type = mesh.MatchRegex
			if prefix, ok := unquotePrefixRegex(m.Value); ok {
				m.Type, m.Value = mesh.MatchPrefix, prefix
			}
		default:
			return nil, NotLossless(hr, hf+".type", "is %q; mesh_traffic_split knows Exact and RegularExpression", t)
		}
		out = append(out, m)
	}
	return out, nil
}

// unquotePrefixRegex undoes gatewayapi.PrefixRegex: "^" + QuoteMeta(p) + ".*".
func unquotePrefixRegex(re string) (string, bool) {
	quoted, ok := strings.CutPrefix(re, "^")
	if !ok {
		return "", false
	}
	if quoted, ok = strings.CutSuffix(quoted, ".*"); !ok {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(quoted); i++ {
		if quoted[i] == '\\' && i+1 < len(quoted) {
			i++
		}
		b.WriteByte(quoted[i])
	}
	prefix := b.String()
	if prefix == "" || regexp.QuoteMeta(prefix) != quoted {
		return "", false
	}
	return prefix, true
}

// backendRefs parses the weighted Service backends of one rule. Gateway
// API's default weight is 1; a lone backend without weight takes all
// traffic, which reads 100.
func (p *SplitReader) backendRefs(field string, v any) ([]mesh.Backend, error) {
	hr := p.Route
	var items []any
	if v != nil {
		var err error
		if items, err = List(hr, field, v); err != nil {
			return nil, err
		}
	}
	if len(items) == 0 {
		return nil, NotLossless(hr, field, "is empty, so the requests the rule matches get an error response; mesh_traffic_split needs at least one backend per rule")
	}
	out := make([]mesh.Backend, 0, len(items))
	for k, item := range items {
		bf := fmt.Sprintf("%s[%d]", field, k)
		ref, err := Object(hr, bf, item)
		if err != nil {
			return nil, err
		}
		if err := CheckKeys(hr, bf, ref, "group", "kind", "name", "namespace", "port", "weight"); err != nil {
			return nil, err
		}
		if g, ok := ref["group"]; ok && g != "" {
			return nil, NotLossless(hr, bf+".group", "is %q; mesh_traffic_split only routes to core Services", g)
		}
		if kind, ok := ref["kind"]; ok && kind != "Service" {
			return nil, NotLossless(hr, bf+".kind", "is %q; mesh_traffic_split only routes to Services", kind)
		}
		if ns, ok := ref["namespace"]; ok && ns != p.NS {
			return nil, NotLossless(hr, bf+".namespace", "is %v; mesh_traffic_split only routes to Services in the route's namespace %q", ns, p.NS)
		}
		b := mesh.Backend{Port: p.TS.Port, Weight: 1}
		if b.Service, err = Str(hr, bf+".name", ref["name"]); err != nil {
			return nil, err
		}
		if port, ok := ref["port"]; ok {
			if b.Port, err = Integer(hr, bf+".port", port); err != nil {
				return nil, err
			}
		}
		if w, ok := ref["weight"]; ok {
			if b.Weight, err = Integer(hr, bf+".weight", w); err != nil {
				return nil, err
			}
		} else if len(items) == 1 {
			b.Weight = mesh.MaxPercentWeight
		}
		out = append(out, b)
	}
	return out, nil
}

// ---- unstructured helpers ----

func (p *SplitReader) Spec(obj *unstructured.Unstructured) (map[string]any, error) {
	spec, ok := obj.Object["spec"]
	if !ok {
		return nil, fmt.Errorf("%s has no spec: pass the object as read from the cluster", Describe(obj))
	}
	return Object(obj, "spec", spec)
}

// CheckKeys rejects the fields of m that a split has no attribute for.
func CheckKeys(obj *unstructured.Unstructured, field string, m map[string]any, allowed ...string) error {
	for _, k := range SortedKeys(m) {
		if !slices.Contains(allowed, k) {
			return notCovered(obj, SplitResource, field+"."+k, m[k])
		}
	}
	return nil
}

func Malformed(obj *unstructured.Unstructured, field string, v any, want string) error {
	return fmt.Errorf("%s: %s is %T (%v), want %s", Describe(obj), field, v, v, want)
}

func Object(obj *unstructured.Unstructured, field string, v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, Malformed(obj, field, v, "an object")
	}
	return m, nil
}

func List(obj *unstructured.Unstructured, field string, v any) ([]any, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, Malformed(obj, field, v, "a list")
	}
	return l, nil
}

func Str(obj *unstructured.Unstructured, field string, v any) (string, error) {
	s, ok := v.(string)
	if !ok || s == "" {
		return "", Malformed(obj, field, v, "a non-empty string")
	}
	return s, nil
}

func Integer(obj *unstructured.Unstructured, field string, v any) (int64, error) {
	n, ok := ToInt(v)
	if !ok {
		return 0, Malformed(obj, field, v, "an integer")
	}
	return n, nil
}

// toInt accepts the number types unstructured objects carry: int64 from
// JSON, float64 or int when built by hand.
func ToInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n), true
		}
	}
	return 0, false
}

// number accepts an integer or a float, as a percentage may be either.
func Number(obj *unstructured.Unstructured, field string, v any) (float64, error) {
	if f, ok := v.(float64); ok {
		return f, nil
	}
	n, ok := ToInt(v)
	if !ok {
		return 0, Malformed(obj, field, v, "a number")
	}
	return float64(n), nil
}

// The parse of a mirror (mesh_traffic_split's mirror block, and the whole
// of a mesh_mirror_route): the renderers put it on the default route or
// rule, or, with a match of its own, on a route of its own between the
// match routes and the default one, routing like the default.

type mirrorMatch struct {
	field    string
	mirror   *mesh.Mirror
	backends []mesh.Backend
}

// addRoute adds a route or rule with conditions: a match route, or the
// mirror's own route when it mirrors.
func (p *SplitReader) AddRoute(field string, matches []mesh.MatchRoute, backends []mesh.Backend, mirror *mesh.Mirror) error {
	if mirror == nil {
		if p.mirrorMatch != nil {
			return NotLossless(p.Route, field, "comes after %s, the route that mirrors; mesh_traffic_split renders match routes before the mirror's route, so move it before importing",
				p.mirrorMatch.field)
		}
		p.AddMatchRoutes(field, matches, backends)
		return nil
	}
	if p.mirrorMatch != nil {
		return NotLossless(p.Route, field, "mirrors requests, as %s does; mesh_traffic_split has one mirror per route object", p.mirrorMatch.field)
	}
	if len(matches) != 1 {
		return NotLossless(p.Route, field, "mirrors the requests of %d alternative matches; a mirror has one match", len(matches))
	}
	mirror.Match = &matches[0]
	p.mirrorMatch = &mirrorMatch{field: field, mirror: mirror, backends: backends}
	return nil
}

// defaultMirror records the mirror of the route or rule that matches every
// request.
func (p *SplitReader) DefaultMirror(field string, mirror *mesh.Mirror) error {
	if mirror != nil && p.mirrorMatch != nil {
		return NotLossless(p.Route, field, "mirrors requests, as %s does; mesh_traffic_split has one mirror per route object", p.mirrorMatch.field)
	}
	p.TS.Mirror = mirror
	return nil
}

// checkMirrorRoute accepts the mirror's own route when it routes exactly as
// the default one does, as the renderers write it.
func (p *SplitReader) CheckMirrorRoute() error {
	mm := p.mirrorMatch
	if mm == nil {
		return nil
	}
	for i := range mm.backends {
		if mm.backends[i].Port == 0 {
			mm.backends[i].Port = p.TS.Port
		}
	}
	if !reflect.DeepEqual(mm.backends, p.TS.Backends) {
		return NotLossless(p.Route, mm.field, "mirrors its requests but routes them to other destinations than the default route; a mirror's route routes like the default one (mesh_traffic_split backends), so import it as match routes without mirror, or align the destinations")
	}
	p.TS.Mirror = mm.mirror
	return nil
}

// httpMirror reads a rule's filters: one RequestMirror.
func (p *SplitReader) httpMirror(field string, v any) (*mesh.Mirror, error) {
	hr := p.Route
	if v == nil {
		return nil, nil
	}
	items, err := List(hr, field, v)
	if err != nil {
		return nil, err
	}
	if len(items) != 1 {
		return nil, NotLossless(hr, field, "has %d filters; mesh_traffic_split renders one, a RequestMirror", len(items))
	}
	ff := field + "[0]"
	f, err := Object(hr, ff, items[0])
	if err != nil {
		return nil, err
	}
	if err := CheckKeys(hr, ff, f, "type", "requestMirror"); err != nil {
		return nil, err
	}
	if f["type"] != "RequestMirror" {
		return nil, NotLossless(hr, ff+".type", "is %v; mesh_traffic_split renders only RequestMirror filters", f["type"])
	}
	rm, err := Object(hr, ff+".requestMirror", f["requestMirror"])
	if err != nil {
		return nil, err
	}
	if err := CheckKeys(hr, ff+".requestMirror", rm, "backendRef", "percent", "fraction"); err != nil {
		return nil, err
	}
	mirror := &mesh.Mirror{Percentage: mesh.MaxMirrorPercentage}
	if mirror.Destination, err = p.mirrorBackendRef(ff+".requestMirror.backendRef", rm["backendRef"]); err != nil {
		return nil, err
	}
	if pct, ok := rm["percent"]; ok {
		n, err := Integer(hr, ff+".requestMirror.percent", pct)
		if err != nil {
			return nil, err
		}
		mirror.Percentage = float64(n)
	}
	if fr, ok := rm["fraction"]; ok {
		if mirror.Percentage, err = p.fraction(ff+".requestMirror.fraction", fr); err != nil {
			return nil, err
		}
	}
	return mirror, nil
}

func (p *SplitReader) mirrorBackendRef(field string, v any) (mesh.MirrorDestination, error) {
	hr := p.Route
	d := mesh.MirrorDestination{Namespace: p.NS}
	ref, err := Object(hr, field, v)
	if err != nil {
		return d, err
	}
	if err := CheckKeys(hr, field, ref, "group", "kind", "name", "namespace", "port"); err != nil {
		return d, err
	}
	if g, ok := ref["group"]; ok && g != "" {
		return d, NotLossless(hr, field+".group", "is %q; a mirror is a core Service", g)
	}
	if kind, ok := ref["kind"]; ok && kind != "Service" {
		return d, NotLossless(hr, field+".kind", "is %q; a mirror is a Service", kind)
	}
	if d.Service, err = Str(hr, field+".name", ref["name"]); err != nil {
		return d, err
	}
	if ns, ok := ref["namespace"]; ok {
		if d.Namespace, err = Str(hr, field+".namespace", ns); err != nil {
			return d, err
		}
	}
	if _, ok := ref["port"]; !ok {
		return d, NotLossless(hr, field+".port", "is not set; a mirror names its port, so set it before importing")
	}
	d.Port, err = Integer(hr, field+".port", ref["port"])
	return d, err
}

// fraction reads numerator/denominator (default 100) as a percentage.
func (p *SplitReader) fraction(field string, v any) (float64, error) {
	hr := p.Route
	fr, err := Object(hr, field, v)
	if err != nil {
		return 0, err
	}
	if err := CheckKeys(hr, field, fr, "numerator", "denominator"); err != nil {
		return 0, err
	}
	num, err := Integer(hr, field+".numerator", fr["numerator"])
	if err != nil {
		return 0, err
	}
	den := int64(100)
	if d, ok := fr["denominator"]; ok {
		if den, err = Integer(hr, field+".denominator", d); err != nil {
			return 0, err
		}
	}
	if den <= 0 {
		return 0, fmt.Errorf("%s: %s.denominator is %d, want at least 1", Describe(hr), field, den)
	}
	return 100 * float64(num) / float64(den), nil
}

// The proof of a traffic split's (or mirror route's) import: the parse reads
// routing semantics, and accepts spellings the renderer does not write
// (short hosts, destinations without port, ORed matches, subsets of any
// name, API defaults), so the live route and the one its intent renders are
// compared in a form both spell alike: typed and re-encoded (strict
// decoding names any field the API types do not define), hosts as FQDNs,
// ports and weights filled as the APIs default them, a subset as the labels
// it selects, names dropped (they label routes, they do not route), and each
// route expanded to one entry per ORed match. Entries are paired by match,
// as the parse's precedence check has already compared their order; the
// first field where a pair differs, a live match with no rendered route, and
// a rendered route with no live match are each the error.

const SplitResource = "mesh_traffic_split"

// entry is one ORed match of a route, or a route without match.
type Entry struct {
	At    string         // the live route's field, e.g. spec.http[1]
	Match any            // the canonical match; nil for the default route
	Rest  map[string]any // the route without its name and matches
}

func (p *SplitReader) CompareEntries(live, want []Entry) error {
	used := make([]bool, len(want))
	for _, le := range live {
		k := -1
		for i, we := range want {
			if !used[i] && reflect.DeepEqual(le.Match, we.Match) {
				k = i
				break
			}
		}
		if k < 0 {
			return NotLossless(p.Route, le.At, "matches %s, and %s would render no route for that match", Show(le.Match), SplitResource)
		}
		used[k] = true
		if err := CoveredValue(p.Route, SplitResource, le.At, le.Rest, want[k].Rest); err != nil {
			return err
		}
	}
	for i, we := range want {
		if !used[i] {
			return NotLossless(p.Route, "spec", "has no route for %s, and %s would render one", Show(we.Match), SplitResource)
		}
	}
	return nil
}

// ---- HTTPRoute ----

// httpRouteEntries canonicalizes an HTTPRoute's rules.
func (p *SplitReader) HTTPRouteEntries(obj map[string]any) []Entry {
	rules, _, _ := unstructured.NestedSlice(obj, "spec", "rules")
	var out []Entry
	for i, r := range rules {
		rule, _ := r.(map[string]any)
		rule = deepCopy(rule)
		at := fmt.Sprintf("spec.rules[%d]", i)
		delete(rule, "name")
		matches, _ := rule["matches"].([]any)
		delete(rule, "matches")
		refs, _ := rule["backendRefs"].([]any)
		for _, b := range refs {
			ref, _ := b.(map[string]any)
			p.backendRef(ref)
			if _, ok := ref["weight"]; !ok {
				ref["weight"] = int64(1) // the API's default
				if len(refs) == 1 {
					ref["weight"] = mesh.MaxPercentWeight
				}
			}
		}
		filters, _ := rule["filters"].([]any)
		for _, f := range filters {
			filter, _ := f.(map[string]any)
			if rm, ok := filter["requestMirror"].(map[string]any); ok {
				p.requestMirror(rm)
			}
		}
		var canon []any
		for _, m := range matches {
			match := httpMatch(m)
			if len(match) == 0 {
				canon = nil // matches every request
				break
			}
			canon = append(canon, match)
		}
		if canon == nil {
			out = append(out, Entry{At: at, Rest: rule})
			continue
		}
		for _, m := range canon {
			out = append(out, Entry{At: at, Match: m, Rest: rule})
		}
	}
	return out
}

// httpMatch fills the API's defaults (a path is a PathPrefix, "/" unless
// set; a header match is Exact) and drops the path "/", which matches every
// request.
func httpMatch(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return nil
	}
	match := deepCopy(m)
	if path, ok := match["path"].(map[string]any); ok {
		if _, ok := path["type"]; !ok {
			path["type"] = "PathPrefix"
		}
		if _, ok := path["value"]; !ok {
			path["value"] = "/"
		}
		if path["type"] == "PathPrefix" && path["value"] == "/" {
			delete(match, "path")
		}
	}
	headers, _ := match["headers"].([]any)
	for _, h := range headers {
		header, _ := h.(map[string]any)
		if _, ok := header["type"]; !ok {
			header["type"] = "Exact"
		}
	}
	return match
}

// backendRef: a core Service of the route's namespace, spelled out the
// one way, with the parent's port when none is set.
func (p *SplitReader) backendRef(ref map[string]any) {
	if ref["group"] == "" {
		delete(ref, "group")
	}
	if ref["kind"] == "Service" {
		delete(ref, "kind")
	}
	if ref["namespace"] == p.NS {
		delete(ref, "namespace")
	}
	if _, ok := ref["port"]; !ok {
		ref["port"] = p.TS.Port
	}
}

// requestMirror: the backend spelled as backendRef does, and the share as
// a percentage, whether percent or fraction (denominator 100 by default).
func (p *SplitReader) requestMirror(rm map[string]any) {
	if ref, ok := rm["backendRef"].(map[string]any); ok {
		p.backendRef(ref)
	}
	pct := float64(mesh.MaxMirrorPercentage)
	if n, ok := ToInt(rm["percent"]); ok {
		pct = float64(n)
	}
	if fr, ok := rm["fraction"].(map[string]any); ok {
		num, _ := ToInt(fr["numerator"])
		den, ok := ToInt(fr["denominator"])
		if !ok {
			den = 100
		}
		if den > 0 {
			pct = 100 * float64(num) / float64(den)
		}
	}
	delete(rm, "percent")
	delete(rm, "fraction")
	rm["percentage"] = pct
}

func deepCopy(m map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: m}).DeepCopy().Object
}
