package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The plan's fast path. A no-change plan or an update of 1,000 resources
// spent about 80% of the provider's CPU in the plugin framework's own
// passes over each PlanResourceChange (BENCHMARKS.md): decoding every value
// and walking it for list blocks the schemas do not have, then schema
// defaults, computed attributes marked unknown and attribute plan
// modifiers, each pass looking every value's attribute up from the schema's
// root and copying attribute maps at every step. The provider's own
// ModifyPlan was 14%.
//
// For the resources built from a descriptor, whose schemas use only what
// the passes below do (no blocks, no write-only or dynamic attributes, no
// set-nested attributes, no plan modifiers but the string ones
// UseStateForUnknown and RequiresReplace on top-level attributes), the
// provider answers PlanResourceChange itself: it does what the framework's
// PlanResourceChange does (internal/fwserver, v1.17.0), in one walk of the
// schema beside each value, and calls the same ModifyPlan. Everything else
// (a destroy, an unconfigured provider, another resource, a schema it
// cannot plan) goes to the framework. fastplan_test.go asserts, request by
// request, that both answer the same bytes.

// fastPlanKind is a resource type the fast path plans.
type fastPlanKind struct {
	typ         tftypes.Type
	schema      schema.Schema
	attrs       []planAttr
	newResource func() resource.Resource
}

// planAttr is one schema attribute, as the framework's plan passes read it.
type planAttr struct {
	name     string
	computed bool
	// defaultValue is the attribute's schema default; nil: none.
	defaultValue func(ctx context.Context, p path.Path) (tftypes.Value, bool, diag.Diagnostics)
	// modifiers are its string plan modifiers (top-level attributes only).
	modifiers []planmodifier.String
	// nesting and nested: a nested attribute's objects.
	nesting nesting
	nested  []planAttr
}

type nesting int

const (
	notNested nesting = iota
	nestedSingle
	nestedList
	nestedMap
)

// fastPlanKinds are the resource types of resources that the fast path can
// plan, by type name.
func fastPlanKinds(ctx context.Context, providerType string, factories []func() resource.Resource) map[string]*fastPlanKind {
	kinds := map[string]*fastPlanKind{}
	for _, factory := range factories {
		r := factory()
		if _, ok := r.(fastPlanner); !ok {
			continue
		}
		var md resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: providerType}, &md)
		var sr resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &sr)
		if sr.Diagnostics.HasError() || len(sr.Schema.Blocks) > 0 {
			continue
		}
		attrs, ok := planAttrs(sr.Schema.Attributes, true)
		if !ok {
			continue
		}
		kinds[md.TypeName] = &fastPlanKind{typ: sr.Schema.Type().TerraformType(ctx), schema: sr.Schema, attrs: attrs, newResource: factory}
	}
	return kinds
}

// fastPlanner is a resource whose ModifyPlan the fast path calls.
type fastPlanner interface {
	modifyPlan(ctx context.Context, req planRequest, resp *planResponse)
}

// planAttrs reads the attributes the passes need; false: one of them uses
// what the fast path does not do.
func planAttrs(attrs map[string]schema.Attribute, top bool) ([]planAttr, bool) {
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]planAttr, 0, len(names))
	for _, name := range names {
		a := attrs[name]
		if a.IsWriteOnly() {
			return nil, false
		}
		pa := planAttr{name: name, computed: a.IsComputed()}
		var ok bool
		if pa.defaultValue, ok = defaultOf(a); !ok {
			return nil, false
		}
		if pa.modifiers, ok = modifiersOf(a, top); !ok {
			return nil, false
		}
		switch n := a.(type) {
		case schema.SingleNestedAttribute:
			pa.nesting = nestedSingle
			pa.nested, ok = planAttrs(n.Attributes, false)
		case schema.ListNestedAttribute:
			pa.nesting = nestedList
			pa.nested, ok = planAttrs(n.NestedObject.Attributes, false)
		case schema.MapNestedAttribute:
			pa.nesting = nestedMap
			pa.nested, ok = planAttrs(n.NestedObject.Attributes, false)
		case schema.StringAttribute, schema.BoolAttribute, schema.Int64Attribute, schema.Float64Attribute,
			schema.NumberAttribute, schema.ListAttribute, schema.MapAttribute, schema.SetAttribute, schema.ObjectAttribute:
		default:
			ok = false // set-nested, dynamic, 32-bit numbers: the framework plans them
		}
		if !ok {
			return nil, false
		}
		out = append(out, pa)
	}
	return out, true
}

