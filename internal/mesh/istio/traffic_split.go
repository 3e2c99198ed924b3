// Package istio renders mesh intent as Istio objects: VirtualService and
// DestinationRule for sidecars, Gateway API routes and waypoints for ambient.
package istio

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	networkingapi "istio.io/api/networking/v1alpha3"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/gatewayapi"
)

// Labels and constants of Istio's ambient waypoints (istio/api label/labels.yaml,
// istioctl waypoint generate).
const (
	WaypointClassName     = "istio-waypoint"
	waypointListenerName  = "mesh"
	waypointListenerPort  = 15008
	waypointProtocolHBONE = "HBONE"
	defaultRouteName      = "default"
	mirrorRouteName       = "mirror"
	maxSubsetNameLength   = 63 // subset names are DNS-1123 labels
)

// RenderTrafficSplit renders a Normalize()d split for istio-sidecar or
// istio-ambient. Prerequisites come first, so that applying the objects in
// order never routes to a subset or waypoint that does not exist yet:
// DestinationRules, the waypoint Gateway, the Service label, then the route.
func RenderTrafficSplit(ts mesh.TrafficSplit) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	var route *unstructured.Unstructured
	var err error
	if ts.UsesVirtualService() {
		subsets := planSubsets(ts)
		if objs, err = destinationRules(ts, subsets); err != nil {
			return nil, err
		}
		route, err = virtualService(ts, subsets)
	} else {
		route, err = gatewayapi.HTTPRoute(ts)
	}
	if err != nil {
		return nil, err
	}
	if ts.Target == mesh.TargetIstioAmbient && ts.Waypoint.Mode == mesh.WaypointCreate {
		waypoint, err := waypointGateway(ts)
		if err != nil {
			return nil, err
		}
		objs = append(objs, waypoint, useWaypointLabel(ts))
	}
	return append(objs, route), nil
}

// waypointGateway is what `istioctl waypoint generate --for service` writes.
func waypointGateway(ts mesh.TrafficSplit) (*unstructured.Unstructured, error) {
	meta := gatewayapi.ObjectMeta(ts.Waypoint.Name, ts.Namespace, ts.Owner)
	meta.Labels[mesh.LabelWaypointFor] = "service"
	return gatewayapi.ToUnstructured(&gwv1.Gateway{
		TypeMeta:   gatewayapi.TypeMeta(mesh.GVKGateway),
		ObjectMeta: meta,
		Spec: gwv1.GatewaySpec{
			GatewayClassName: WaypointClassName,
			Listeners: []gwv1.Listener{{
				Name:     waypointListenerName,
				Port:     waypointListenerPort,
				Protocol: waypointProtocolHBONE,
			}},
		},
	})
}

// useWaypointLabel binds the parent Service to the waypoint. The Service is
// not ours: the object carries only the label we add and no owner label,
// which is how the apply engine knows to add fields rather than own it.
func useWaypointLabel(ts mesh.TrafficSplit) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Service",
		"metadata": map[string]any{
			"name":      ts.Service,
			"namespace": ts.Namespace,
			"labels":    map[string]any{mesh.LabelUseWaypoint: ts.Waypoint.Name},
		},
	}}
}

// virtualService renders the split as one VirtualService for the parent
// Service's host: the match routes by precedence, then the default rule.
func virtualService(ts mesh.TrafficSplit, subsets subsetPlan) (*unstructured.Unstructured, error) {
	var routes []*networkingapi.HTTPRoute
	for _, r := range byPrecedence(ts.MatchRoutes) {
		matches, err := vsMatches(r.route)
		if err != nil {
			return nil, fmt.Errorf("match_routes[%d]: %w", r.index, err)
		}
		routes = append(routes, &networkingapi.HTTPRoute{
			// Named by the attribute index, not the position, so a route in
			// Envoy's stats points back at match_routes[i].
			Name:  fmt.Sprintf("match-%d", r.index),
			Match: matches,
			Route: vsDestinations(ts, r.route.Backends, subsets),
		})
	}
	mirrorRoute, err := vsMirrorRoute(ts, subsets)
	if err != nil {
		return nil, err
	}
	if mirrorRoute != nil {
		routes = append(routes, mirrorRoute)
	}
	defaultRoute := &networkingapi.HTTPRoute{
		Name:  defaultRouteName,
		Route: vsDestinations(ts, ts.Backends, subsets),
	}
	if ts.Mirror != nil && ts.Mirror.Match == nil {
		defaultRoute.Mirrors = vsMirrors(*ts.Mirror, subsets)
	}
	routes = append(routes, defaultRoute)
	return gatewayapi.ToUnstructured(&networkingv1.VirtualService{
		TypeMeta:   gatewayapi.TypeMeta(mesh.GVKVirtualService),
		ObjectMeta: gatewayapi.ObjectMeta(ts.Name, ts.Namespace, ts.Owner),
		Spec: networkingapi.VirtualService{
			// Always the FQDN: a short name would resolve in the VS's own
			// namespace, which is only right by accident.
			Hosts: []string{mesh.ServiceFQDN(ts.Service, ts.Namespace)},
			Http:  routes,
		},
	})
}

