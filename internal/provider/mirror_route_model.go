package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

type mirrorRouteModel struct {
	meshState
	Name            types.String  `tfsdk:"name"`
	Namespace       types.String  `tfsdk:"namespace"`
	Service         types.String  `tfsdk:"service"`
	Port            types.Int64   `tfsdk:"port"`
	Target          types.String  `tfsdk:"target"`
	Primary         types.Object  `tfsdk:"primary"`
	Mirror          types.Object  `tfsdk:"mirror"`
	Percentage      types.Float64 `tfsdk:"percentage"`
	Match           types.Object  `tfsdk:"match"`
	IstioAPI        types.String  `tfsdk:"istio_api"`
	AmbientWaypoint types.Object  `tfsdk:"ambient_waypoint"`
}

type primaryModel struct {
	Service      types.String `tfsdk:"service"`
	Port         types.Int64  `tfsdk:"port"`
	SubsetLabels types.Map    `tfsdk:"subset_labels"`
}

type mirrorTargetModel struct {
	Service      types.String `tfsdk:"service"`
	Namespace    types.String `tfsdk:"namespace"`
	Port         types.Int64  `tfsdk:"port"`
	SubsetLabels types.Map    `tfsdk:"subset_labels"`
}

// splitMirrorModel is mesh_traffic_split's mirror block: the mirror target
// with the percentage and match beside it.
type splitMirrorModel struct {
	Service      types.String  `tfsdk:"service"`
	Namespace    types.String  `tfsdk:"namespace"`
	Port         types.Int64   `tfsdk:"port"`
	SubsetLabels types.Map     `tfsdk:"subset_labels"`
	Percentage   types.Float64 `tfsdk:"percentage"`
	Match        types.Object  `tfsdk:"match"`
}

type matchModel struct {
	Headers types.List   `tfsdk:"headers"`
	Path    types.Object `tfsdk:"path"`
	Method  types.String `tfsdk:"method"`
}

var (
	stringMapType    = types.MapType{ElemType: types.StringType}
	primaryAttrTypes = map[string]attr.Type{"service": types.StringType, "port": types.Int64Type, "subset_labels": stringMapType}
	mirrorAttrTypes  = map[string]attr.Type{
		"service": types.StringType, "namespace": types.StringType, "port": types.Int64Type, "subset_labels": stringMapType,
	}
	matchAttrTypes = map[string]attr.Type{
		"headers": types.ListType{ElemType: types.ObjectType{AttrTypes: headerAttrTypes}},
		"path":    types.ObjectType{AttrTypes: pathAttrTypes},
		"method":  types.StringType,
	}
	splitMirrorAttrTypes = map[string]attr.Type{
		"service": types.StringType, "namespace": types.StringType, "port": types.Int64Type, "subset_labels": stringMapType,
		"percentage": types.Float64Type, "match": types.ObjectType{AttrTypes: matchAttrTypes},
	}
)

// intent converts the model to the mesh intent; see trafficSplitModel.intent.
func (m mirrorRouteModel) intent(ctx context.Context, target mesh.Target, owner string) (mr mesh.MirrorRoute, known bool, diags diag.Diagnostics) {
	c := converter{known: true}
	mr = mesh.MirrorRoute{
		Name:      c.str(m.Name),
		Namespace: c.str(m.Namespace),
		Owner:     owner,
		Service:   c.str(m.Service),
		Port:      c.int(m.Port),
		Target:    target,
		IstioAPI:  mesh.IstioAPI(c.str(m.IstioAPI)),
		Mirror:    mesh.Mirror{Percentage: c.float(m.Percentage), Match: c.match(m.Match)},
	}
	if m.Percentage.IsNull() {
		mr.Mirror.Percentage = mesh.MaxMirrorPercentage
	}
	var p primaryModel
	if c.object(m.Primary, &p) {
		mr.Primary = mesh.Backend{Service: c.str(p.Service), Port: c.int(p.Port), SubsetLabels: c.stringMap(p.SubsetLabels)}
	}
	var t mirrorTargetModel
	if c.object(m.Mirror, &t) {
		mr.Mirror.Destination = mesh.MirrorDestination{
			Service: c.str(t.Service), Namespace: c.str(t.Namespace), Port: c.int(t.Port), SubsetLabels: c.stringMap(t.SubsetLabels),
		}
	}
	var wp waypointModel
	if c.object(m.AmbientWaypoint, &wp) {
		mr.Waypoint = mesh.Waypoint{Mode: mesh.WaypointMode(c.str(wp.Mode)), Name: c.str(wp.Name)}
	}
	return mr, c.known, c.diags
}