// The known plan modifiers: a modifier of the same type and description
// does what these do and reads no private state.
var (
	useStateForUnknown = stringplanmodifier.UseStateForUnknown()
	requiresReplace    = stringplanmodifier.RequiresReplace()
)

func modifiersOf(a schema.Attribute, top bool) ([]planmodifier.String, bool) {
	v := reflect.Indirect(reflect.ValueOf(a))
	if v.Kind() != reflect.Struct {
		return nil, false
	}
	field := v.FieldByName("PlanModifiers")
	if !field.IsValid() || field.Kind() != reflect.Slice || field.Len() == 0 {
		return nil, true
	}
	s, ok := a.(schema.StringAttribute)
	if !ok || !top {
		return nil, false
	}
	ctx := context.Background()
	for _, m := range s.PlanModifiers {
		known := false
		for _, k := range []planmodifier.String{useStateForUnknown, requiresReplace} {
			if reflect.TypeOf(m) == reflect.TypeOf(k) && m.Description(ctx) == k.Description(ctx) {
				known = true
			}
		}
		if !known {
			return nil, false
		}
	}
	return s.PlanModifiers, true
}

// defaultOf is an attribute's default as a value; false: a kind of default
// the fast path does not set.
func defaultOf(a schema.Attribute) (func(context.Context, path.Path) (tftypes.Value, bool, diag.Diagnostics), bool) {
	type valuer interface {
		ToTerraformValue(context.Context) (tftypes.Value, error)
	}
	value := func(ctx context.Context, v valuer, d diag.Diagnostics) (tftypes.Value, bool, diag.Diagnostics) {
		if d.HasError() {
			return tftypes.Value{}, false, d
		}
		tv, err := v.ToTerraformValue(ctx)
		if err != nil {
			d.AddError("Default value", err.Error())
			return tftypes.Value{}, false, d
		}
		return tv, true, d
	}
	switch a := a.(type) {
	case schema.StringAttribute:
		if a.Default == nil {
			return nil, true
		}
		return func(ctx context.Context, p path.Path) (tftypes.Value, bool, diag.Diagnostics) {
			var resp defaults.StringResponse
			a.Default.DefaultString(ctx, defaults.StringRequest{Path: p}, &resp)
			return value(ctx, resp.PlanValue, resp.Diagnostics)
		}, true
	case schema.BoolAttribute:
		if a.Default == nil {
			return nil, true
		}
		return func(ctx context.Context, p path.Path) (tftypes.Value, bool, diag.Diagnostics) {
			var resp defaults.BoolResponse
			a.Default.DefaultBool(ctx, defaults.BoolRequest{Path: p}, &resp)
			return value(ctx, resp.PlanValue, resp.Diagnostics)
		}, true
	case schema.Int64Attribute:
		if a.Default == nil {
			return nil, true
		}
		return func(ctx context.Context, p path.Path) (tftypes.Value, bool, diag.Diagnostics) {
			var resp defaults.Int64Response
			a.Default.DefaultInt64(ctx, defaults.Int64Request{Path: p}, &resp)
			return value(ctx, resp.PlanValue, resp.Diagnostics)
		}, true
	case schema.Float64Attribute:
		if a.Default == nil {
			return nil, true
		}
		return func(ctx context.Context, p path.Path) (tftypes.Value, bool, diag.Diagnostics) {
			var resp defaults.Float64Response
			a.Default.DefaultFloat64(ctx, defaults.Float64Request{Path: p}, &resp)
			return value(ctx, resp.PlanValue, resp.Diagnostics)
		}, true
	case schema.SingleNestedAttribute:
		if a.Default == nil {
			return nil, true
		}
		return func(ctx context.Context, p path.Path) (tftypes.Value, bool, diag.Diagnostics) {
			var resp defaults.ObjectResponse
			a.Default.DefaultObject(ctx, defaults.ObjectRequest{Path: p}, &resp)
			return value(ctx, resp.PlanValue, resp.Diagnostics)
		}, true
	}
	v := reflect.Indirect(reflect.ValueOf(a))
	if v.Kind() != reflect.Struct {
		return nil, false
	}
	field := v.FieldByName("Default")
	return nil, !field.IsValid() || field.Kind() == reflect.Interface && field.IsNil()
}