// vsMirrorRoute is the route of a mirror with a match: it sits after the
// match routes, so it only takes requests of the default rule, and routes
// them like the default rule while mirroring them. nil without such a mirror.
func vsMirrorRoute(ts mesh.TrafficSplit, subsets subsetPlan) (*networkingapi.HTTPRoute, error) {
	if ts.Mirror == nil || ts.Mirror.Match == nil {
		return nil, nil
	}
	matches, err := vsMatches(*ts.Mirror.Match)
	if err != nil {
		return nil, fmt.Errorf("mirror match: %w", err)
	}
	return &networkingapi.HTTPRoute{
		Name:    mirrorRouteName,
		Match:   matches,
		Route:   vsDestinations(ts, ts.Backends, subsets),
		Mirrors: vsMirrors(*ts.Mirror, subsets),
	}, nil
}

// vsMirrors renders the mirror with its FQDN (it may be in another
// namespace) and its port; the percentage is left out at 100, Istio's
// default.
func vsMirrors(m mesh.Mirror, subsets subsetPlan) []*networkingapi.HTTPMirrorPolicy {
	d := m.Destination
	mirror := &networkingapi.HTTPMirrorPolicy{Destination: &networkingapi.Destination{
		Host:   mesh.ServiceFQDN(d.Service, d.Namespace),
		Subset: subsets.name(d.Backend()),
		Port:   &networkingapi.PortSelector{Number: uint32(d.Port)},
	}}
	if m.Percentage != mesh.MaxMirrorPercentage {
		mirror.Percentage = &networkingapi.Percent{Value: m.Percentage}
	}
	return []*networkingapi.HTTPMirrorPolicy{mirror}
}

type indexedRoute struct {
	index int
	route mesh.MatchRoute
}

// byPrecedence orders match routes the way Gateway API ranks them, because a
// VirtualService is first-match. The ranking is Istio's own for HTTPRoutes
// (pilot conversion.go sortHTTPRoutes): exact path, then prefix (longest
// first; no path is the default prefix "/"), then regex, then a method, then
// more headers; ties keep the user's order.
func byPrecedence(routes []mesh.MatchRoute) []indexedRoute {
	sorted := make([]indexedRoute, len(routes))
	for i, r := range routes {
		sorted[i] = indexedRoute{i, r}
	}
	slices.SortStableFunc(sorted, func(a, b indexedRoute) int {
		rankA, lenA := pathRank(a.route.Path)
		rankB, lenB := pathRank(b.route.Path)
		return cmp.Or(
			cmp.Compare(rankB, rankA),
			cmp.Compare(lenB, lenA),
			cmp.Compare(boolInt(b.route.Method != ""), boolInt(a.route.Method != "")),
			cmp.Compare(len(b.route.Headers), len(a.route.Headers)),
		)
	})
	return sorted
}

