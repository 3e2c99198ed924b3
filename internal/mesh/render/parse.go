package render

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// What the parser reads of Istio's ambient waypoints and Service hosts.
const (
	waypointClassName   = "istio-waypoint"
	clusterDomainSuffix = ".svc." + mesh.ClusterDomain
)

// ParseTrafficSplit is the inverse of TrafficSplit, for terraform import: it
// rebuilds the Normalize()d intent of one split from its live objects. objs
// hold one route, either a VirtualService (networking.istio.io) with the
// DestinationRules its subsets are defined in, or a Service-parented
// HTTPRoute (gateway.networking.k8s.io); for istio-ambient also, optionally,
// the waypoint Gateway and the parent Service (whose istio.io/use-waypoint
// label names the waypoint). target chooses the data plane, which the
// objects alone cannot tell.
//
// Objects the provider did not create parse too (short hosts, destinations
// without port, DestinationRules of any name, API-server defaults). Whatever
// the resource cannot represent, so that re-rendering would change the
// routing, is an error naming the object and the field.
//
// Some shapes render alike, so the parse picks one: weights that sum to 100
// in every rule read as "percent", others as "relative"; an HTTPRoute header
// regex of the form "^<quoted prefix>.*" reads as a prefix match; a
// VirtualService's lower-cased header names stay lower-cased.
func ParseTrafficSplit(objs []*unstructured.Unstructured, target mesh.Target) (mesh.TrafficSplit, error) {
	if !slices.Contains(mesh.Targets, target) {
		return mesh.TrafficSplit{}, fmt.Errorf("unknown target %q: use one of %q", target, mesh.Targets)
	}
	p := &parser{target: target}
	if err := p.classify(objs); err != nil {
		return mesh.TrafficSplit{}, err
	}
	// The parse first: its messages say what the resource can represent.
	if err := p.parse(); err != nil {
		return mesh.TrafficSplit{}, err
	}
	if err := p.decodeStrictly(objs); err != nil {
		return mesh.TrafficSplit{}, err
	}
	if err := p.prove(); err != nil {
		return mesh.TrafficSplit{}, err
	}
	return p.ts, nil
}

type parser struct {
	target mesh.Target
	// mirrorMatch is the route or rule that mirrors matching requests (the
	// mirror's own match), until checkMirrorRoute has checked it.
	mirrorMatch *mirrorMatch
	route       *unstructured.Unstructured
	rules       []*unstructured.Unstructured // DestinationRules
	gws         []*unstructured.Unstructured // waypoint Gateways
	svcs        []*unstructured.Unstructured // the parent Service
	ns          string
	ts          mesh.TrafficSplit
	// subsets: service → subset name → labels, from the DestinationRules.
	subsets map[string]map[string]map[string]string
	// sources: the field each match route was parsed from, by match
	// route; liveSources: the same in the live object's order.
	sources, liveSources []string
}

// classify sorts the objects by kind and checks that they belong together.
func (p *parser) classify(objs []*unstructured.Unstructured) error {
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
			p.rules = append(p.rules, obj)
		case gvk.GroupKind() == mesh.GVKGateway.GroupKind():
			p.gws = append(p.gws, obj)
		case gvk.Group == "" && gvk.Kind == "Service":
			p.svcs = append(p.svcs, obj)
		default:
			return fmt.Errorf("cannot import %s: a traffic split is a VirtualService (%s) with its DestinationRules, or an HTTPRoute (%s), plus for %s the waypoint Gateway and the parent Service",
				describe(obj), mesh.GroupIstioNetworking, mesh.GroupGatewayAPI, mesh.TargetIstioAmbient)
		}
	}
	switch len(routes) {
	case 0:
		return fmt.Errorf("no route among the %d objects: a traffic split is imported from a VirtualService (%s) or an HTTPRoute (%s)",
			len(objs), mesh.GroupIstioNetworking, mesh.GroupGatewayAPI)
	case 1:
		p.route = routes[0]
	default:
		var names []string
		for _, r := range routes {
			names = append(names, describe(r))
		}
		return fmt.Errorf("several routes among the objects (%s): a traffic split is one VirtualService or one HTTPRoute; import them one by one",
			strings.Join(names, ", "))
	}
	p.ns = p.route.GetNamespace()
	if p.route.GetName() == "" {
		return fmt.Errorf("%s has no metadata.name: pass the object as read from the cluster", describe(p.route))
	}
	if p.ns == "" {
		return fmt.Errorf("%s has no metadata.namespace: pass the object as read from the cluster", describe(p.route))
	}
	for _, obj := range objs {
		if obj.GetNamespace() != p.ns {
			return fmt.Errorf("%s is in namespace %q, not in the route's namespace %q: every object of a traffic split is in the route's namespace",
				describe(obj), obj.GetNamespace(), p.ns)
		}
	}
	if p.isVirtualService() {
		if p.target == mesh.TargetLinkerd {
			return fmt.Errorf("%s cannot be imported for target %q: Linkerd does not read VirtualServices; import an HTTPRoute", describe(p.route), p.target)
		}
	} else if len(p.rules) > 0 {
		return fmt.Errorf("%s is not part of an HTTPRoute split: DestinationRule subsets are only used with a VirtualService; leave it out of the import",
			describe(p.rules[0]))
	}
	if len(p.gws) > 0 && p.target != mesh.TargetIstioAmbient {
		return fmt.Errorf("%s: a waypoint applies only to target %q, not %q; leave the Gateway out of the import",
			describe(p.gws[0]), mesh.TargetIstioAmbient, p.target)
	}
	if len(p.gws) > 1 {
		return fmt.Errorf("several Gateways among the objects (%s, %s): a traffic split uses one waypoint", describe(p.gws[0]), describe(p.gws[1]))
	}
	if len(p.svcs) > 1 {
		return fmt.Errorf("several Services among the objects (%s, %s): pass only the route's parent Service", describe(p.svcs[0]), describe(p.svcs[1]))
	}
	return nil
}