// configAt is a configuration's value of an attribute: null under a null
// or unknown parent (as the framework's defaults read it; its unknown
// marking never reaches a child of an unknown parent, whose plan value is
// unknown too).
type configAt struct {
	v    tftypes.Value
	null bool // the parent is null or unknown
}

func (c configAt) isNull() bool { return c.null || c.v.IsNull() }

// known is the value when it can be read into: neither null nor unknown.
func (c configAt) known() bool { return !c.isNull() && c.v.IsKnown() }

// attributes are a known object's attributes or a known map's elements,
// decoded once for all of them; nil otherwise.
func (c configAt) attributes() map[string]tftypes.Value {
	var m map[string]tftypes.Value
	if !c.known() || c.v.As(&m) != nil {
		return nil
	}
	return m
}

// elements are a known list's elements; nil otherwise.
func (c configAt) elements() []tftypes.Value {
	var l []tftypes.Value
	if !c.known() || c.v.As(&l) != nil {
		return nil
	}
	return l
}

// configChild is a child read from its parent's attributes or elements
// (ok false: the parent lacks it, or is null or unknown).
func configChild(v tftypes.Value, ok bool) configAt {
	if !ok {
		return configAt{null: true}
	}
	return configAt{v: v}
}

// planned is the framework's plan of proposed before its ModifyPlan:
// schema defaults where the configuration is null, then, when the result
// differs from the prior state, computed attributes null in the
// configuration and without a default unknown, then the attribute plan
// modifiers. Each pass goes over the whole value before the next, as the
// framework's do.
func (k *fastPlanKind) planned(ctx context.Context, config, prior, proposed tftypes.Value, resp *planResponse) tftypes.Value {
	plan := k.walk(ctx, k.attrs, path.Empty(), proposed, configAt{v: config}, func(ctx context.Context, a *planAttr, p path.Path, v tftypes.Value, c configAt) tftypes.Value {
		if a.defaultValue == nil || !c.isNull() {
			return v
		}
		d, ok, diags := a.defaultValue(ctx, p)
		resp.Diagnostics.Append(diags...)
		if !ok {
			return v
		}
		return d
	})
	if resp.Diagnostics.HasError() {
		return plan
	}
	if !plan.Equal(prior) {
		plan = k.walk(ctx, k.attrs, path.Empty(), plan, configAt{v: config}, func(_ context.Context, a *planAttr, _ path.Path, v tftypes.Value, c configAt) tftypes.Value {
			// A child of an unknown parent is never reached: its plan
			// value is unknown as well.
			if !c.isNull() || !a.computed || a.defaultValue != nil {
				return v
			}
			return tftypes.NewValue(v.Type(), tftypes.UnknownValue)
		})
	}
	return k.modify(ctx, config, prior, plan, resp)
}

