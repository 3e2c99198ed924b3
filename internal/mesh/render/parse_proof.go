package render

import (
	"fmt"
	"reflect"
	"strings"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/gatewayapi"
)

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

const splitResource = "mesh_traffic_split"

// decodeStrictly decodes every object of the split into its API type,
// failing on a field the type does not define or an enum value it does
// not know.
func (p *parser) decodeStrictly(objs []*unstructured.Unstructured) error {
	for _, obj := range objs {
		var err error
		switch obj.GroupVersionKind().GroupKind() {
		case mesh.GVKVirtualService.GroupKind():
			var vs networkingv1.VirtualService
			if err = gatewayapi.DecodeProto(obj, splitResource, "spec", &vs.Spec); err == nil {
				err = gatewayapi.Decode(obj, splitResource, &vs)
			}
		case mesh.GVKDestinationRule.GroupKind():
			var dr networkingv1.DestinationRule
			if err = gatewayapi.DecodeProto(obj, splitResource, "spec", &dr.Spec); err == nil {
				err = gatewayapi.Decode(obj, splitResource, &dr)
			}
		case mesh.GVKHTTPRoute.GroupKind():
			err = gatewayapi.Decode(obj, splitResource, &gwv1.HTTPRoute{})
		case mesh.GVKGateway.GroupKind():
			err = gatewayapi.Decode(obj, splitResource, &gwv1.Gateway{})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// prove renders the parsed split again and compares it with the live route
// (and, for a VirtualService, the DestinationRules).
func (p *parser) prove() error {
	objs, err := TrafficSplit(p.ts)
	if err != nil {
		return fmt.Errorf("%s: rendering the imported split: %w", describe(p.route), err)
	}
	var route *unstructured.Unstructured
	var rules []*unstructured.Unstructured
	for _, obj := range objs {
		switch gk := obj.GroupVersionKind().GroupKind(); gk {
		case mesh.GVKVirtualService.GroupKind(), mesh.GVKHTTPRoute.GroupKind():
			route = obj
		case mesh.GVKDestinationRule.GroupKind():
			rules = append(rules, obj)
		}
	}
	if route == nil || route.GetKind() != p.route.GetKind() {
		return fmt.Errorf("%s: the imported split renders no %s", describe(p.route), p.route.GetKind())
	}
	if !p.isVirtualService() {
		live, want := p.httpRouteEntries(p.route.Object), p.httpRouteEntries(route.Object)
		return p.compareEntries(live, want)
	}
	liveSubsets, wantSubsets := subsetsByHost(p.rules), subsetsByHost(rules)
	live, err := p.vsEntries(p.route.Object, liveSubsets)
	if err != nil {
		return err
	}
	want, err := p.vsEntries(route.Object, wantSubsets)
	if err != nil {
		return err
	}
	if err := p.compareEntries(live, want); err != nil {
		return err
	}
	return p.proveDestinationRules(rules)
}

// entry is one ORed match of a route, or a route without match.
type entry struct {
	at    string         // the live route's field, e.g. spec.http[1]
	match any            // the canonical match; nil for the default route
	rest  map[string]any // the route without its name and matches
}

func (p *parser) compareEntries(live, want []entry) error {
	used := make([]bool, len(want))
	for _, le := range live {
		k := -1
		for i, we := range want {
			if !used[i] && reflect.DeepEqual(le.match, we.match) {
				k = i
				break
			}
		}
		if k < 0 {
			return notLossless(p.route, le.at, "matches %s, and %s would render no route for that match", show(le.match), splitResource)
		}
		used[k] = true
		if err := gatewayapi.CoveredValue(p.route, splitResource, le.at, le.rest, want[k].rest); err != nil {
			return err
		}
	}
	for i, we := range want {
		if !used[i] {
			return notLossless(p.route, "spec", "has no route for %s, and %s would render one", show(we.match), splitResource)
		}
	}
	return nil
}

// ---- VirtualService ----

// vsEntries canonicalizes a VirtualService's http routes.
func (p *parser) vsEntries(obj map[string]any, subsets map[string]map[string]any) ([]entry, error) {
	var vs networkingv1.VirtualService
	canon, err := canonical(obj, &vs)
	if err != nil {
		return nil, err
	}
	routes, _, _ := unstructured.NestedSlice(canon, "spec", "http")
	var out []entry
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
			out = append(out, entry{at: at, rest: route})
			continue
		}
		for _, m := range matches {
			out = append(out, entry{at: at, match: m, rest: route})
		}
	}
	return out, nil
}

// canonDestinations canonicalizes a route's destinations and mirrors.
func (p *parser) canonDestinations(route map[string]any, subsets map[string]map[string]any) {
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
func (p *parser) canonDestination(v any, subsets map[string]map[string]any) {
	dest, _ := v.(map[string]any)
	if dest == nil {
		return
	}
	host, _ := dest["host"].(string)
	dest["host"] = p.fqdn(host)
	if _, ok := dest["port"]; !ok {
		dest["port"] = map[string]any{"number": p.ts.Port}
	}
	if name, ok := dest["subset"].(string); ok {
		dest["subset"] = subsets[p.fqdn(host)][name]
	}
}

// fqdn is a host of the route's namespace (or of the namespace it names)
// as its FQDN; a host that is no cluster Service stays as it is.
func (p *parser) fqdn(host string) string {
	svc, ns, err := p.hostServiceIn(p.route, "", host)
	if err != nil {
		return host
	}
	return mesh.ServiceFQDN(svc, ns)
}

// subsetsByHost: host FQDN → subset name → labels, of DestinationRules.
func subsetsByHost(rules []*unstructured.Unstructured) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, dr := range rules {
		p := &parser{ns: dr.GetNamespace(), route: dr}
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
// must be one the rendered one keeps (routes elsewhere may use them).
// DestinationRules of other names stay as they are, and merge with the
// rendered ones for the same host.
func (p *parser) proveDestinationRules(rendered []*unstructured.Unstructured) error {
	for _, want := range rendered {
		for _, live := range p.rules {
			if live.GetName() != want.GetName() {
				continue
			}
			have := subsetsByHost([]*unstructured.Unstructured{live})
			keep := subsetsByHost([]*unstructured.Unstructured{want})
			for host, subsets := range have {
				kept := map[string]bool{}
				for _, s := range keep[host] {
					kept[show(s)] = true
				}
				for _, name := range sortedKeys(subsets) {
					if !kept[show(subsets[name])] {
						return notLossless(live, "spec.subsets", "defines subset %q (%s), which none of the split's routes uses, and applying the import would remove it, as %s renders %s with the subsets its routes use only; remove the subset (or rename the DestinationRule) before importing",
							name, show(subsets[name]), splitResource, describe(want))
					}
				}
			}
		}
	}
	return nil
}

// ---- HTTPRoute ----

// httpRouteEntries canonicalizes an HTTPRoute's rules.
func (p *parser) httpRouteEntries(obj map[string]any) []entry {
	rules, _, _ := unstructured.NestedSlice(obj, "spec", "rules")
	var out []entry
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
			out = append(out, entry{at: at, rest: rule})
			continue
		}
		for _, m := range canon {
			out = append(out, entry{at: at, match: m, rest: rule})
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
func (p *parser) backendRef(ref map[string]any) {
	if ref["group"] == "" {
		delete(ref, "group")
	}
	if ref["kind"] == "Service" {
		delete(ref, "kind")
	}
	if ref["namespace"] == p.ns {
		delete(ref, "namespace")
	}
	if _, ok := ref["port"]; !ok {
		ref["port"] = p.ts.Port
	}
}

// requestMirror: the backend spelled as backendRef does, and the share as
// a percentage, whether percent or fraction (denominator 100 by default).
func (p *parser) requestMirror(rm map[string]any) {
	if ref, ok := rm["backendRef"].(map[string]any); ok {
		p.backendRef(ref)
	}
	pct := float64(mesh.MaxMirrorPercentage)
	if n, ok := toInt(rm["percent"]); ok {
		pct = float64(n)
	}
	if fr, ok := rm["fraction"].(map[string]any); ok {
		num, _ := toInt(fr["numerator"])
		den, ok := toInt(fr["denominator"])
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

// ---- helpers ----

// canonical decodes obj into typed and encodes it again.
func canonical(obj map[string]any, typed any) (map[string]any, error) {
	u := &unstructured.Unstructured{Object: obj}
	if err := gatewayapi.Decode(u, splitResource, typed); err != nil {
		return nil, err
	}
	out, err := gatewayapi.ToUnstructured(typed)
	if err != nil {
		return nil, err
	}
	return out.Object, nil
}

func deepCopy(m map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: m}).DeepCopy().Object
}

func show(v any) string {
	data, err := (&unstructured.Unstructured{Object: map[string]any{"v": v}}).MarshalJSON()
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(strings.TrimPrefix(string(data), `{"v":`), "}\n")
}
