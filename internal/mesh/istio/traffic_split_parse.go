package istio

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/gatewayapi"
)

// clusterDomainSuffix ends the FQDN of every cluster Service.
const clusterDomainSuffix = ".svc." + mesh.ClusterDomain

// ParseTrafficSplit is the inverse of RenderTrafficSplit, for terraform
// import: it rebuilds the Normalize()d intent of one split from its live
// objects. objs hold one route, either a VirtualService (networking.istio.io)
// with the DestinationRules its subsets are defined in, or a Service-parented
// HTTPRoute (gateway.networking.k8s.io, read by package gatewayapi); for
// istio-ambient also, optionally, the waypoint Gateway and the parent Service
// (whose istio.io/use-waypoint label names the waypoint). target chooses the
// data plane, which the objects alone cannot tell.
//
// Objects the provider did not create parse too (short hosts, destinations
// without port, DestinationRules of any name, API-server defaults). Whatever
// the resource cannot represent, so that re-rendering would change the
// routing, is an error naming the object and the field; and the intent read
// is rendered again and compared with the live objects (see prove).
//
// Some shapes render alike, so the parse picks one: weights that sum to 100
// in every rule read as "percent", others as "relative"; an HTTPRoute header
// regex of the form "^<quoted prefix>.*" reads as a prefix match; a
// VirtualService's lower-cased header names stay lower-cased.
func ParseTrafficSplit(objs []*unstructured.Unstructured, target mesh.Target) (mesh.TrafficSplit, error) {
	p, err := readSplit(objs, target)
	if err != nil {
		return mesh.TrafficSplit{}, err
	}
	if err := p.decodeStrictly(objs); err != nil {
		return mesh.TrafficSplit{}, err
	}
	if err := p.prove(); err != nil {
		return mesh.TrafficSplit{}, err
	}
	return p.TS, nil
}

// splitParser is the reader of package gatewayapi, with what only Istio's
// objects need.
type splitParser struct {
	*gatewayapi.SplitReader
}