// walk calls visit for every attribute of the object v, children first
// (as tftypes.Transform does), and returns v with what visit returned.
func (k *fastPlanKind) walk(ctx context.Context, attrs []planAttr, p path.Path, v tftypes.Value, c configAt,
	visit func(context.Context, *planAttr, path.Path, tftypes.Value, configAt) tftypes.Value) tftypes.Value {
	if v.IsNull() || !v.IsKnown() {
		return v
	}
	var vals map[string]tftypes.Value
	if err := v.As(&vals); err != nil {
		return v
	}
	cfg := c.attributes()
	changed := false
	for i := range attrs {
		a := &attrs[i]
		av, ok := vals[a.name]
		if !ok {
			continue
		}
		ap := p.AtName(a.name)
		x, ok := cfg[a.name]
		ac := configChild(x, ok)
		nv := k.walkNested(ctx, a, ap, av, ac, visit)
		nv = visit(ctx, a, ap, nv, ac)
		if !nv.Equal(av) {
			vals[a.name] = nv
			changed = true
		}
	}
	if !changed {
		return v
	}
	return tftypes.NewValue(v.Type(), vals)
}

// walkNested walks a nested attribute's objects.
func (k *fastPlanKind) walkNested(ctx context.Context, a *planAttr, p path.Path, v tftypes.Value, c configAt,
	visit func(context.Context, *planAttr, path.Path, tftypes.Value, configAt) tftypes.Value) tftypes.Value {
	if a.nesting == notNested || v.IsNull() || !v.IsKnown() {
		return v
	}
	switch a.nesting {
	case nestedSingle:
		return k.walk(ctx, a.nested, p, v, c, visit)
	case nestedList:
		var elems []tftypes.Value
		if v.As(&elems) != nil {
			return v
		}
		cfg := c.elements()
		changed := false
		for i, e := range elems {
			ec := configChild(tftypes.Value{}, false)
			if i < len(cfg) {
				ec = configChild(cfg[i], true)
			}
			ne := k.walk(ctx, a.nested, p.AtListIndex(i), e, ec, visit)
			if !ne.Equal(e) {
				elems[i], changed = ne, true
			}
		}
		if !changed {
			return v
		}
		return tftypes.NewValue(v.Type(), elems)
	case nestedMap:
		var elems map[string]tftypes.Value
		if v.As(&elems) != nil {
			return v
		}
		cfg := c.attributes()
		changed := false
		for key, e := range elems {
			x, ok := cfg[key]
			ec := configChild(x, ok)
			ne := k.walk(ctx, a.nested, p.AtMapKey(key), e, ec, visit)
			if !ne.Equal(e) {
				elems[key], changed = ne, true
			}
		}
		if !changed {
			return v
		}
		return tftypes.NewValue(v.Type(), elems)
	}
	return v
}

// modify runs the top-level attributes' plan modifiers, as the
// framework's SchemaModifyPlan does.
func (k *fastPlanKind) modify(ctx context.Context, config, prior, plan tftypes.Value, resp *planResponse) tftypes.Value {
	cfg := tfsdk.Config{Raw: config, Schema: k.schema}
	state := tfsdk.State{Raw: prior, Schema: k.schema}
	cfgVals, priorVals, planVals := configAt{v: config}.attributes(), configAt{v: prior}.attributes(), configAt{v: plan}.attributes()
	for i := range k.attrs {
		a := &k.attrs[i]
		if len(a.modifiers) == 0 {
			continue
		}
		p := path.Root(a.name)
		planned := stringAt(planVals, a.name)
		req := planmodifier.StringRequest{
			Path: p, PathExpression: p.Expression(),
			Config: cfg, ConfigValue: stringAt(cfgVals, a.name),
			Plan: tfsdk.Plan{Raw: plan, Schema: k.schema}, PlanValue: planned,
			State: state, StateValue: stringAt(priorVals, a.name),
		}
		for _, m := range a.modifiers {
			out := planmodifier.StringResponse{PlanValue: req.PlanValue}
			m.PlanModifyString(ctx, req, &out)
			resp.Diagnostics.Append(out.Diagnostics...)
			if out.RequiresReplace {
				resp.RequiresReplace = append(resp.RequiresReplace, p)
			}
			req.PlanValue = out.PlanValue
			if resp.Diagnostics.HasError() {
				return plan
			}
		}
		if !req.PlanValue.Equal(planned) {
			tv, err := req.PlanValue.ToTerraformValue(ctx)
			if err != nil || planVals == nil {
				resp.Diagnostics.AddError("Plan modification failed", fmt.Sprintf("%s: %v", p, err))
				return plan
			}
			planVals[a.name] = tv
			plan = tftypes.NewValue(plan.Type(), maps.Clone(planVals))
		}
	}
	return plan
}

