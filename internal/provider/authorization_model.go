package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

type authorizationModel struct {
	meshState
	Name             types.String `tfsdk:"name"`
	Namespace        types.String `tfsdk:"namespace"`
	Target           types.Object `tfsdk:"target"`
	MeshTarget       types.String `tfsdk:"mesh_target"`
	Action           types.String `tfsdk:"action"`
	CustomProvider   types.String `tfsdk:"custom_provider"`
	DenyAll          types.Bool   `tfsdk:"deny_all"`
	AllowAll         types.Bool   `tfsdk:"allow_all"`
	Rules            types.List   `tfsdk:"rules"`
	DryRun           types.Bool   `tfsdk:"dry_run"`
	EnforcementPoint types.String `tfsdk:"enforcement_point"`
}

type authzTargetModel struct {
	WorkloadSelector types.Map    `tfsdk:"workload_selector"`
	Service          types.String `tfsdk:"service"`
	Ports            types.List   `tfsdk:"ports"`
}

type authzRuleModel struct {
	From types.List `tfsdk:"from"`
	To   types.List `tfsdk:"to"`
	When types.List `tfsdk:"when"`
}

type authzSourceModel struct {
	ServiceAccounts types.List `tfsdk:"service_accounts"`
	Namespaces      types.List `tfsdk:"namespaces"`
	Authenticated   types.Bool `tfsdk:"authenticated"`
	IPBlocks        types.List `tfsdk:"ip_blocks"`
	Principals      types.List `tfsdk:"principals"`
}

type authzOperationModel struct {
	Ports   types.List `tfsdk:"ports"`
	Methods types.List `tfsdk:"methods"`
	Paths   types.List `tfsdk:"paths"`
}

type authzConditionModel struct {
	Key    types.String `tfsdk:"key"`
	Values types.List   `tfsdk:"values"`
}

var (
	authzStringList      = types.ListType{ElemType: types.StringType}
	authzInt64List       = types.ListType{ElemType: types.Int64Type}
	authzTargetAttrTypes = map[string]attr.Type{
		"workload_selector": types.MapType{ElemType: types.StringType}, "service": types.StringType, "ports": authzInt64List,
	}
	authzSourceAttrTypes = map[string]attr.Type{
		"service_accounts": authzStringList, "namespaces": authzStringList, "authenticated": types.BoolType,
		"ip_blocks": authzStringList, "principals": authzStringList,
	}
	authzOperationAttrTypes = map[string]attr.Type{"ports": authzInt64List, "methods": authzStringList, "paths": authzStringList}
	authzConditionAttrTypes = map[string]attr.Type{"key": types.StringType, "values": authzStringList}
	authzRuleAttrTypes      = map[string]attr.Type{
		"from": types.ListType{ElemType: types.ObjectType{AttrTypes: authzSourceAttrTypes}},
		"to":   types.ListType{ElemType: types.ObjectType{AttrTypes: authzOperationAttrTypes}},
		"when": types.ListType{ElemType: types.ObjectType{AttrTypes: authzConditionAttrTypes}},
	}
)

// intent converts the model to the mesh intent; known is false when any
// value the rendering depends on is not known yet.
func (m authorizationModel) intent(ctx context.Context, target mesh.Target, owner string) (a mesh.Authorization, known bool, diags diag.Diagnostics) {
	c := &converter{known: true}
	a = mesh.Authorization{
		Name: c.str(m.Name), Namespace: c.str(m.Namespace), Owner: owner, Target: target,
		Action: mesh.AuthzAction(c.str(m.Action)), CustomProvider: c.str(m.CustomProvider),
		DenyAll: authzBool(c, m.DenyAll), AllowAll: authzBool(c, m.AllowAll), DryRun: authzBool(c, m.DryRun),
	}
	var t authzTargetModel
	if c.object(m.Target, &t) {
		a.Workload = mesh.AuthzWorkload{Selector: c.stringMap(t.WorkloadSelector), Service: c.str(t.Service), Ports: authzInts(c, t.Ports)}
	}
	var rules []authzRuleModel
	c.elements(m.Rules, &rules)
	for _, r := range rules {
		a.Rules = append(a.Rules, authzRule(c, r))
	}
	return a, c.known, c.diags
}

