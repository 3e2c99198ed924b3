package render

import (
	"fmt"
	"reflect"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

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
func (p *parser) addRoute(field string, matches []mesh.MatchRoute, backends []mesh.Backend, mirror *mesh.Mirror) error {
	if mirror == nil {
		if p.mirrorMatch != nil {
			return notLossless(p.route, field, "comes after %s, the route that mirrors; mesh_traffic_split renders match routes before the mirror's route, so move it before importing",
				p.mirrorMatch.field)
		}
		p.addMatchRoutes(field, matches, backends)
		return nil
	}
	if p.mirrorMatch != nil {
		return notLossless(p.route, field, "mirrors requests, as %s does; mesh_traffic_split has one mirror per route object", p.mirrorMatch.field)
	}
	if len(matches) != 1 {
		return notLossless(p.route, field, "mirrors the requests of %d alternative matches; a mirror has one match", len(matches))
	}
	mirror.Match = &matches[0]
	p.mirrorMatch = &mirrorMatch{field: field, mirror: mirror, backends: backends}
	return nil
}

// defaultMirror records the mirror of the route or rule that matches every
// request.
func (p *parser) defaultMirror(field string, mirror *mesh.Mirror) error {
	if mirror != nil && p.mirrorMatch != nil {
		return notLossless(p.route, field, "mirrors requests, as %s does; mesh_traffic_split has one mirror per route object", p.mirrorMatch.field)
	}
	p.ts.Mirror = mirror
	return nil
}

// checkMirrorRoute accepts the mirror's own route when it routes exactly as
// the default one does, as the renderers write it.
func (p *parser) checkMirrorRoute() error {
	mm := p.mirrorMatch
	if mm == nil {
		return nil
	}
	for i := range mm.backends {
		if mm.backends[i].Port == 0 {
			mm.backends[i].Port = p.ts.Port
		}
	}
	if !reflect.DeepEqual(mm.backends, p.ts.Backends) {
		return notLossless(p.route, mm.field, "mirrors its requests but routes them to other destinations than the default route; a mirror's route routes like the default one (mesh_traffic_split backends), so import it as match routes without mirror, or align the destinations")
	}
	p.ts.Mirror = mm.mirror
	return nil
}

// vsMirror reads http[].mirrors: one destination, with its percentage.
func (p *parser) vsMirror(field string, v any) (*mesh.Mirror, error) {
	vs := p.route
	if v == nil {
		return nil, nil
	}
	items, err := list(vs, field, v)
	if err != nil {
		return nil, err
	}
	if len(items) != 1 {
		return nil, notLossless(vs, field, "has %d mirrors; a mirror route has exactly one", len(items))
	}
	mf := field + "[0]"
	m, err := object(vs, mf, items[0])
	if err != nil {
		return nil, err
	}
	if err := checkKeys(vs, mf, m, "destination", "percentage"); err != nil {
		return nil, err
	}
	mirror := &mesh.Mirror{Percentage: mesh.MaxMirrorPercentage}
	if mirror.Destination, err = p.vsMirrorDestination(mf+".destination", m["destination"]); err != nil {
		return nil, err
	}
	if pct, ok := m["percentage"]; ok {
		po, err := object(vs, mf+".percentage", pct)
		if err != nil {
			return nil, err
		}
		if err := checkKeys(vs, mf+".percentage", po, "value"); err != nil {
			return nil, err
		}
		// An empty percentage is the proto's zero: nothing is mirrored.
		mirror.Percentage = 0
		if value, ok := po["value"]; ok {
			if mirror.Percentage, err = number(vs, mf+".percentage.value", value); err != nil {
				return nil, err
			}
		}
	}
	return mirror, nil
}

func (p *parser) vsMirrorDestination(field string, v any) (mesh.MirrorDestination, error) {
	vs := p.route
	var d mesh.MirrorDestination
	dest, err := object(vs, field, v)
	if err != nil {
		return d, err
	}
	if err := checkKeys(vs, field, dest, "host", "subset", "port"); err != nil {
		return d, err
	}
	if d.Service, d.Namespace, err = p.hostServiceIn(vs, field+".host", dest["host"]); err != nil {
		return d, err
	}
	port, _ := dest["port"].(map[string]any)
	if err := checkKeys(vs, field+".port", port, "number"); err != nil {
		return d, err
	}
	if _, ok := port["number"]; !ok {
		return d, notLossless(vs, field+".port.number", "is not set; a mirror names its port, so set it before importing")
	}
	if d.Port, err = integer(vs, field+".port.number", port["number"]); err != nil {
		return d, err
	}
	if subset, ok := dest["subset"]; ok {
		name, err := str(vs, field+".subset", subset)
		if err != nil {
			return d, err
		}
		if d.Namespace != p.ns {
			return d, notLossless(vs, field+".subset", "names a subset of Service %s/%s, outside the route's namespace; mirror subsets are defined in the route's namespace", d.Namespace, d.Service)
		}
		if d.SubsetLabels, err = p.subsetLabels(field+".subset", d.Service, name); err != nil {
			return d, err
		}
	}
	return d, nil
}

// httpMirror reads a rule's filters: one RequestMirror.
func (p *parser) httpMirror(field string, v any) (*mesh.Mirror, error) {
	hr := p.route
	if v == nil {
		return nil, nil
	}
	items, err := list(hr, field, v)
	if err != nil {
		return nil, err
	}
	if len(items) != 1 {
		return nil, notLossless(hr, field, "has %d filters; mesh_traffic_split renders one, a RequestMirror", len(items))
	}
	ff := field + "[0]"
	f, err := object(hr, ff, items[0])
	if err != nil {
		return nil, err
	}
	if err := checkKeys(hr, ff, f, "type", "requestMirror"); err != nil {
		return nil, err
	}
	if f["type"] != "RequestMirror" {
		return nil, notLossless(hr, ff+".type", "is %v; mesh_traffic_split renders only RequestMirror filters", f["type"])
	}
	rm, err := object(hr, ff+".requestMirror", f["requestMirror"])
	if err != nil {
		return nil, err
	}
	if err := checkKeys(hr, ff+".requestMirror", rm, "backendRef", "percent", "fraction"); err != nil {
		return nil, err
	}
	mirror := &mesh.Mirror{Percentage: mesh.MaxMirrorPercentage}
	if mirror.Destination, err = p.mirrorBackendRef(ff+".requestMirror.backendRef", rm["backendRef"]); err != nil {
		return nil, err
	}
	if pct, ok := rm["percent"]; ok {
		n, err := integer(hr, ff+".requestMirror.percent", pct)
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

func (p *parser) mirrorBackendRef(field string, v any) (mesh.MirrorDestination, error) {
	hr := p.route
	d := mesh.MirrorDestination{Namespace: p.ns}
	ref, err := object(hr, field, v)
	if err != nil {
		return d, err
	}
	if err := checkKeys(hr, field, ref, "group", "kind", "name", "namespace", "port"); err != nil {
		return d, err
	}
	if g, ok := ref["group"]; ok && g != "" {
		return d, notLossless(hr, field+".group", "is %q; a mirror is a core Service", g)
	}
	if kind, ok := ref["kind"]; ok && kind != "Service" {
		return d, notLossless(hr, field+".kind", "is %q; a mirror is a Service", kind)
	}
	if d.Service, err = str(hr, field+".name", ref["name"]); err != nil {
		return d, err
	}
	if ns, ok := ref["namespace"]; ok {
		if d.Namespace, err = str(hr, field+".namespace", ns); err != nil {
			return d, err
		}
	}
	if _, ok := ref["port"]; !ok {
		return d, notLossless(hr, field+".port", "is not set; a mirror names its port, so set it before importing")
	}
	d.Port, err = integer(hr, field+".port", ref["port"])
	return d, err
}

// fraction reads numerator/denominator (default 100) as a percentage.
func (p *parser) fraction(field string, v any) (float64, error) {
	hr := p.route
	fr, err := object(hr, field, v)
	if err != nil {
		return 0, err
	}
	if err := checkKeys(hr, field, fr, "numerator", "denominator"); err != nil {
		return 0, err
	}
	num, err := integer(hr, field+".numerator", fr["numerator"])
	if err != nil {
		return 0, err
	}
	den := int64(100)
	if d, ok := fr["denominator"]; ok {
		if den, err = integer(hr, field+".denominator", d); err != nil {
			return 0, err
		}
	}
	if den <= 0 {
		return 0, fmt.Errorf("%s: %s.denominator is %d, want at least 1", describe(hr), field, den)
	}
	return 100 * float64(num) / float64(den), nil
}