// stringAt is a top-level string attribute of an object's attributes (null
// when the object is null).
func stringAt(vals map[string]tftypes.Value, name string) types.String {
	v, ok := vals[name]
	if !ok || v.IsNull() {
		return types.StringNull()
	}
	if !v.IsKnown() {
		return types.StringUnknown()
	}
	var s string
	if v.As(&s) != nil {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// fastPlanState is the fast path's view of the provider: its resource
// types and the data ConfigureProvider made.
type fastPlanState struct {
	once  sync.Once
	kinds map[string]*fastPlanKind
	data  atomic.Pointer[providerData]
}

// FastPlanResourceChange plans req without the framework's passes when it
// can (see the top of this file); ok false leaves req to the framework.
func (p *meshProvider) FastPlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, bool) {
	p.fast.once.Do(func() {
		var md provider.MetadataResponse
		p.Metadata(ctx, provider.MetadataRequest{}, &md)
		p.fast.kinds = fastPlanKinds(ctx, md.TypeName, p.Resources(ctx))
	})
	k := p.fast.kinds[req.TypeName]
	data := p.fast.data.Load()
	if k == nil || data == nil || req.PriorIdentity != nil || req.Config == nil || req.ProposedNewState == nil {
		return nil, false
	}
	config, err1 := req.Config.Unmarshal(k.typ)
	proposed, err2 := req.ProposedNewState.Unmarshal(k.typ)
	prior := tftypes.NewValue(k.typ, nil)
	var err3 error
	if req.PriorState != nil {
		prior, err3 = req.PriorState.Unmarshal(k.typ)
	}
	if err1 != nil || err2 != nil || err3 != nil || proposed.IsNull() {
		return nil, false // a destroy, or what the framework reports
	}
	private, ok := decodePrivate(req.PriorPrivate)
	if !ok {
		return nil, false
	}
	r := k.newResource()
	var configured resource.ConfigureResponse
	if c, ok := r.(resource.ResourceWithConfigure); ok {
		c.Configure(ctx, resource.ConfigureRequest{ProviderData: data}, &configured)
	}
	resp := &planResponse{Private: private, Diagnostics: configured.Diagnostics}
	if !resp.Diagnostics.HasError() {
		plan := k.planned(ctx, config, prior, proposed, resp)
		resp.Plan = tfsdk.Plan{Raw: plan, Schema: k.schema}
		if !resp.Diagnostics.HasError() {
			r.(fastPlanner).modifyPlan(ctx, planRequest{
				Config: tfsdk.Config{Raw: config, Schema: k.schema},
				Plan:   tfsdk.Plan{Raw: plan, Schema: k.schema},
				State:  tfsdk.State{Raw: prior, Schema: k.schema},
			}, resp)
		}
	}
	out := &tfprotov6.PlanResourceChangeResponse{}
	if resp.Diagnostics.HasError() {
		out.Diagnostics = protoDiagnostics(resp.Diagnostics)
		return out, true
	}
	planned, err := tfprotov6.NewDynamicValue(k.typ, resp.Plan.Raw)
	if err != nil {
		resp.Diagnostics.AddError("Error Converting Plan", err.Error())
		out.Diagnostics = protoDiagnostics(resp.Diagnostics)
		return out, true
	}
	out.PlannedState = &planned
	out.RequiresReplace = requiresReplacePaths(resp.RequiresReplace)
	bytes, d := private.bytes()
	resp.Diagnostics.Append(d...)
	out.PlannedPrivate = bytes
	out.Diagnostics = protoDiagnostics(resp.Diagnostics)
	return out, true
}

// privateData is a resource's private state in the framework's form: a
// JSON object of JSON values (keys that begin with "." are the
// framework's own, kept as they are).
type privateData map[string][]byte

func decodePrivate(b []byte) (privateData, bool) {
	data := privateData{}
	if len(b) == 0 {
		return data, true
	}
	if err := json.Unmarshal(b, (*map[string][]byte)(&data)); err != nil {
		return nil, false // the framework discards or reports it
	}
	for _, v := range data {
		if !utf8.Valid(v) || !json.Valid(v) {
			return nil, false
		}
	}
	return data, true
}

// SetKey sets or (with an empty value) removes a key, as the framework's
// provider data does.
func (p privateData) SetKey(_ context.Context, key string, value []byte) diag.Diagnostics {
	var diags diag.Diagnostics
	switch {
	case strings.HasPrefix(key, "."):
		diags.AddError("Restricted Resource Private State Namespace", "Using a period ('.') as a prefix for a key used in private state is not allowed.\n\n"+
			"The key "+key+" is invalid. Please check the key you are supplying does not use a period ('.') as a prefix.")
	case len(value) == 0:
		delete(p, key)
	case !utf8.Valid(value):
		diags.AddError("UTF-8 Invalid", "Values stored in private state must be valid UTF-8.\n\n"+
			"The value being supplied for key "+key+" is invalid. Please verify that the value is valid UTF-8.")
	case !json.Valid(value):
		diags.AddError("JSON Invalid", "Values stored in private state must be valid JSON.\n\n"+
			"The value being supplied for key "+key+" is invalid. Please verify that the value is valid JSON.")
	default:
		p[key] = value
	}
	return diags
}

func (p privateData) bytes() ([]byte, diag.Diagnostics) {
	var diags diag.Diagnostics
	if len(p) == 0 {
		return nil, diags
	}
	b, err := json.Marshal(map[string][]byte(p))
	if err != nil {
		diags.AddError("Error Encoding Private State", err.Error())
		return nil, diags
	}
	return b, diags
}

// requiresReplacePaths are the paths sorted and without repeats, as the
// framework sends them.
func requiresReplacePaths(ps path.Paths) []*tftypes.AttributePath {
	sort.Slice(ps, func(i, j int) bool { return ps[i].String() < ps[j].String() })
	var out []*tftypes.AttributePath
	for i, p := range ps {
		if i > 0 && p.Equal(ps[i-1]) {
			continue
		}
		out = append(out, attributePath(p))
	}
	return out
}

// attributePath is p as Terraform names an attribute.
func attributePath(p path.Path) *tftypes.AttributePath {
	var steps []tftypes.AttributePathStep
	for _, s := range p.Steps() {
		switch s := s.(type) {
		case path.PathStepAttributeName:
			steps = append(steps, tftypes.AttributeName(string(s)))
		case path.PathStepElementKeyInt:
			steps = append(steps, tftypes.ElementKeyInt(int64(s)))
		case path.PathStepElementKeyString:
			steps = append(steps, tftypes.ElementKeyString(string(s)))
		case path.PathStepElementKeyValue:
			v, err := s.Value.ToTerraformValue(context.Background())
			if err != nil {
				return tftypes.NewAttributePathWithSteps(steps)
			}
			steps = append(steps, tftypes.ElementKeyValue(v))
		}
	}
	return tftypes.NewAttributePathWithSteps(steps)
}

// protoDiagnostics are diags as the framework sends them.
func protoDiagnostics(diags diag.Diagnostics) []*tfprotov6.Diagnostic {
	var out []*tfprotov6.Diagnostic
	for _, d := range diags {
		pd := &tfprotov6.Diagnostic{Summary: d.Summary(), Detail: d.Detail(), Severity: tfprotov6.DiagnosticSeverityInvalid}
		switch d.Severity() {
		case diag.SeverityError:
			pd.Severity = tfprotov6.DiagnosticSeverityError
		case diag.SeverityWarning:
			pd.Severity = tfprotov6.DiagnosticSeverityWarning
		}
		if dp, ok := d.(diag.DiagnosticWithPath); ok {
			pd.Attribute = attributePath(dp.Path())
		}
		out = append(out, pd)
	}
	return out
}