// readSplit reads the split; its messages say what the resource can
// represent, so it runs before the strict decoding and the proof.
func readSplit(objs []*unstructured.Unstructured, target mesh.Target) (*splitParser, error) {
	if target != mesh.TargetIstioSidecar && target != mesh.TargetIstioAmbient {
		return nil, fmt.Errorf("istio reads splits for %s and %s, not %q", mesh.TargetIstioSidecar, mesh.TargetIstioAmbient, target)
	}
	p := &splitParser{&gatewayapi.SplitReader{Target: target}}
	if err := p.Classify(objs); err != nil {
		return nil, err
	}
	p.Begin()
	var err error
	if p.IsVirtualService() {
		err = p.virtualService()
	} else {
		err = p.ReadHTTPRoute()
	}
	if err == nil {
		err = p.Finish()
	}
	if err != nil {
		return nil, err
	}
	if target == mesh.TargetIstioAmbient {
		if p.TS.Waypoint, err = p.waypoint(); err != nil {
			return nil, err
		}
	}
	p.TS.Normalize()
	if p.IsVirtualService() {
		if err := p.checkPrecedence(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// waypoint: "create" when the Gateway carries the route's owner label, the
// name from the Gateway or else from the Service's use-waypoint label.
func (p *splitParser) waypoint() (mesh.Waypoint, error) {
	wp := mesh.Waypoint{Mode: mesh.WaypointRequire, Name: mesh.DefaultWaypointName}
	label := ""
	if len(p.Services) == 1 {
		label = p.Services[0].GetLabels()[mesh.LabelUseWaypoint]
		if label != "" {
			wp.Name = label
		}
	}
	if len(p.Gateways) == 0 {
		return wp, nil
	}
	gw := p.Gateways[0]
	if class, _, _ := unstructured.NestedString(gw.Object, "spec", "gatewayClassName"); class != WaypointClassName {
		return wp, fmt.Errorf("%s has gatewayClassName %q, not %q: it is not a waypoint; leave it out of the import", gatewayapi.Describe(gw), class, WaypointClassName)
	}
	if label != "" && label != gw.GetName() {
		return wp, fmt.Errorf("%s labels %s=%q, but the Gateway among the objects is %q: pass the waypoint the Service uses",
			gatewayapi.Describe(p.Services[0]), mesh.LabelUseWaypoint, label, gw.GetName())
	}
	wp.Name = gw.GetName()
	if owner := gw.GetLabels()[mesh.LabelOwner]; owner != "" && owner == p.TS.Owner {
		wp.Mode = mesh.WaypointCreate
	}
	return wp, nil
}

// ---- VirtualService ----

func (p *splitParser) virtualService() error {
	vs := p.Route
	spec, err := p.Spec(vs)
	if err != nil {
		return err
	}
	if err := gatewayapi.CheckKeys(vs, "spec", spec, "hosts", "http", "gateways"); err != nil {
		return err
	}
	if gws, ok := spec["gateways"]; ok && !reflect.DeepEqual(gws, []any{"mesh"}) {
		return gatewayapi.NotLossless(vs, "spec.gateways", "binds the route to gateways %v; mesh_traffic_split only renders mesh (sidecar and waypoint) routing", gws)
	}
	hosts, _ := spec["hosts"].([]any)
	if len(hosts) != 1 {
		return gatewayapi.NotLossless(vs, "spec.hosts", "has %d hosts %v; mesh_traffic_split routes exactly one Service, so split the VirtualService into one per host", len(hosts), hosts)
	}
	if p.TS.Service, err = p.hostService(vs, "spec.hosts[0]", hosts[0]); err != nil {
		return err
	}
	if err := p.destinationRules(); err != nil {
		return err
	}
	routes, err := gatewayapi.List(vs, "spec.http", spec["http"])
	if err != nil {
		return err
	}
	if len(routes) == 0 {
		return gatewayapi.NotLossless(vs, "spec.http", "is empty; there is no HTTP routing to import")
	}
	// Each match route's index in the configuration, from its name.
	order, ordered := []int{}, true
	for i, r := range routes {
		field := fmt.Sprintf("spec.http[%d]", i)
		route, err := gatewayapi.Object(vs, field, r)
		if err != nil {
			return err
		}
		if err := gatewayapi.CheckKeys(vs, field, route, "name", "match", "route", "mirrors"); err != nil {
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
		if gatewayapi.MatchesEverything(matches) {
			if i != len(routes)-1 {
				return gatewayapi.NotLossless(vs, field, "matches every request, so the %d route(s) after it are never used; remove them before importing", len(routes)-1-i)
			}
			p.TS.Backends = backends
			if err := p.DefaultMirror(field, mirror); err != nil {
				return err
			}
			continue
		}
		before := len(p.TS.MatchRoutes)
		if err := p.AddRoute(field, matches, backends, mirror); err != nil {
			return err
		}
		if index, ok := configIndex(route["name"]); ok && ordered && len(p.TS.MatchRoutes) == before+1 {
			order = append(order, index)
		} else {
			ordered = false
		}
	}
	if !ordered {
		order = nil
	}
	p.inConfigOrder(order)
	if p.TS.Backends == nil {
		return gatewayapi.NotLossless(vs, "spec.http", "has no route that matches every request, so unmatched requests fall through to Service %q itself; mesh_traffic_split always renders a weighted default rule (backends): add a last route without match",
			p.TS.Service)
	}
	if err := p.resolvePorts(); err != nil {
		return err
	}
	return p.CheckMirrorRoute()
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
func (p *splitParser) inConfigOrder(order []int) {
	p.LiveSources = p.Sources
	n := len(p.TS.MatchRoutes)
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
		routes[i], sources[i] = p.TS.MatchRoutes[k], p.Sources[k]
	}
	p.TS.MatchRoutes, p.Sources = routes, sources
}

// vsMatches parses the ORed matches of one http route. The pair exact "/p"
// plus prefix "/p/" with equal other conditions is the renderer's path
// prefix "/p"; any other uri prefix but "/" is a plain string prefix, which
// the segment prefix of the resource cannot express.
func (p *splitParser) vsMatches(field string, v any) ([]mesh.MatchRoute, error) {
	vs := p.Route
	if v == nil {
		return nil, nil
	}
	items, err := gatewayapi.List(vs, field, v)
	if err != nil {
		return nil, err
	}
	var out []mesh.MatchRoute
	for j, item := range items {
		mf := fmt.Sprintf("%s[%d]", field, j)
		m, err := gatewayapi.Object(vs, mf, item)
		if err != nil {
			return nil, err
		}
		if err := gatewayapi.CheckKeys(vs, mf, m, "name", "uri", "headers", "method"); err != nil {
			return nil, err
		}
		var r mesh.MatchRoute
		if h, ok := m["headers"]; ok {
			headers, err := gatewayapi.Object(vs, mf+".headers", h)
			if err != nil {
				return nil, err
			}
			for _, name := range gatewayapi.SortedKeys(headers) {
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
				return nil, gatewayapi.NotLossless(vs, mf+".method", "is a %s match; mesh_traffic_split matches the method exactly", t)
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
			return nil, gatewayapi.NotLossless(vs, fmt.Sprintf("%s[%d].uri.prefix", field, j),
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
func (p *splitParser) stringMatch(field string, v any) (mesh.MatchType, string, error) {
	vs := p.Route
	m, err := gatewayapi.Object(vs, field, v)
	if err != nil {
		return "", "", err
	}
	if err := gatewayapi.CheckKeys(vs, field, m, "exact", "prefix", "regex"); err != nil {
		return "", "", err
	}
	if len(m) != 1 {
		return "", "", gatewayapi.NotLossless(vs, field, "has %d of exact, prefix and regex; mesh_traffic_split needs exactly one (a presence match has none: use regex \".*\" or \".+\")", len(m))
	}
	for _, t := range mesh.MatchTypeValues {
		if value, ok := m[string(t)]; ok {
			s, err := gatewayapi.Str(vs, field+"."+string(t), value)
			return t, s, err
		}
	}
	panic("unreachable: checkKeys allowed only the match types")
}

// vsDestinations parses the weighted destinations of one http route. Ports
// left out are filled by resolvePorts.
func (p *splitParser) vsDestinations(field string, v any) ([]mesh.Backend, error) {
	vs := p.Route
	items, err := gatewayapi.List(vs, field, v)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, gatewayapi.NotLossless(vs, field, "is empty; mesh_traffic_split needs at least one destination per rule")
	}
	out := make([]mesh.Backend, 0, len(items))
	weighted := make([]bool, 0, len(items))
	for k, item := range items {
		df := fmt.Sprintf("%s[%d]", field, k)
		d, err := gatewayapi.Object(vs, df, item)
		if err != nil {
			return nil, err
		}
		if err := gatewayapi.CheckKeys(vs, df, d, "destination", "weight"); err != nil {
			return nil, err
		}
		dest, err := gatewayapi.Object(vs, df+".destination", d["destination"])
		if err != nil {
			return nil, err
		}
		if err := gatewayapi.CheckKeys(vs, df+".destination", dest, "host", "subset", "port"); err != nil {
			return nil, err
		}
		var b mesh.Backend
		if b.Service, err = p.hostService(vs, df+".destination.host", dest["host"]); err != nil {
			return nil, err
		}
		if port, ok := dest["port"]; ok {
			pm, err := gatewayapi.Object(vs, df+".destination.port", port)
			if err != nil {
				return nil, err
			}
			if err := gatewayapi.CheckKeys(vs, df+".destination.port", pm, "number"); err != nil {
				return nil, err
			}
			if n, ok := pm["number"]; ok {
				if b.Port, err = gatewayapi.Integer(vs, df+".destination.port.number", n); err != nil {
					return nil, err
				}
			}
		}
		if subset, ok := dest["subset"]; ok {
			name, err := gatewayapi.Str(vs, df+".destination.subset", subset)
			if err != nil {
				return nil, err
			}
			if b.SubsetLabels, err = p.subsetLabels(df+".destination.subset", b.Service, name); err != nil {
				return nil, err
			}
		}
		w, ok := d["weight"]
		if ok {
			if b.Weight, err = gatewayapi.Integer(vs, df+".weight", w); err != nil {
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
func (p *splitParser) destinationRules() error {
	p.Subsets = map[string]map[string]map[string]string{}
	owner := map[string]*unstructured.Unstructured{}
	for _, dr := range p.Rules {
		spec, err := p.Spec(dr)
		if err != nil {
			return err
		}
		if err := gatewayapi.CheckKeys(dr, "spec", spec, "host", "subsets"); err != nil {
			return err
		}
		svc, err := p.hostService(dr, "spec.host", spec["host"])
		if err != nil {
			return err
		}
		if other := owner[svc]; other != nil {
			return fmt.Errorf("%s and %s both configure Service %q: import cannot tell which subsets apply; pass only the DestinationRule the route uses",
				gatewayapi.Describe(other), gatewayapi.Describe(dr), svc)
		}
		owner[svc] = dr
		p.Subsets[svc] = map[string]map[string]string{}
		var items []any
		if v, ok := spec["subsets"]; ok {
			if items, err = gatewayapi.List(dr, "spec.subsets", v); err != nil {
				return err
			}
		}
		for i, item := range items {
			sf := fmt.Sprintf("spec.subsets[%d]", i)
			s, err := gatewayapi.Object(dr, sf, item)
			if err != nil {
				return err
			}
			if err := gatewayapi.CheckKeys(dr, sf, s, "name", "labels"); err != nil {
				return err
			}
			name, err := gatewayapi.Str(dr, sf+".name", s["name"])
			if err != nil {
				return err
			}
			var labels map[string]string
			if v, ok := s["labels"]; ok {
				m, err := gatewayapi.Object(dr, sf+".labels", v)
				if err != nil {
					return err
				}
				for k, lv := range m {
					value, ok := lv.(string)
					if !ok {
						return gatewayapi.Malformed(dr, sf+".labels."+k, lv, "a string")
					}
					if labels == nil {
						labels = map[string]string{}
					}
					labels[k] = value
				}
			}
			p.Subsets[svc][name] = labels
		}
	}
	return nil
}

func (p *splitParser) subsetLabels(field, service, name string) (map[string]string, error) {
	labels, ok := p.Subsets[service][name]
	if !ok {
		return nil, fmt.Errorf("%s: %s = %q names a subset that no DestinationRule among the objects defines for Service %q; pass the DestinationRule that defines it",
			gatewayapi.Describe(p.Route), field, name, service)
	}
	return labels, nil
}

// hostService reads a Service host of the route's namespace: "reviews",
// "reviews.bookinfo", "reviews.bookinfo.svc" or the FQDN.
func (p *splitParser) hostService(obj *unstructured.Unstructured, field string, v any) (string, error) {
	svc, ns, err := p.hostServiceIn(obj, field, v)
	if err == nil && ns != p.NS {
		return "", gatewayapi.NotLossless(obj, field, "%q is in namespace %q (or is not a cluster Service at all); mesh_traffic_split only routes to Services in the route's namespace %q",
			v, ns, p.NS)
	}
	return svc, err
}

// hostServiceIn reads a Service host of any namespace, as a mirror may be.
func (p *splitParser) hostServiceIn(obj *unstructured.Unstructured, field string, v any) (service, namespace string, err error) {
	host, err := gatewayapi.Str(obj, field, v)
	if err != nil {
		return "", "", err
	}
	fqdn := strings.HasSuffix(host, clusterDomainSuffix)
	parts := strings.Split(strings.TrimSuffix(host, clusterDomainSuffix), ".")
	ns := p.NS
	switch {
	case len(parts) == 1 && !fqdn:
	case len(parts) == 2, len(parts) == 3 && parts[2] == "svc" && !fqdn:
		ns = parts[1]
	default:
		return "", "", gatewayapi.NotLossless(obj, field, "%q is not a Service of the cluster; mesh_traffic_split routes to Services of the route's namespace (%q, %q or the FQDN %q)",
			host, "<service>", "<service>."+p.NS, mesh.ServiceFQDN("<service>", p.NS))
	}
	if parts[0] == "" || strings.Contains(host, "*") {
		return "", "", gatewayapi.NotLossless(obj, field, "%q is not a Service of the cluster; mesh_traffic_split routes to Services of the route's namespace", host)
	}
	return parts[0], ns, nil
}

// resolvePorts gives the parent the port of its first destination (else the
// first port of any destination, else the Service's only port) and every
// destination without port the parent's, as Normalize does.
func (p *splitParser) resolvePorts() error {
	all := slices.Clone(p.TS.Backends)
	for _, r := range p.TS.MatchRoutes {
		all = append(all, r.Backends...)
	}
	for _, b := range all {
		if b.Service == p.TS.Service && b.Port != 0 {
			p.TS.Port = b.Port
			break
		}
	}
	for _, b := range all {
		if p.TS.Port == 0 && b.Port != 0 {
			p.TS.Port = b.Port
		}
	}
	if p.TS.Port == 0 && len(p.Services) == 1 && p.Services[0].GetName() == p.TS.Service {
		if ports, _, _ := unstructured.NestedSlice(p.Services[0].Object, "spec", "ports"); len(ports) == 1 {
			if m, ok := ports[0].(map[string]any); ok {
				p.TS.Port, _ = gatewayapi.ToInt(m["port"])
			}
		}
	}
	if p.TS.Port == 0 {
		return fmt.Errorf("%s: the route has no port: no destination sets port.number, so import cannot pick one; set port.number on the destinations (or pass Service %q if it has a single port)",
			gatewayapi.Describe(p.Route), p.TS.Service)
	}
	return nil
}

// checkPrecedence fails when the renderer, which orders a VirtualService's
// match routes by Gateway API precedence, would reorder the imported ones:
// a VirtualService is first-match, so that could change which route wins.
func (p *splitParser) checkPrecedence() error {
	if len(p.TS.MatchRoutes) < 2 {
		return nil
	}
	objs, err := RenderTrafficSplit(p.TS)
	if err != nil {
		return fmt.Errorf("%s: rendering the imported split: %w", gatewayapi.Describe(p.Route), err)
	}
	http, _, _ := unstructured.NestedSlice(objs[len(objs)-1].Object, "spec", "http")
	for k, r := range http {
		name, _, _ := unstructured.NestedString(r.(map[string]any), "name")
		var index int
		// Routes split from the ORed matches of one http route share their
		// destinations, so their order among themselves does not matter.
		if _, err := fmt.Sscanf(name, "match-%d", &index); err != nil || p.Sources[index] == p.LiveSources[k] {
			continue
		}
		return gatewayapi.NotLossless(p.Route, "spec.http",
			"is not in Gateway API precedence order (exact path, longest path prefix, regex path, method, most headers), the order mesh_traffic_split renders match routes in, so after import %s would be tried before %s and could take requests that %s wins today; reorder the routes before importing",
			p.Sources[index], p.Sources[k], p.Sources[k])
	}
	return nil
}

// vsMirror reads http[].mirrors: one destination, with its percentage.
func (p *splitParser) vsMirror(field string, v any) (*mesh.Mirror, error) {
	vs := p.Route
	if v == nil {
		return nil, nil
	}
	items, err := gatewayapi.List(vs, field, v)
	if err != nil {
		return nil, err
	}
	if len(items) != 1 {
		return nil, gatewayapi.NotLossless(vs, field, "has %d mirrors; a mirror route has exactly one", len(items))
	}
	mf := field + "[0]"
	m, err := gatewayapi.Object(vs, mf, items[0])
	if err != nil {
		return nil, err
	}
	if err := gatewayapi.CheckKeys(vs, mf, m, "destination", "percentage"); err != nil {
		return nil, err
	}
	mirror := &mesh.Mirror{Percentage: mesh.MaxMirrorPercentage}
	if mirror.Destination, err = p.vsMirrorDestination(mf+".destination", m["destination"]); err != nil {
		return nil, err
	}
	if pct, ok := m["percentage"]; ok {
		po, err := gatewayapi.Object(vs, mf+".percentage", pct)
		if err != nil {
			return nil, err
		}
		if err := gatewayapi.CheckKeys(vs, mf+".percentage", po, "value"); err != nil {
			return nil, err
		}
		// An empty percentage is the proto's zero: nothing is mirrored.
		mirror.Percentage = 0
		if value, ok := po["value"]; ok {
			if mirror.Percentage, err = gatewayapi.Number(vs, mf+".percentage.value", value); err != nil {
				return nil, err
			}
		}
	}
	return mirror, nil
}

func (p *splitParser) vsMirrorDestination(field string, v any) (mesh.MirrorDestination, error) {
	vs := p.Route
	var d mesh.MirrorDestination
	dest, err := gatewayapi.Object(vs, field, v)
	if err != nil {
		return d, err
	}
	if err := gatewayapi.CheckKeys(vs, field, dest, "host", "subset", "port"); err != nil {
		return d, err
	}
	if d.Service, d.Namespace, err = p.hostServiceIn(vs, field+".host", dest["host"]); err != nil {
		return d, err
	}
	port, _ := dest["port"].(map[string]any)
	if err := gatewayapi.CheckKeys(vs, field+".port", port, "number"); err != nil {
		return d, err
	}
	if _, ok := port["number"]; !ok {
		return d, gatewayapi.NotLossless(vs, field+".port.number", "is not set; a mirror names its port, so set it before importing")
	}
	if d.Port, err = gatewayapi.Integer(vs, field+".port.number", port["number"]); err != nil {
		return d, err
	}
	if subset, ok := dest["subset"]; ok {
		name, err := gatewayapi.Str(vs, field+".subset", subset)
		if err != nil {
			return d, err
		}
		if d.Namespace != p.NS {
			return d, gatewayapi.NotLossless(vs, field+".subset", "names a subset of Service %s/%s, outside the route's namespace; mirror subsets are defined in the route's namespace", d.Namespace, d.Service)
		}
		if d.SubsetLabels, err = p.subsetLabels(field+".subset", d.Service, name); err != nil {
			return d, err
		}
	}
	return d, nil
}

// decodeStrictly decodes every object of the split into its API type,
// failing on a field the type does not define or an enum value it does
// not know.
func (p *splitParser) decodeStrictly(objs []*unstructured.Unstructured) error {
	for _, obj := range objs {
		var err error
		switch obj.GroupVersionKind().GroupKind() {
		case mesh.GVKVirtualService.GroupKind():
			var vs networkingv1.VirtualService
			if err = gatewayapi.DecodeProto(obj, gatewayapi.SplitResource, "spec", &vs.Spec); err == nil {
				err = gatewayapi.Decode(obj, gatewayapi.SplitResource, &vs)
			}
		case mesh.GVKDestinationRule.GroupKind():
			var dr networkingv1.DestinationRule
			if err = gatewayapi.DecodeProto(obj, gatewayapi.SplitResource, "spec", &dr.Spec); err == nil {
				err = gatewayapi.Decode(obj, gatewayapi.SplitResource, &dr)
			}
		}
		if err != nil {
			return err
		}
	}
	return p.DecodeStrictly(objs)
}

// prove renders the parsed split again and compares it with the live route
// (and, for a VirtualService, the DestinationRules; for a waypoint the split
// creates, the Gateway).
func (p *splitParser) prove() error {
	objs, err := RenderTrafficSplit(p.TS)
	if err != nil {
		return fmt.Errorf("%s: rendering the imported split: %w", gatewayapi.Describe(p.Route), err)
	}
	var route, gateway *unstructured.Unstructured
	var rules []*unstructured.Unstructured
	for _, obj := range objs {
		switch gk := obj.GroupVersionKind().GroupKind(); gk {
		case mesh.GVKVirtualService.GroupKind(), mesh.GVKHTTPRoute.GroupKind():
			route = obj
		case mesh.GVKDestinationRule.GroupKind():
			rules = append(rules, obj)
		case mesh.GVKGateway.GroupKind():
			gateway = obj
		}
	}
	if route == nil || route.GetKind() != p.Route.GetKind() {
		return fmt.Errorf("%s: the imported split renders no %s", gatewayapi.Describe(p.Route), p.Route.GetKind())
	}
	if err := p.proveWaypoint(gateway); err != nil {
		return err
	}
	if !p.IsVirtualService() {
		live, want := p.HTTPRouteEntries(p.Route.Object), p.HTTPRouteEntries(route.Object)
		return p.CompareEntries(live, want)
	}
	liveSubsets, wantSubsets := subsetsByHost(p.Rules), subsetsByHost(rules)
	live, err := p.vsEntries(p.Route.Object, liveSubsets)
	if err != nil {
		return err
	}
	want, err := p.vsEntries(route.Object, wantSubsets)
	if err != nil {
		return err
	}
	if err := p.CompareEntries(live, want); err != nil {
		return err
	}
	return p.proveDestinationRules(rules)
}

// proveWaypoint compares the live waypoint Gateway of a split that creates
// it (the Gateway carries the split's owner label) with the one the split
// renders (what `istioctl waypoint generate --for service` writes): its
// spec, with the listener default the API server adds (routes from the
// same namespace) taken out, and its istio.io/waypoint-for label. The first
// field not covered is the error: importing would change the waypoint. A
// waypoint the split only requires is someone else's, and not compared.
func (p *splitParser) proveWaypoint(rendered *unstructured.Unstructured) error {
	if p.TS.Waypoint.Mode != mesh.WaypointCreate || len(p.Gateways) == 0 {
		return nil
	}
	live := p.Gateways[0]
	if rendered == nil {
		return fmt.Errorf("%s: the imported split renders no waypoint Gateway", gatewayapi.Describe(live))
	}
	var gw gwv1.Gateway
	if err := gatewayapi.Decode(live, gatewayapi.SplitResource, &gw); err != nil {
		return err
	}
	for i := range gw.Spec.Listeners {
		if defaultAllowedRoutes(gw.Spec.Listeners[i].AllowedRoutes) {
			gw.Spec.Listeners[i].AllowedRoutes = nil
		}
	}
	if err := gatewayapi.Covered(live, &gw, rendered, gatewayapi.SplitResource, "spec"); err != nil {
		return err
	}
	have, want := live.GetLabels()[mesh.LabelWaypointFor], rendered.GetLabels()[mesh.LabelWaypointFor]
	if have != want {
		return gatewayapi.NotLossless(live, "metadata.labels."+mesh.LabelWaypointFor, "is %q, and %s would render %q", have, gatewayapi.SplitResource, want)
	}
	return nil
}

// defaultAllowedRoutes reports whether a listener's allowedRoutes is the
// Gateway API's default, which the API server sets on a listener without
// one: routes from the Gateway's own namespace, of the kinds its protocol
// takes.
func defaultAllowedRoutes(ar *gwv1.AllowedRoutes) bool {
	if ar == nil {
		return true
	}
	ns := ar.Namespaces
	return len(ar.Kinds) == 0 && (ns == nil || ns.Selector == nil && (ns.From == nil || *ns.From == gwv1.NamespacesFromSame))
}

// ---- VirtualService ----

// vsEntries canonicalizes a VirtualService's http routes.
func (p *splitParser) vsEntries(obj map[string]any, subsets map[string]map[string]any) ([]gatewayapi.Entry, error) {
	var vs networkingv1.VirtualService
	canon, err := canonical(obj, &vs)
	if err != nil {
		return nil, err
	}
	routes, _, _ := unstructured.NestedSlice(canon, "spec", "http")
	var out []gatewayapi.Entry
	for i, r := range routes {
		route, _ := r.(map[string]any)
		at := fmt.Sprintf("spec.http[%d]", i)
		delete(route, "name")
		matches, _ := route["match"].([]any)
		delete(route, "match")
		p.canonDestinations(route, subsets)
		everything := len(matches) == 0
		for _, m := range matches {
			match, _ := m.(map[string]any)
			delete(match, "name")
			if reflect.DeepEqual(match, map[string]any{"uri": map[string]any{"prefix": "/"}}) {
				everything = true
			}
		}
		if everything {
			out = append(out, gatewayapi.Entry{At: at, Rest: route})
			continue
		}
		for _, m := range matches {
			out = append(out, gatewayapi.Entry{At: at, Match: m, Rest: route})
		}
	}
	return out, nil
}

// canonDestinations canonicalizes a route's destinations and mirrors.
func (p *splitParser) canonDestinations(route map[string]any, subsets map[string]map[string]any) {
	dests, _ := route["route"].([]any)
	for _, d := range dests {
		dest, _ := d.(map[string]any)
		p.canonDestination(dest["destination"], subsets)
		if _, ok := dest["weight"]; !ok && len(dests) == 1 {
			dest["weight"] = mesh.MaxPercentWeight // a lone destination takes all traffic
		}
	}
	mirrors, _ := route["mirrors"].([]any)
	for _, m := range mirrors {
		mirror, _ := m.(map[string]any)
		p.canonDestination(mirror["destination"], subsets)
		if _, ok := mirror["percentage"]; !ok {
			mirror["percentage"] = map[string]any{"value": float64(mesh.MaxMirrorPercentage)} // Istio's default
		}
	}
}

// canonDestination: the FQDN, the parent's port when none is set, and the
// subset as the labels it selects.
func (p *splitParser) canonDestination(v any, subsets map[string]map[string]any) {
	dest, _ := v.(map[string]any)
	if dest == nil {
		return
	}
	host, _ := dest["host"].(string)
	dest["host"] = p.fqdn(host)
	if _, ok := dest["port"]; !ok {
		dest["port"] = map[string]any{"number": p.TS.Port}
	}
	if name, ok := dest["subset"].(string); ok {
		dest["subset"] = subsets[p.fqdn(host)][name]
	}
}

// fqdn is a host of the route's namespace (or of the namespace it names)
// as its FQDN; a host that is no cluster Service stays as it is.
func (p *splitParser) fqdn(host string) string {
	svc, ns, err := p.hostServiceIn(p.Route, "", host)
	if err != nil {
		return host
	}
	return mesh.ServiceFQDN(svc, ns)
}

// subsetsByHost: host FQDN → subset name → labels, of DestinationRules.
func subsetsByHost(rules []*unstructured.Unstructured) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, dr := range rules {
		p := &splitParser{&gatewayapi.SplitReader{NS: dr.GetNamespace(), Route: dr}}
		host, _, _ := unstructured.NestedString(dr.Object, "spec", "host")
		host = p.fqdn(host)
		if out[host] == nil {
			out[host] = map[string]any{}
		}
		subsets, _, _ := unstructured.NestedSlice(dr.Object, "spec", "subsets")
		for _, s := range subsets {
			sub, _ := s.(map[string]any)
			name, _ := sub["name"].(string)
			labels, _ := sub["labels"].(map[string]any)
			out[host][name] = map[string]any{"labels": labels}
		}
	}
	return out
}

// proveDestinationRules: a live DestinationRule of the name the split
// renders is replaced by the rendered one on apply, so each of its subsets
// must be one the rendered one keeps, under the same name and labels
// (routes elsewhere may use it). DestinationRules of other names stay as
// they are, and Istio merges them with the rendered ones for the same host.
func (p *splitParser) proveDestinationRules(rendered []*unstructured.Unstructured) error {
	for _, want := range rendered {
		for _, live := range p.Rules {
			if live.GetName() != want.GetName() {
				continue
			}
			have := subsetsByHost([]*unstructured.Unstructured{live})
			keep := subsetsByHost([]*unstructured.Unstructured{want})
			for host, subsets := range have {
				kept := keep[host]
				for _, name := range gatewayapi.SortedKeys(subsets) {
					if k, ok := kept[name]; ok && gatewayapi.Show(k) == gatewayapi.Show(subsets[name]) {
						continue
					}
					return gatewayapi.NotLossless(live, "spec.subsets",
						"defines subset %q %s, which the DestinationRule %s renders does not keep under that name (it holds the subsets the split's routes use, named from their labels: %s), so applying the import would remove it; remove or rename the subset, or rename the DestinationRule, before importing",
						name, gatewayapi.Show(subsets[name]), gatewayapi.SplitResource, gatewayapi.Show(gatewayapi.SortedKeys(kept)))
				}
			}
		}
	}
	return nil
}

// ---- helpers ----

// canonical decodes obj into typed and encodes it again.
func canonical(obj map[string]any, typed any) (map[string]any, error) {
	u := &unstructured.Unstructured{Object: obj}
	if err := gatewayapi.Decode(u, gatewayapi.SplitResource, typed); err != nil {
		return nil, err
	}
	out, err := gatewayapi.ToUnstructured(typed)
	if err != nil {
		return nil, err
	}
	return out.Object, nil
}