func (p *parser) isVirtualService() bool { return p.route.GetKind() == mesh.GVKVirtualService.Kind }

func (p *parser) parse() error {
	p.ts = mesh.TrafficSplit{
		Name:      p.route.GetName(),
		Namespace: p.ns,
		Owner:     p.route.GetLabels()[mesh.LabelOwner],
		Target:    p.target,
	}
	var err error
	if p.isVirtualService() {
		err = p.virtualService()
	} else {
		err = p.httpRoute()
	}
	if err != nil {
		return err
	}
	if len(p.svcs) == 1 && p.svcs[0].GetName() != p.ts.Service {
		return fmt.Errorf("%s is not the route's parent Service %q: pass only the parent Service", describe(p.svcs[0]), p.ts.Service)
	}
	p.ts.WeightSemantics = weightSemantics(p.ts)
	p.ts.IstioAPI = p.istioAPI()
	if p.target == mesh.TargetIstioAmbient {
		if p.ts.Waypoint, err = p.waypoint(); err != nil {
			return err
		}
	}
	p.ts.Normalize()
	if p.isVirtualService() {
		return p.checkPrecedence()
	}
	return nil
}

// istioAPI is "auto" when auto renders the route's kind for the target.
func (p *parser) istioAPI() mesh.IstioAPI {
	switch {
	case p.target == mesh.TargetIstioSidecar && !p.isVirtualService():
		return mesh.IstioAPIGatewayAPI
	case p.target == mesh.TargetIstioAmbient && p.isVirtualService():
		return mesh.IstioAPIVirtualService
	}
	return mesh.IstioAPIAuto
}