// setIntent writes a normalized intent back into the model, so that plan and
// state carry the defaults explicitly.
func (m *mirrorRouteModel) setIntent(mr mesh.MirrorRoute) diag.Diagnostics {
	var diags diag.Diagnostics
	m.Name, m.Namespace = types.StringValue(mr.Name), types.StringValue(mr.Namespace)
	m.Service, m.Port = types.StringValue(mr.Service), types.Int64Value(mr.Port)
	m.Target = types.StringValue(string(mr.Target))
	m.IstioAPI = types.StringValue(string(mr.IstioAPI))
	m.AmbientWaypoint = objectOf(waypointAttrTypes, map[string]attr.Value{
		"mode": types.StringValue(string(mr.Waypoint.Mode)), "name": types.StringValue(mr.Waypoint.Name),
	}, &diags)
	m.Primary = objectOf(primaryAttrTypes, map[string]attr.Value{
		"service": types.StringValue(mr.Primary.Service), "port": types.Int64Value(mr.Primary.Port),
		"subset_labels": optionalStringMap(mr.Primary.SubsetLabels),
	}, &diags)
	m.Mirror = objectOf(mirrorAttrTypes, mirrorTargetValues(mr.Mirror.Destination, &diags), &diags)
	m.Percentage = types.Float64Value(mr.Mirror.Percentage)
	m.Match = matchValue(mr.Mirror.Match, &diags)
	return diags
}

func (c *converter) float(v types.Float64) float64 {
	if v.IsUnknown() {
		c.known = false
	}
	return v.ValueFloat64()
}

// match reads an optional match; nil when it is not set.
func (c *converter) match(o types.Object) *mesh.MatchRoute {
	var m matchModel
	if !c.object(o, &m) {
		return nil
	}
	r := c.conditions(m.Headers, m.Path, m.Method)
	return &r
}

// splitMirror reads mesh_traffic_split's mirror block; nil when not set.
func (c *converter) splitMirror(o types.Object) *mesh.Mirror {
	var m splitMirrorModel
	if !c.object(o, &m) {
		return nil
	}
	mirror := &mesh.Mirror{
		Destination: mesh.MirrorDestination{
			Service: c.str(m.Service), Namespace: c.str(m.Namespace), Port: c.int(m.Port), SubsetLabels: c.stringMap(m.SubsetLabels),
		},
		Percentage: c.float(m.Percentage),
		Match:      c.match(m.Match),
	}
	if m.Percentage.IsNull() {
		mirror.Percentage = mesh.MaxMirrorPercentage
	}
	return mirror
}

func splitMirrorValue(m *mesh.Mirror, diags *diag.Diagnostics) types.Object {
	if m == nil {
		return types.ObjectNull(splitMirrorAttrTypes)
	}
	values := mirrorTargetValues(m.Destination, diags)
	values["percentage"] = types.Float64Value(m.Percentage)
	values["match"] = matchValue(m.Match, diags)
	return objectOf(splitMirrorAttrTypes, values, diags)
}

func mirrorTargetValues(d mesh.MirrorDestination, diags *diag.Diagnostics) map[string]attr.Value {
	return map[string]attr.Value{
		"service": types.StringValue(d.Service), "namespace": types.StringValue(d.Namespace),
		"port": types.Int64Value(d.Port), "subset_labels": optionalStringMap(d.SubsetLabels),
	}
}

func matchValue(r *mesh.MatchRoute, diags *diag.Diagnostics) types.Object {
	if r == nil {
		return types.ObjectNull(matchAttrTypes)
	}
	return objectOf(matchAttrTypes, conditionValues(*r, diags), diags)
}