func authzRule(c *converter, r authzRuleModel) mesh.AuthzRule {
	var rule mesh.AuthzRule
	var from []authzSourceModel
	c.elements(r.From, &from)
	for _, s := range from {
		rule.From = append(rule.From, mesh.AuthzSource{
			ServiceAccounts: authzStrings(c, s.ServiceAccounts), Namespaces: authzStrings(c, s.Namespaces),
			Authenticated: authzBool(c, s.Authenticated), IPBlocks: authzStrings(c, s.IPBlocks), Principals: authzStrings(c, s.Principals),
		})
	}
	var to []authzOperationModel
	c.elements(r.To, &to)
	for _, op := range to {
		rule.To = append(rule.To, mesh.AuthzOperation{Ports: authzInts(c, op.Ports), Methods: authzStrings(c, op.Methods), Paths: authzStrings(c, op.Paths)})
	}
	var when []authzConditionModel
	c.elements(r.When, &when)
	for _, w := range when {
		rule.When = append(rule.When, mesh.AuthzCondition{Key: c.str(w.Key), Values: authzStrings(c, w.Values)})
	}
	return rule
}

func authzBool(c *converter, v types.Bool) bool {
	if v.IsUnknown() {
		c.known = false
	}
	return v.ValueBool()
}

func authzStrings(c *converter, l types.List) []string {
	var out []string
	c.elements(l, &out)
	return out
}

func authzInts(c *converter, l types.List) []int64 {
	var out []int64
	c.elements(l, &out)
	return out
}

// setIntent writes an imported intent into the model the way a
// configuration spells it: unset lists and flags are null.
func (m *authorizationModel) setIntent(a mesh.Authorization) diag.Diagnostics {
	var diags diag.Diagnostics
	m.Name, m.Namespace = types.StringValue(a.Name), types.StringValue(a.Namespace)
	m.MeshTarget = types.StringValue(string(a.Target))
	m.Action = types.StringValue(string(a.Action))
	m.CustomProvider = authzOptString(a.CustomProvider)
	m.DenyAll, m.AllowAll, m.DryRun = types.BoolValue(a.DenyAll), types.BoolValue(a.AllowAll), types.BoolValue(a.DryRun)
	m.EnforcementPoint = types.StringValue(string(a.EnforcementPoint()))
	m.Target = objectOf(authzTargetAttrTypes, map[string]attr.Value{
		"workload_selector": optionalStringMap(a.Workload.Selector), "service": authzOptString(a.Workload.Service), "ports": authzInt64sValue(a.Workload.Ports),
	}, &diags)
	if len(a.Rules) == 0 {
		m.Rules = types.ListNull(types.ObjectType{AttrTypes: authzRuleAttrTypes})
		return diags
	}
	rules := make([]attr.Value, len(a.Rules))
	for i, r := range a.Rules {
		rules[i] = authzRuleValue(r, &diags)
	}
	m.Rules = listOf(authzRuleAttrTypes, rules, &diags)
	return diags
}

func authzRuleValue(r mesh.AuthzRule, diags *diag.Diagnostics) attr.Value {
	from := types.ListNull(types.ObjectType{AttrTypes: authzSourceAttrTypes})
	if len(r.From) > 0 {
		values := make([]attr.Value, len(r.From))
		for i, s := range r.From {
			authenticated := types.BoolNull()
			if s.Authenticated {
				authenticated = types.BoolValue(true)
			}
			values[i] = objectOf(authzSourceAttrTypes, map[string]attr.Value{
				"service_accounts": authzStringsValue(s.ServiceAccounts), "namespaces": authzStringsValue(s.Namespaces),
				"authenticated": authenticated, "ip_blocks": authzStringsValue(s.IPBlocks), "principals": authzStringsValue(s.Principals),
			}, diags)
		}
		from = listOf(authzSourceAttrTypes, values, diags)
	}
	to := types.ListNull(types.ObjectType{AttrTypes: authzOperationAttrTypes})
	if len(r.To) > 0 {
		values := make([]attr.Value, len(r.To))
		for i, op := range r.To {
			values[i] = objectOf(authzOperationAttrTypes, map[string]attr.Value{
				"ports": authzInt64sValue(op.Ports), "methods": authzStringsValue(op.Methods), "paths": authzStringsValue(op.Paths),
			}, diags)
		}
		to = listOf(authzOperationAttrTypes, values, diags)
	}
	when := types.ListNull(types.ObjectType{AttrTypes: authzConditionAttrTypes})
	if len(r.When) > 0 {
		values := make([]attr.Value, len(r.When))
		for i, c := range r.When {
			values[i] = objectOf(authzConditionAttrTypes, map[string]attr.Value{
				"key": types.StringValue(c.Key), "values": authzStringsValue(c.Values),
			}, diags)
		}
		when = listOf(authzConditionAttrTypes, values, diags)
	}
	return objectOf(authzRuleAttrTypes, map[string]attr.Value{"from": from, "to": to, "when": when}, diags)
}

func authzOptString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

func authzStringsValue(values []string) types.List {
	if len(values) == 0 {
		return types.ListNull(types.StringType)
	}
	return stringListValue(values)
}

func authzInt64sValue(values []int64) types.List {
	if len(values) == 0 {
		return types.ListNull(types.Int64Type)
	}
	return int64ListValue(values)
}