// weightSemantics is "percent" when every rule sums to 100.
func weightSemantics(ts mesh.TrafficSplit) mesh.WeightSemantics {
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

// waypoint: "create" when the Gateway carries the route's owner label, the
// name from the Gateway or else from the Service's use-waypoint label.
func (p *parser) waypoint() (mesh.Waypoint, error) {
	wp := mesh.Waypoint{Mode: mesh.WaypointRequire, Name: mesh.DefaultWaypointName}
	label := ""
	if len(p.svcs) == 1 {
		label = p.svcs[0].GetLabels()[mesh.LabelUseWaypoint]
		if label != "" {
			wp.Name = label
		}
	}
	if len(p.gws) == 0 {
		return wp, nil
	}
	gw := p.gws[0]
	if class, _, _ := unstructured.NestedString(gw.Object, "spec", "gatewayClassName"); class != waypointClassName {
		return wp, fmt.Errorf("%s has gatewayClassName %q, not %q: it is not a waypoint; leave it out of the import", describe(gw), class, waypointClassName)
	}
	if label != "" && label != gw.GetName() {
		return wp, fmt.Errorf("%s labels %s=%q, but the Gateway among the objects is %q: pass the waypoint the Service uses",
			describe(p.svcs[0]), mesh.LabelUseWaypoint, label, gw.GetName())
	}
	wp.Name = gw.GetName()
	if owner := gw.GetLabels()[mesh.LabelOwner]; owner != "" && owner == p.ts.Owner {
		wp.Mode = mesh.WaypointCreate
	}
	return wp, nil
}

// ---- VirtualService ----

func (p *parser) virtualService() error {
	vs := p.route
	spec, err := p.spec(vs)
	if err != nil {
		return err
	}
	if err := checkKeys(vs, "spec", spec, "hosts", "http", "gateways"); err != nil {
		return err
	}
	if gws, ok := spec["gateways"]; ok && !reflect.DeepEqual(gws, []any{"mesh"}) {
		return notLossless(vs, "spec.gateways", "binds the route to gateways %v; mesh_traffic_split only renders mesh (sidecar and waypoint) routing", gws)
	}
	hosts, _ := spec["hosts"].([]any)
	if len(hosts) != 1 {
		return notLossless(vs, "spec.hosts", "has %d hosts %v; mesh_traffic_split routes exactly one Service, so split the VirtualService into one per host", len(hosts), hosts)
	}
	if p.ts.Service, err = p.hostService(vs, "spec.hosts[0]", hosts[0]); err != nil {
		return err
	}
	if err := p.destinationRules(); err != nil {
		return err
	}
	routes, err := list(vs, "spec.http", spec["http"])
	if err != nil {
		return err
	}
	if len(routes) == 0 {
		return notLossless(vs, "spec.http", "is empty; there is no HTTP routing to import")
	}
	// Each match route's index in the configuration, from its name.
	order, ordered := []int{}, true
	for i, r := range routes {
		field := fmt.Sprintf("spec.http[%d]", i)
		route, err := object(vs, field, r)
		if err != nil {
			return err
		}
		if err := checkKeys(vs, field, route, "name", "match", "route", "mirrors"); err != nil {
			return err
		}
		backends, err := p.vsDestinations(field+".route", route["route"])
		if err != nil {
			return err
		}
		matches, err := p.vsMatches(field+".match", route["match"])
		if err != nil {
			return err
		}
		mirror, err := p.vsMirror(field+".mirrors", route["mirrors"])
		if err != nil {
			return err
		}
		if matchesEverything(matches) {
			if i != len(routes)-1 {
				return notLossless(vs, field, "matches every request, so the %d route(s) after it are never used; remove them before importing", len(routes)-1-i)
			}
			p.ts.Backends = backends
			if err := p.defaultMirror(field, mirror); err != nil {
				return err
			}
			continue
		}
		before := len(p.ts.MatchRoutes)
		if err := p.addRoute(field, matches, backends, mirror); err != nil {
			return err
		}
		if index, ok := configIndex(route["name"]); ok && ordered && len(p.ts.MatchRoutes) == before+1 {
			order = append(order, index)
		} else {
			ordered = false
		}
	}
	if !ordered {
		order = nil
	}
	p.inConfigOrder(order)
	if p.ts.Backends == nil {
		return notLossless(vs, "spec.http", "has no route that matches every request, so unmatched requests fall through to Service %q itself; mesh_traffic_split always renders a weighted default rule (backends): add a last route without match",
			p.ts.Service)
	}
	if err := p.resolvePorts(); err != nil {
		return err
	}
	return p.checkMirrorRoute()
}

// configIndex is the index in the configuration that a rendered http
// route's name ("match-N") records.
func configIndex(name any) (int, bool) {
	n, ok := name.(string)
	var index int
	if !ok {
		return 0, false
	}
	if _, err := fmt.Sscanf(n, "match-%d", &index); err != nil || fmt.Sprintf("match-%d", index) != n {
		return 0, false
	}
	return index, true
}

// inConfigOrder puts the match routes back in the order of the
// configuration they were rendered from (the renderer orders them by
// precedence and names each by its index in the configuration), when the
// names say it unambiguously: the import then renders the same names.
func (p *parser) inConfigOrder(order []int) {
	p.liveSources = p.sources
	n := len(p.ts.MatchRoutes)
	if len(order) != n || n < 2 {
		return
	}
	seen := make([]bool, n)
	for _, i := range order {
		if i < 0 || i >= n || seen[i] {
			return
		}
		seen[i] = true
	}
	routes, sources := make([]mesh.MatchRoute, n), make([]string, n)
	for k, i := range order {
		routes[i], sources[i] = p.ts.MatchRoutes[k], p.sources[k]
	}
	p.ts.MatchRoutes, p.sources = routes, sources
}

// addMatchRoutes adds one match route per ORed match, each with its own copy
// of the rule's backends.
func (p *parser) addMatchRoutes(field string, matches []mesh.MatchRoute, backends []mesh.Backend) {
	for _, m := range matches {
		m.Backends = slices.Clone(backends)
		p.ts.MatchRoutes = append(p.ts.MatchRoutes, m)
		p.sources = append(p.sources, field)
	}
}

// matchesEverything: no matches, or one whose only condition is the prefix
// "/" (ORed matches: one is enough).
func matchesEverything(matches []mesh.MatchRoute) bool {
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

// vsMatches parses the ORed matches of one http route. The pair exact "/p"
// plus prefix "/p/" with equal other conditions is the renderer's path
// prefix "/p"; any other uri prefix but "/" is a plain string prefix, which
// the segment prefix of the resource cannot express.
func (p *parser) vsMatches(field string, v any) ([]mesh.MatchRoute, error) {
	vs := p.route
	if v == nil {
		return nil, nil
	}
	items, err := list(vs, field, v)
	if err != nil {
		return nil, err
	}
	var out []mesh.MatchRoute
	for j, item := range items {
		mf := fmt.Sprintf("%s[%d]", field, j)
		m, err := object(vs, mf, item)
		if err != nil {
			return nil, err
		}
		if err := checkKeys(vs, mf, m, "name", "uri", "headers", "method"); err != nil {
			return nil, err
		}
		var r mesh.MatchRoute
		if h, ok := m["headers"]; ok {
			headers, err := object(vs, mf+".headers", h)
			if err != nil {
				return nil, err
			}
			for _, name := range sortedKeys(headers) {
				t, value, err := p.stringMatch(mf+".headers."+name, headers[name])
				if err != nil {
					return nil, err
				}
				r.Headers = append(r.Headers, mesh.HeaderMatch{Name: name, Value: value, Type: t})
			}
		}
		if method, ok := m["method"]; ok {
			t, value, err := p.stringMatch(mf+".method", method)
			if err != nil {
				return nil, err
			}
			if t != mesh.MatchExact {
				return nil, notLossless(vs, mf+".method", "is a %s match; mesh_traffic_split matches the method exactly", t)
			}
			r.Method = value
		}
		if uri, ok := m["uri"]; ok {
			t, value, err := p.stringMatch(mf+".uri", uri)
			if err != nil {
				return nil, err
			}
			r.Path = &mesh.PathMatch{Type: t, Value: value}
		}
		out = append(out, r)
	}
	if pair, ok := segmentPrefixPair(out); ok {
		return []mesh.MatchRoute{pair}, nil
	}
	for j, r := range out {
		if r.Path != nil && r.Path.Type == mesh.MatchPrefix && r.Path.Value != "/" {
			segment := strings.TrimSuffix(r.Path.Value, "/")
			return nil, notLossless(vs, fmt.Sprintf("%s[%d].uri.prefix", field, j),
				"%q is a plain string prefix (it also matches %q), while a mesh_traffic_split path prefix matches whole path segments and renders as exact %q plus prefix %q; rewrite the match as that pair, or as a regex, before importing",
				r.Path.Value, r.Path.Value+"x", segment, segment+"/")
		}
	}
	return out, nil
}

// segmentPrefixPair undoes the renderer's path prefix: {uri exact /p} and
// {uri prefix /p/}, in either order, with the same headers and method.
func segmentPrefixPair(ms []mesh.MatchRoute) (mesh.MatchRoute, bool) {
	if len(ms) != 2 || ms[0].Path == nil || ms[1].Path == nil {
		return mesh.MatchRoute{}, false
	}
	exact, prefix := ms[0], ms[1]
	if exact.Path.Type != mesh.MatchExact {
		exact, prefix = prefix, exact
	}
	if exact.Path.Type != mesh.MatchExact || prefix.Path.Type != mesh.MatchPrefix ||
		exact.Path.Value == "/" || prefix.Path.Value != exact.Path.Value+"/" ||
		exact.Method != prefix.Method || !reflect.DeepEqual(exact.Headers, prefix.Headers) {
		return mesh.MatchRoute{}, false
	}
	exact.Path = &mesh.PathMatch{Type: mesh.MatchPrefix, Value: exact.Path.Value}
	return exact, true
}

// stringMatch reads an Istio StringMatch: exactly one of exact, prefix, regex.
func (p *parser) stringMatch(field string, v any) (mesh.MatchType, string, error) {
	vs := p.route
	m, err := object(vs, field, v)
	if err != nil {
		return "", "", err
	}
	if err := checkKeys(vs, field, m, "exact", "prefix", "regex"); err != nil {
		return "", "", err
	}
	if len(m) != 1 {
		return "", "", notLossless(vs, field, "has %d of exact, prefix and regex; mesh_traffic_split needs exactly one (a presence match has none: use regex \".*\" or \".+\")", len(m))
	}
	for _, t := range mesh.MatchTypeValues {
		if value, ok := m[string(t)]; ok {
			s, err := str(vs, field+"."+string(t), value)
			return t, s, err
		}
	}
	panic("unreachable: checkKeys allowed only the match types")
}

// vsDestinations parses the weighted destinations of one http route. Ports
// left out are filled by resolvePorts.
func (p *parser) vsDestinations(field string, v any) ([]mesh.Backend, error) {
	vs := p.route
	items, err := list(vs, field, v)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, notLossless(vs, field, "is empty; mesh_traffic_split needs at least one destination per rule")
	}
	out := make([]mesh.Backend, 0, len(items))
	weighted := make([]bool, 0, len(items))
	for k, item := range items {
		df := fmt.Sprintf("%s[%d]", field, k)
		d, err := object(vs, df, item)
		if err != nil {
			return nil, err
		}
		if err := checkKeys(vs, df, d, "destination", "weight"); err != nil {
			return nil, err
		}
		dest, err := object(vs, df+".destination", d["destination"])
		if err != nil {
			return nil, err
		}
		if err := checkKeys(vs, df+".destination", dest, "host", "subset", "port"); err != nil {
			return nil, err
		}
		var b mesh.Backend
		if b.Service, err = p.hostService(vs, df+".destination.host", dest["host"]); err != nil {
			return nil, err
		}
		if port, ok := dest["port"]; ok {
			pm, err := object(vs, df+".destination.port", port)
			if err != nil {
				return nil, err
			}
			if err := checkKeys(vs, df+".destination.port", pm, "number"); err != nil {
				return nil, err
			}
			if n, ok := pm["number"]; ok {
				if b.Port, err = integer(vs, df+".destination.port.number", n); err != nil {
					return nil, err
				}
			}
		}
		if subset, ok := dest["subset"]; ok {
			name, err := str(vs, df+".destination.subset", subset)
			if err != nil {
				return nil, err
			}
			if b.SubsetLabels, err = p.subsetLabels(df+".destination.subset", b.Service, name); err != nil {
				return nil, err
			}
		}
		w, ok := d["weight"]
		if ok {
			if b.Weight, err = integer(vs, df+".weight", w); err != nil {
				return nil, err
			}
		}
		weighted = append(weighted, ok)
		out = append(out, b)
	}
	// Istio: a lone destination takes all traffic, a missing weight among
	// several is 0.
	if len(out) == 1 && !weighted[0] {
		out[0].Weight = mesh.MaxPercentWeight
	}
	return out, nil
}

// destinationRules indexes the subsets of every DestinationRule by the
// Service of its host, whatever the rule's name.
func (p *parser) destinationRules() error {
	p.subsets = map[string]map[string]map[string]string{}
	owner := map[string]*unstructured.Unstructured{}
	for _, dr := range p.rules {
		spec, err := p.spec(dr)
		if err != nil {
			return err
		}
		if err := checkKeys(dr, "spec", spec, "host", "subsets"); err != nil {
			return err
		}
		svc, err := p.hostService(dr, "spec.host", spec["host"])
		if err != nil {
			return err
		}
		if other := owner[svc]; other != nil {
			return fmt.Errorf("%s and %s both configure Service %q: import cannot tell which subsets apply; pass only the DestinationRule the route uses",
				describe(other), describe(dr), svc)
		}
		owner[svc] = dr
		p.subsets[svc] = map[string]map[string]string{}
		var items []any
		if v, ok := spec["subsets"]; ok {
			if items, err = list(dr, "spec.subsets", v); err != nil {
				return err
			}
		}
		for i, item := range items {
			sf := fmt.Sprintf("spec.subsets[%d]", i)
			s, err := object(dr, sf, item)
			if err != nil {
				return err
			}
			if err := checkKeys(dr, sf, s, "name", "labels"); err != nil {
				return err
			}
			name, err := str(dr, sf+".name", s["name"])
			if err != nil {
				return err
			}
			var labels map[string]string
			if v, ok := s["labels"]; ok {
				m, err := object(dr, sf+".labels", v)
				if err != nil {
					return err
				}
				for k, lv := range m {
					value, ok := lv.(string)
					if !ok {
						return malformed(dr, sf+".labels."+k, lv, "a string")
					}
					if labels == nil {
						labels = map[string]string{}
					}
					labels[k] = value
				}
			}
			p.subsets[svc][name] = labels
		}
	}
	return nil
}

func (p *parser) subsetLabels(field, service, name string) (map[string]string, error) {
	labels, ok := p.subsets[service][name]
	if !ok {
		return nil, fmt.Errorf("%s: %s = %q names a subset that no DestinationRule among the objects defines for Service %q; pass the DestinationRule that defines it",
			describe(p.route), field, name, service)
	}
	return labels, nil
}

// hostService reads a Service host of the route's namespace: "reviews",
// "reviews.bookinfo", "reviews.bookinfo.svc" or the FQDN.
func (p *parser) hostService(obj *unstructured.Unstructured, field string, v any) (string, error) {
	svc, ns, err := p.hostServiceIn(obj, field, v)
	if err == nil && ns != p.ns {
		return "", notLossless(obj, field, "%q is in namespace %q (or is not a cluster Service at all); mesh_traffic_split only routes to Services in the route's namespace %q",
			v, ns, p.ns)
	}
	return svc, err
}

// hostServiceIn reads a Service host of any namespace, as a mirror may be.
func (p *parser) hostServiceIn(obj *unstructured.Unstructured, field string, v any) (service, namespace string, err error) {
	host, err := str(obj, field, v)
	if err != nil {
		return "", "", err
	}
	fqdn := strings.HasSuffix(host, clusterDomainSuffix)
	parts := strings.Split(strings.TrimSuffix(host, clusterDomainSuffix), ".")
	ns := p.ns
	switch {
	case len(parts) == 1 && !fqdn:
	case len(parts) == 2, len(parts) == 3 && parts[2] == "svc" && !fqdn:
		ns = parts[1]
	default:
		return "", "", notLossless(obj, field, "%q is not a Service of the cluster; mesh_traffic_split routes to Services of the route's namespace (%q, %q or the FQDN %q)",
			host, "<service>", "<service>."+p.ns, mesh.ServiceFQDN("<service>", p.ns))
	}
	if parts[0] == "" || strings.Contains(host, "*") {
		return "", "", notLossless(obj, field, "%q is not a Service of the cluster; mesh_traffic_split routes to Services of the route's namespace", host)
	}
	return parts[0], ns, nil
}

// resolvePorts gives the parent the port of its first destination (else the
// first port of any destination, else the Service's only port) and every
// destination without port the parent's, as Normalize does.
func (p *parser) resolvePorts() error {
	all := slices.Clone(p.ts.Backends)
	for _, r := range p.ts.MatchRoutes {
		all = append(all, r.Backends...)
	}
	for _, b := range all {
		if b.Service == p.ts.Service && b.Port != 0 {
			p.ts.Port = b.Port
			break
		}
	}
	for _, b := range all {
		if p.ts.Port == 0 && b.Port != 0 {
			p.ts.Port = b.Port
		}
	}
	if p.ts.Port == 0 && len(p.svcs) == 1 && p.svcs[0].GetName() == p.ts.Service {
		if ports, _, _ := unstructured.NestedSlice(p.svcs[0].Object, "spec", "ports"); len(ports) == 1 {
			if m, ok := ports[0].(map[string]any); ok {
				p.ts.Port, _ = toInt(m["port"])
			}
		}
	}
	if p.ts.Port == 0 {
		return fmt.Errorf("%s: the route has no port: no destination sets port.number, so import cannot pick one; set port.number on the destinations (or pass Service %q if it has a single port)",
			describe(p.route), p.ts.Service)
	}
	return nil
}

// checkPrecedence fails when the renderer, which orders a VirtualService's
// match routes by Gateway API precedence, would reorder the imported ones:
// a VirtualService is first-match, so that could change which route wins.
func (p *parser) checkPrecedence() error {
	if len(p.ts.MatchRoutes) < 2 {
		return nil
	}
	objs, err := TrafficSplit(p.ts)
	if err != nil {
		return fmt.Errorf("%s: rendering the imported split: %w", describe(p.route), err)
	}
	http, _, _ := unstructured.NestedSlice(objs[len(objs)-1].Object, "spec", "http")
	for k, r := range http {
		name, _, _ := unstructured.NestedString(r.(map[string]any), "name")
		var index int
		// Routes split from the ORed matches of one http route share their
		// destinations, so their order among themselves does not matter.
		if _, err := fmt.Sscanf(name, "match-%d", &index); err != nil || p.sources[index] == p.liveSources[k] {
			continue
		}
		return notLossless(p.route, "spec.http",
			"is not in Gateway API precedence order (exact path, longest path prefix, regex path, method, most headers), the order mesh_traffic_split renders match routes in, so after import %s would be tried before %s and could take requests that %s wins today; reorder the routes before importing",
			p.sources[index], p.sources[k], p.sources[k])
	}
	return nil
}

// ---- HTTPRoute ----

func (p *parser) httpRoute() error {
	hr := p.route
	spec, err := p.spec(hr)
	if err != nil {
		return err
	}
	if err := checkKeys(hr, "spec", spec, "parentRefs", "rules", "hostnames"); err != nil {
		return err
	}
	if hosts, _ := spec["hostnames"].([]any); len(hosts) > 0 {
		return notLossless(hr, "spec.hostnames", "is set (%v); mesh_traffic_split renders Service-parented routes without hostnames", hosts)
	}
	if err := p.parentRef(spec["parentRefs"]); err != nil {
		return err
	}
	rules, err := list(hr, "spec.rules", spec["rules"])
	if err != nil {
		return err
	}
	defaultRule := ""
	for i, r := range rules {
		field := fmt.Sprintf("spec.rules[%d]", i)
		rule, err := object(hr, field, r)
		if err != nil {
			return err
		}
		if err := checkKeys(hr, field, rule, "name", "matches", "backendRefs", "filters"); err != nil {
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
		if !matchesEverything(matches) {
			if err := p.addRoute(field, matches, backends, mirror); err != nil {
				return err
			}
			continue
		}
		if defaultRule != "" {
			return notLossless(hr, field, "matches every request, as %s does; mesh_traffic_split has one weighted default rule (backends): merge them before importing", defaultRule)
		}
		defaultRule = field
		p.ts.Backends = backends
		if err := p.defaultMirror(field, mirror); err != nil {
			return err
		}
	}
	if defaultRule == "" {
		return notLossless(hr, "spec.rules", "has no rule that matches every request, so unmatched requests get no route; mesh_traffic_split always renders a weighted default rule (backends): add a rule without matches")
	}
	return p.checkMirrorRoute()
}

// parentRef reads the one Service parent (GAMMA) and its port.
func (p *parser) parentRef(v any) error {
	hr := p.route
	refs, err := list(hr, "spec.parentRefs", v)
	if err != nil {
		return err
	}
	if len(refs) != 1 {
		return notLossless(hr, "spec.parentRefs", "has %d parents; mesh_traffic_split attaches its route to exactly one Service", len(refs))
	}
	const field = "spec.parentRefs[0]"
	ref, err := object(hr, field, refs[0])
	if err != nil {
		return err
	}
	if err := checkKeys(hr, field, ref, "group", "kind", "name", "namespace", "port"); err != nil {
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
		return notLossless(hr, field, "refers to a %s (group %q), not to a Service; mesh_traffic_split only renders Service-parented (GAMMA) routes", kind, group)
	}
	if ns, ok := ref["namespace"]; ok && ns != p.ns {
		return notLossless(hr, field+".namespace", "is %v; mesh_traffic_split attaches to a Service in the route's namespace %q", ns, p.ns)
	}
	if p.ts.Service, err = str(hr, field+".name", ref["name"]); err != nil {
		return err
	}
	port, ok := ref["port"]
	if !ok {
		return notLossless(hr, field+".port", "is not set, so the route applies to every port of Service %q, while mesh_traffic_split attaches to one port; set the port before importing", p.ts.Service)
	}
	p.ts.Port, err = integer(hr, field+".port", port)
	return err
}

// httpMatches parses the ORed matches of one rule, API defaults included
// (a path without type is a PathPrefix, without value "/"; a header without
// type is Exact).
func (p *parser) httpMatches(field string, v any) ([]mesh.MatchRoute, error) {
	hr := p.route
	if v == nil {
		return nil, nil
	}
	items, err := list(hr, field, v)
	if err != nil {
		return nil, err
	}
	pathTypes := map[string]mesh.MatchType{"Exact": mesh.MatchExact, "PathPrefix": mesh.MatchPrefix, "RegularExpression": mesh.MatchRegex}
	var out []mesh.MatchRoute
	for j, item := range items {
		mf := fmt.Sprintf("%s[%d]", field, j)
		m, err := object(hr, mf, item)
		if err != nil {
			return nil, err
		}
		if err := checkKeys(hr, mf, m, "path", "headers", "method"); err != nil {
			return nil, err
		}
		var r mesh.MatchRoute
		if v, ok := m["path"]; ok {
			path, err := object(hr, mf+".path", v)
			if err != nil {
				return nil, err
			}
			if err := checkKeys(hr, mf+".path", path, "type", "value"); err != nil {
				return nil, err
			}
			pt, value := "PathPrefix", "/"
			if v, ok := path["type"]; ok {
				if pt, err = str(hr, mf+".path.type", v); err != nil {
					return nil, err
				}
			}
			if v, ok := path["value"]; ok {
				if value, err = str(hr, mf+".path.value", v); err != nil {
					return nil, err
				}
			}
			t, ok := pathTypes[pt]
			if !ok {
				return nil, notLossless(hr, mf+".path.type", "is %q; mesh_traffic_split knows Exact, PathPrefix and RegularExpression", pt)
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
			if r.Method, err = str(hr, mf+".method", v); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func (p *parser) httpHeaders(field string, v any) ([]mesh.HeaderMatch, error) {
	hr := p.route
	items, err := list(hr, field, v)
	if err != nil {
		return nil, err
	}
	var out []mesh.HeaderMatch
	for k, item := range items {
		hf := fmt.Sprintf("%s[%d]", field, k)
		h, err := object(hr, hf, item)
		if err != nil {
			return nil, err
		}
		if err := checkKeys(hr, hf, h, "name", "type", "value"); err != nil {
			return nil, err
		}
		var m mesh.HeaderMatch
		if m.Name, err = str(hr, hf+".name", h["name"]); err != nil {
			return nil, err
		}
		if m.Value, err = str(hr, hf+".value", h["value"]); err != nil {
			return nil, err
		}
		t := "Exact"
		if v, ok := h["type"]; ok {
			if t, err = str(hr, hf+".type", v); err != nil {
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
			return nil, notLossless(hr, hf+".type", "is %q; mesh_traffic_split knows Exact and RegularExpression", t)
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
func (p *parser) backendRefs(field string, v any) ([]mesh.Backend, error) {
	hr := p.route
	var items []any
	if v != nil {
		var err error
		if items, err = list(hr, field, v); err != nil {
			return nil, err
		}
	}
	if len(items) == 0 {
		return nil, notLossless(hr, field, "is empty, so the requests the rule matches get an error response; mesh_traffic_split needs at least one backend per rule")
	}
	out := make([]mesh.Backend, 0, len(items))
	for k, item := range items {
		bf := fmt.Sprintf("%s[%d]", field, k)
		ref, err := object(hr, bf, item)
		if err != nil {
			return nil, err
		}
		if err := checkKeys(hr, bf, ref, "group", "kind", "name", "namespace", "port", "weight"); err != nil {
			return nil, err
		}
		if g, ok := ref["group"]; ok && g != "" {
			return nil, notLossless(hr, bf+".group", "is %q; mesh_traffic_split only routes to core Services", g)
		}
		if kind, ok := ref["kind"]; ok && kind != "Service" {
			return nil, notLossless(hr, bf+".kind", "is %q; mesh_traffic_split only routes to Services", kind)
		}
		if ns, ok := ref["namespace"]; ok && ns != p.ns {
			return nil, notLossless(hr, bf+".namespace", "is %v; mesh_traffic_split only routes to Services in the route's namespace %q", ns, p.ns)
		}
		b := mesh.Backend{Port: p.ts.Port, Weight: 1}
		if b.Service, err = str(hr, bf+".name", ref["name"]); err != nil {
			return nil, err
		}
		if port, ok := ref["port"]; ok {
			if b.Port, err = integer(hr, bf+".port", port); err != nil {
				return nil, err
			}
		}
		if w, ok := ref["weight"]; ok {
			if b.Weight, err = integer(hr, bf+".weight", w); err != nil {
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

func (p *parser) spec(obj *unstructured.Unstructured) (map[string]any, error) {
	spec, ok := obj.Object["spec"]
	if !ok {
		return nil, fmt.Errorf("%s has no spec: pass the object as read from the cluster", describe(obj))
	}
	return object(obj, "spec", spec)
}

func describe(obj *unstructured.Unstructured) string {
	return fmt.Sprintf("%s %s/%s", obj.GetKind(), obj.GetNamespace(), obj.GetName())
}

// notLossless is the error for a shape the resource cannot represent.
func notLossless(obj *unstructured.Unstructured, field, format string, args ...any) error {
	return fmt.Errorf("%s cannot be imported losslessly: %s %s", describe(obj), field, fmt.Sprintf(format, args...))
}

// checkKeys rejects the fields of m that the resource has no attribute for.
func checkKeys(obj *unstructured.Unstructured, field string, m map[string]any, allowed ...string) error {
	for _, k := range sortedKeys(m) {
		if !slices.Contains(allowed, k) {
			return notLossless(obj, field+"."+k,
				"is set, and mesh_traffic_split has no attribute for it; remove it from the object before importing, or keep managing the object outside Terraform")
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func malformed(obj *unstructured.Unstructured, field string, v any, want string) error {
	return fmt.Errorf("%s: %s is %T (%v), want %s", describe(obj), field, v, v, want)
}

func object(obj *unstructured.Unstructured, field string, v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, malformed(obj, field, v, "an object")
	}
	return m, nil
}

func list(obj *unstructured.Unstructured, field string, v any) ([]any, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, malformed(obj, field, v, "a list")
	}
	return l, nil
}

func str(obj *unstructured.Unstructured, field string, v any) (string, error) {
	s, ok := v.(string)
	if !ok || s == "" {
		return "", malformed(obj, field, v, "a non-empty string")
	}
	return s, nil
}

func integer(obj *unstructured.Unstructured, field string, v any) (int64, error) {
	n, ok := toInt(v)
	if !ok {
		return 0, malformed(obj, field, v, "an integer")
	}
	return n, nil
}

// toInt accepts the number types unstructured objects carry: int64 from
// JSON, float64 or int when built by hand.
func toInt(v any) (int64, bool) {
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
func number(obj *unstructured.Unstructured, field string, v any) (float64, error) {
	if f, ok := v.(float64); ok {
		return f, nil
	}
	n, ok := toInt(v)
	if !ok {
		return 0, malformed(obj, field, v, "a number")
	}
	return float64(n), nil
}
