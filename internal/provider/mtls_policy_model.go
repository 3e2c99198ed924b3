package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

type mtlsPolicyModel struct {
	meshState
	Name             types.String `tfsdk:"name"`
	Scope            types.String `tfsdk:"scope"`
	Namespace        types.String `tfsdk:"namespace"`
	WorkloadSelector types.Map    `tfsdk:"workload_selector"`
	Mode             types.String `tfsdk:"mode"`
	Ports            types.List   `tfsdk:"ports"`
	RootNamespace    types.String `tfsdk:"root_namespace"`
	StrictPreflight  types.String `tfsdk:"strict_preflight"`
	Target           types.String `tfsdk:"target"`
	RequiresRestart  types.Bool   `tfsdk:"requires_restart"`
}

type mtlsPortModel struct {
	Port types.Int64  `tfsdk:"port"`
	Mode types.String `tfsdk:"mode"`
}

var mtlsPortAttrTypes = map[string]attr.Type{"port": types.Int64Type, "mode": types.StringType}

// intent converts the model to the mesh intent; known is false when any
// value the rendering depends on is not known yet. The owner label follows
// from the intent (see mtlsOwner).
func (m mtlsPolicyModel) intent(ctx context.Context, target mesh.Target) (p mesh.MTLSPolicy, known bool, diags diag.Diagnostics) {
	c := converter{known: true}
	p = mesh.MTLSPolicy{
		Name:             c.str(m.Name),
		Namespace:        c.str(m.Namespace),
		Scope:            mesh.MTLSScope(c.str(m.Scope)),
		WorkloadSelector: c.stringMap(m.WorkloadSelector),
		Mode:             mesh.MTLSMode(c.str(m.Mode)),
		RootNamespace:    c.str(m.RootNamespace),
		StrictPreflight:  mesh.StrictPreflight(c.str(m.StrictPreflight)),
		Target:           target,
	}
	var ports []mtlsPortModel
	c.elements(m.Ports, &ports)
	for _, port := range ports {
		p.Ports = append(p.Ports, mesh.MTLSPort{Port: c.int(port.Port), Mode: mesh.MTLSMode(c.str(port.Mode))})
	}
	p.Normalize()
	p.Owner = mtlsOwner(p)
	return p, c.known, c.diags
}

// mtlsOwner is the owner label of the policy's objects: the resource type,
// the namespace the objects live in, and the name.
func mtlsOwner(p mesh.MTLSPolicy) string {
	return mesh.Owner(mtlsPolicyType, p.ObjectNamespace(), p.Name)
}

// setIntent writes a normalized intent back into the model (import, and the
// plan's computed values).
func (m *mtlsPolicyModel) setIntent(p mesh.MTLSPolicy) diag.Diagnostics {
	var diags diag.Diagnostics
	m.Name, m.Scope, m.Mode = types.StringValue(p.Name), types.StringValue(string(p.Scope)), types.StringValue(string(p.Mode))
	m.Namespace = types.StringNull()
	if p.Namespace != "" {
		m.Namespace = types.StringValue(p.Namespace)
	}
	m.WorkloadSelector = optionalStringMap(p.WorkloadSelector)
	m.Ports = types.ListNull(types.ObjectType{AttrTypes: mtlsPortAttrTypes})
	if len(p.Ports) > 0 {
		values := make([]attr.Value, len(p.Ports))
		for i, port := range p.Ports {
			values[i] = objectOf(mtlsPortAttrTypes, map[string]attr.Value{
				"port": types.Int64Value(port.Port), "mode": types.StringValue(string(port.Mode)),
			}, &diags)
		}
		m.Ports = listOf(mtlsPortAttrTypes, values, &diags)
	}
	m.RootNamespace = types.StringValue(p.RootNamespace)
	m.StrictPreflight = types.StringValue(string(p.StrictPreflight))
	m.Target = types.StringValue(string(p.Target))
	m.ID = types.StringValue(p.ObjectNamespace() + "/" + p.Name)
	m.RequiresRestart = types.BoolValue(p.RequiresRestart())
	return diags
}