func pathRank(p *mesh.PathMatch) (rank, length int) {
	switch {
	case p == nil:
		return 2, 1
	case p.Type == mesh.MatchExact:
		return 3, len(p.Value)
	case p.Type == mesh.MatchPrefix:
		return 2, len(segmentPrefix(p.Value))
	default:
		return 1, len(p.Value)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// vsMatches renders one match route. Its conditions are ANDed within a
// match; the two matches of a path prefix are ORed, each with the same
// headers and method.
func vsMatches(r mesh.MatchRoute) ([]*networkingapi.HTTPMatchRequest, error) {
	headers, err := vsHeaders(r.Headers)
	if err != nil {
		return nil, err
	}
	var method *networkingapi.StringMatch
	if r.Method != "" {
		method = exactMatch(r.Method)
	}
	uris, err := vsURIs(r.Path)
	if err != nil {
		return nil, fmt.Errorf("path: %w", err)
	}
	matches := make([]*networkingapi.HTTPMatchRequest, 0, len(uris))
	for _, uri := range uris {
		matches = append(matches, &networkingapi.HTTPMatchRequest{Uri: uri, Headers: headers, Method: method})
	}
	return matches, nil
}

// vsHeaders keys headers by lower-cased name, as the VirtualService API
// requires (MESH-TS-012). Names are case-insensitive, so the first of two
// equal names wins, as in Gateway API.
func vsHeaders(headers []mesh.HeaderMatch) (map[string]*networkingapi.StringMatch, error) {
	if len(headers) == 0 {
		return nil, nil
	}
	out := map[string]*networkingapi.StringMatch{}
	for j, h := range headers {
		m, err := stringMatch(h.Type, h.Value)
		if err != nil {
			return nil, fmt.Errorf("headers[%d]: %w", j, err)
		}
		name := strings.ToLower(h.Name)
		if _, dup := out[name]; !dup {
			out[name] = m
		}
	}
	return out, nil
}

// vsURIs renders the path. The canonical prefix is a path-segment prefix
// (Gateway API PathPrefix: "/api" matches "/api" and "/api/x", not "/apix"),
// while Istio's uri prefix is a plain string prefix, so "/api" becomes
// exact "/api" or prefix "/api/". A nil path is one match without uri.
func vsURIs(p *mesh.PathMatch) ([]*networkingapi.StringMatch, error) {
	if p == nil {
		return []*networkingapi.StringMatch{nil}, nil
	}
	if p.Type != mesh.MatchPrefix {
		m, err := stringMatch(p.Type, p.Value)
		return []*networkingapi.StringMatch{m}, err
	}
	prefix := segmentPrefix(p.Value)
	if prefix == "/" {
		return []*networkingapi.StringMatch{prefixMatch("/")}, nil
	}
	return []*networkingapi.StringMatch{exactMatch(prefix), prefixMatch(prefix + "/")}, nil
}

// segmentPrefix drops the trailing "/" Gateway API ignores ("/api/" ≡ "/api").
func segmentPrefix(v string) string {
	if trimmed := strings.TrimRight(v, "/"); trimmed != "" {
		return trimmed
	}
	return "/"
}

func stringMatch(t mesh.MatchType, v string) (*networkingapi.StringMatch, error) {
	switch t {
	case mesh.MatchExact:
		return exactMatch(v), nil
	case mesh.MatchPrefix:
		return prefixMatch(v), nil
	case mesh.MatchRegex:
		return &networkingapi.StringMatch{MatchType: &networkingapi.StringMatch_Regex{Regex: v}}, nil
	}
	return nil, fmt.Errorf("unknown match type %q", t)
}

func exactMatch(v string) *networkingapi.StringMatch {
	return &networkingapi.StringMatch{MatchType: &networkingapi.StringMatch_Exact{Exact: v}}
}

func prefixMatch(v string) *networkingapi.StringMatch {
	return &networkingapi.StringMatch{MatchType: &networkingapi.StringMatch_Prefix{Prefix: v}}
}

// vsDestinations always sets port.number: a Service with several ports is
// otherwise ambiguous (IST0112). The weight is left out only where Istio
// reads it as "all traffic" anyway, a lone destination with weight 100. A
// weight of 0 never appears in the output (proto3 drops zero values), which
// Istio reads the same way: no traffic.
func vsDestinations(ts mesh.TrafficSplit, backends []mesh.Backend, subsets subsetPlan) []*networkingapi.HTTPRouteDestination {
	lone := len(backends) == 1 && backends[0].Weight == 100
	out := make([]*networkingapi.HTTPRouteDestination, 0, len(backends))
	for _, b := range backends {
		d := &networkingapi.HTTPRouteDestination{Destination: &networkingapi.Destination{
			Host:   mesh.ServiceFQDN(b.Service, ts.Namespace),
			Subset: subsets.name(b),
			Port:   &networkingapi.PortSelector{Number: uint32(b.Port)},
		}}
		if !lone {
			d.Weight = int32(b.Weight)
		}
		out = append(out, d)
	}
	return out
}

// destinationRules renders one DestinationRule per backend Service that has
// subsets, the parent Service's first.
func destinationRules(ts mesh.TrafficSplit, subsets subsetPlan) ([]*unstructured.Unstructured, error) {
	services := slices.SortedFunc(maps.Keys(subsets), func(a, b string) int {
		return cmp.Or(cmp.Compare(boolInt(b == ts.Service), boolInt(a == ts.Service)), cmp.Compare(a, b))
	})
	var out []*unstructured.Unstructured
	for _, svc := range services {
		dr, err := destinationRule(ts, svc, subsets[svc])
		if err != nil {
			return nil, err
		}
		out = append(out, dr)
	}
	return out, nil
}

func destinationRule(ts mesh.TrafficSplit, service string, subsets []subset) (*unstructured.Unstructured, error) {
	name := ts.Name
	if service != ts.Service {
		name = ts.Name + "-" + service
	}
	dr := &networkingv1.DestinationRule{
		TypeMeta:   gatewayapi.TypeMeta(mesh.GVKDestinationRule),
		ObjectMeta: gatewayapi.ObjectMeta(name, ts.Namespace, ts.Owner),
	}
	dr.Spec.Host = mesh.ServiceFQDN(service, ts.Namespace)
	for _, s := range subsets {
		dr.Spec.Subsets = append(dr.Spec.Subsets, &networkingapi.Subset{Name: s.name, Labels: s.labels})
	}
	return gatewayapi.ToUnstructured(dr)
}

// subsetPlan lists, per backend Service, its distinct label sets and their
// subset names.
type subsetPlan map[string][]subset

type subset struct {
	key    string
	name   string
	labels map[string]string
}

// planSubsets names subsets from their labels alone, in label-set order, so
// that reordering or adding backends does not rename the existing subsets
// the routes refer to.
func planSubsets(ts mesh.TrafficSplit) subsetPlan {
	sets := map[string]map[string]map[string]string{} // service → key → labels
	for _, b := range allBackends(ts) {
		if len(b.SubsetLabels) == 0 {
			continue
		}
		if sets[b.Service] == nil {
			sets[b.Service] = map[string]map[string]string{}
		}
		sets[b.Service][labelKey(b.SubsetLabels)] = b.SubsetLabels
	}
	plan := subsetPlan{}
	for svc, byKey := range sets {
		used := map[string]bool{}
		for _, key := range slices.Sorted(maps.Keys(byKey)) {
			name := uniqueName(subsetBaseName(byKey[key]), used)
			plan[svc] = append(plan[svc], subset{key: key, name: name, labels: byKey[key]})
		}
	}
	return plan
}

// name is the subset a backend routes to; "" when it selects no labels.
func (p subsetPlan) name(b mesh.Backend) string {
	if len(b.SubsetLabels) == 0 {
		return ""
	}
	key := labelKey(b.SubsetLabels)
	for _, s := range p[b.Service] {
		if s.key == key {
			return s.name
		}
	}
	return ""
}

func allBackends(ts mesh.TrafficSplit) []mesh.Backend {
	all := slices.Clone(ts.Backends)
	for _, r := range ts.MatchRoutes {
		all = append(all, r.Backends...)
	}
	// Validation keeps a mirror with subsets in the route's namespace.
	if ts.Mirror != nil {
		all = append(all, ts.Mirror.Destination.Backend())
	}
	return all
}

// labelKey identifies a label set; NUL cannot occur in labels.
func labelKey(labels map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		b.WriteString(k + "\x00" + labels[k] + "\x00")
	}
	return b.String()
}

var notDNSLabel = regexp.MustCompile(`[^a-z0-9-]+`)

// subsetBaseName joins the label values in key order, so {version: v1}
// reads "v1", and makes the result a DNS-1123 label.
func subsetBaseName(labels map[string]string) string {
	var values []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		values = append(values, labels[k])
	}
	name := notDNSLabel.ReplaceAllString(strings.ToLower(strings.Join(values, "-")), "-")
	name = strings.Trim(truncate(strings.Trim(name, "-"), maxSubsetNameLength), "-")
	if name == "" {
		return "subset"
	}
	return name
}

func uniqueName(base string, used map[string]bool) string {
	name := base
	for n := 2; used[name]; n++ {
		suffix := fmt.Sprintf("-%d", n)
		name = strings.TrimRight(truncate(base, maxSubsetNameLength-len(suffix)), "-") + suffix
	}
	used[name] = true
	return name
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
