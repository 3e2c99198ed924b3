package provider

import (
	"context"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

type trafficSplitModel struct {
	meshState
	Name            types.String `tfsdk:"name"`
	Namespace       types.String `tfsdk:"namespace"`
	Service         types.String `tfsdk:"service"`
	Port            types.Int64  `tfsdk:"port"`
	Target          types.String `tfsdk:"target"`
	Backends        types.List   `tfsdk:"backends"`
	MatchRoutes     types.List   `tfsdk:"match_routes"`
	WeightSemantics types.String `tfsdk:"weight_semantics"`
	IstioAPI        types.String `tfsdk:"istio_api"`
	AmbientWaypoint types.Object `tfsdk:"ambient_waypoint"`
	Mirror          types.Object `tfsdk:"mirror"`
}

type backendModel struct {
	Service      types.String `tfsdk:"service"`
	Port         types.Int64  `tfsdk:"port"`
	Weight       types.Int64  `tfsdk:"weight"`
	SubsetLabels types.Map    `tfsdk:"subset_labels"`
}

type matchRouteModel struct {
	Headers  types.List   `tfsdk:"headers"`
	Path     types.Object `tfsdk:"path"`
	Method   types.String `tfsdk:"method"`
	Backends types.List   `tfsdk:"backends"`
}

type headerModel struct {
	Name  types.String `tfsdk:"name"`
	Value types.String `tfsdk:"value"`
	Type  types.String `tfsdk:"type"`
}

type pathModel struct {
	Type  types.String `tfsdk:"type"`
	Value types.String `tfsdk:"value"`
}

type waypointModel struct {
	Mode types.String `tfsdk:"mode"`
	Name types.String `tfsdk:"name"`
}

var (
	waypointAttrTypes = map[string]attr.Type{"mode": types.StringType, "name": types.StringType}
	backendAttrTypes  = map[string]attr.Type{
		"service": types.StringType, "port": types.Int64Type, "weight": types.Int64Type,
		"subset_labels": types.MapType{ElemType: types.StringType},
	}
	headerAttrTypes     = map[string]attr.Type{"name": types.StringType, "value": types.StringType, "type": types.StringType}
	pathAttrTypes       = map[string]attr.Type{"type": types.StringType, "value": types.StringType}
	matchRouteAttrTypes = map[string]attr.Type{
		"headers":  types.ListType{ElemType: types.ObjectType{AttrTypes: headerAttrTypes}},
		"path":     types.ObjectType{AttrTypes: pathAttrTypes},
		"method":   types.StringType,
		"backends": types.ListType{ElemType: types.ObjectType{AttrTypes: backendAttrTypes}},
	}
)

// intent converts the model to the mesh intent. known is false when any
// value the rendering depends on is not known yet; the intent is then
// incomplete and must not be rendered.
func (m trafficSplitModel) intent(ctx context.Context, target mesh.Target, owner string) (ts mesh.TrafficSplit, known bool, diags diag.Diagnostics) {
	c := converter{known: true}
	ts = mesh.TrafficSplit{
		Name:            c.str(m.Name),
		Namespace:       c.str(m.Namespace),
		Owner:           owner,
		Service:         c.str(m.Service),
		Port:            c.int(m.Port),
		Target:          target,
		WeightSemantics: mesh.WeightSemantics(c.str(m.WeightSemantics)),
		IstioAPI:        mesh.IstioAPI(c.str(m.IstioAPI)),
		Backends:        c.backends(m.Backends),
	}
	var routes []matchRouteModel
	c.elements(m.MatchRoutes, &routes)
	for _, r := range routes {
		ts.MatchRoutes = append(ts.MatchRoutes, c.matchRoute(r))
	}
	var wp waypointModel
	if c.object(m.AmbientWaypoint, &wp) {
		ts.Waypoint = mesh.Waypoint{Mode: mesh.WaypointMode(c.str(wp.Mode)), Name: c.str(wp.Name)}
	}
	ts.Mirror = c.splitMirror(m.Mirror)
	return ts, c.known, c.diags
}

// converter reads framework values, remembering whether any was unknown.
type converter struct {
	known bool
	diags diag.Diagnostics
}

func (c *converter) str(v types.String) string {
	if v.IsUnknown() {
		c.known = false
	}
	return v.ValueString()
}

func (c *converter) int(v types.Int64) int64 {
	if v.IsUnknown() {
		c.known = false
	}
	return v.ValueInt64()
}

// elements reads a list's elements into target. An unknown list or
// element makes the intent unknown (the rest is still read, so that the
// known part can be checked); null elements are an error.
func (c *converter) elements(l types.List, target any) {
	if l.IsUnknown() {
		c.known = false
		return
	}
	if l.IsNull() {
		return
	}
	elems := l.Elements()
	if slices.ContainsFunc(elems, attr.Value.IsUnknown) {
		c.known = false
		elems = slices.DeleteFunc(slices.Clone(elems), attr.Value.IsUnknown)
	}
	c.diags.Append(elementsInto(elems, target)...)
}

func (c *converter) object(o types.Object, target any) bool {
	if o.IsUnknown() {
		c.known = false
		return false
	}
	if o.IsNull() {
		return false
	}
	c.diags.Append(objectInto(o, target)...)
	return true
}

// stringMap reads a map of strings; an unknown map or value makes the
// intent unknown.
func (c *converter) stringMap(m types.Map) map[string]string {
	if m.IsUnknown() {
		c.known = false
		return nil
	}
	if m.IsNull() {
		return nil
	}
	out := make(map[string]string, len(m.Elements()))
	for k, e := range m.Elements() {
		if e.IsUnknown() {
			c.known = false
			continue
		}
		s, ok := e.(types.String)
		if !ok || s.IsNull() {
			c.diags.Append(conversionError("a map", fmt.Errorf("element %q is not a string", k))...)
			continue
		}
		out[k] = s.ValueString()
	}
	return out
}

func (c *converter) backends(l types.List) []mesh.Backend {
	var models []backendModel
	c.elements(l, &models)
	out := make([]mesh.Backend, len(models))
	for i, b := range models {
		out[i] = mesh.Backend{Service: c.str(b.Service), Port: c.int(b.Port), Weight: c.int(b.Weight), SubsetLabels: c.stringMap(b.SubsetLabels)}
		if b.Weight.IsNull() {
			out[i].Weight = mesh.WeightUnset
		}
	}
	return out
}

func (c *converter) matchRoute(r matchRouteModel) mesh.MatchRoute {
	mr := c.conditions(r.Headers, r.Path, r.Method)
	mr.Backends = c.backends(r.Backends)
	return mr
}

// conditions reads the headers, path and method of a match.
func (c *converter) conditions(headerList types.List, path types.Object, method types.String) mesh.MatchRoute {
	mr := mesh.MatchRoute{Method: c.str(method)}
	var headers []headerModel
	c.elements(headerList, &headers)
	for _, h := range headers {
		mr.Headers = append(mr.Headers, mesh.HeaderMatch{Name: c.str(h.Name), Value: c.str(h.Value), Type: mesh.MatchType(c.str(h.Type))})
	}
	var p pathModel
	if c.object(path, &p) {
		mr.Path = &mesh.PathMatch{Type: mesh.MatchType(c.str(p.Type)), Value: c.str(p.Value)}
	}
	return mr
}

// setIntent writes a normalized intent back into the model, so that plan and
// state carry the defaults (backend service, port and weight) explicitly.
func (m *trafficSplitModel) setIntent(ts mesh.TrafficSplit) diag.Diagnostics {
	var diags diag.Diagnostics
	m.Name, m.Namespace = types.StringValue(ts.Name), types.StringValue(ts.Namespace)
	m.Service, m.Port = types.StringValue(ts.Service), types.Int64Value(ts.Port)
	m.Target = types.StringValue(string(ts.Target))
	m.WeightSemantics = types.StringValue(string(ts.WeightSemantics))
	m.IstioAPI = types.StringValue(string(ts.IstioAPI))
	m.AmbientWaypoint = types.ObjectValueMust(waypointAttrTypes, map[string]attr.Value{
		"mode": types.StringValue(string(ts.Waypoint.Mode)), "name": types.StringValue(ts.Waypoint.Name),
	})
	m.Backends = backendsValue(ts.Backends, &diags)
	m.Mirror = splitMirrorValue(ts.Mirror, &diags)
	if len(ts.MatchRoutes) == 0 {
		m.MatchRoutes = types.ListNull(types.ObjectType{AttrTypes: matchRouteAttrTypes})
		return diags
	}
	routes := make([]attr.Value, len(ts.MatchRoutes))
	for i, r := range ts.MatchRoutes {
		routes[i] = matchRouteValue(r, &diags)
	}
	m.MatchRoutes = listOf(matchRouteAttrTypes, routes, &diags)
	return diags
}

func backendsValue(backends []mesh.Backend, diags *diag.Diagnostics) types.List {
	values := make([]attr.Value, len(backends))
	for i, b := range backends {
		values[i] = objectOf(backendAttrTypes, map[string]attr.Value{
			"service": types.StringValue(b.Service), "port": types.Int64Value(b.Port),
			"weight": types.Int64Value(b.Weight), "subset_labels": optionalStringMap(b.SubsetLabels),
		}, diags)
	}
	return listOf(backendAttrTypes, values, diags)
}

func matchRouteValue(r mesh.MatchRoute, diags *diag.Diagnostics) attr.Value {
	values := conditionValues(r, diags)
	values["backends"] = backendsValue(r.Backends, diags)
	return objectOf(matchRouteAttrTypes, values, diags)
}

// conditionValues are the headers, path and method of a match.
func conditionValues(r mesh.MatchRoute, diags *diag.Diagnostics) map[string]attr.Value {
	headers := types.ListNull(types.ObjectType{AttrTypes: headerAttrTypes})
	if len(r.Headers) > 0 {
		hv := make([]attr.Value, len(r.Headers))
		for i, h := range r.Headers {
			hv[i] = objectOf(headerAttrTypes, map[string]attr.Value{
				"name": types.StringValue(h.Name), "value": types.StringValue(h.Value), "type": types.StringValue(string(h.Type)),
			}, diags)
		}
		headers = listOf(headerAttrTypes, hv, diags)
	}
	p := types.ObjectNull(pathAttrTypes)
	if r.Path != nil {
		p = objectOf(pathAttrTypes, map[string]attr.Value{
			"type": types.StringValue(string(r.Path.Type)), "value": types.StringValue(r.Path.Value),
		}, diags)
	}
	method := types.StringNull()
	if r.Method != "" {
		method = types.StringValue(r.Method)
	}
	return map[string]attr.Value{"headers": headers, "path": p, "method": method}
}

func objectOf(types_ map[string]attr.Type, values map[string]attr.Value, diags *diag.Diagnostics) types.Object {
	o, d := types.ObjectValue(types_, values)
	diags.Append(d...)
	return o
}

func listOf(elem map[string]attr.Type, values []attr.Value, diags *diag.Diagnostics) types.List {
	l, d := types.ListValue(types.ObjectType{AttrTypes: elem}, values)
	diags.Append(d...)
	return l
}
