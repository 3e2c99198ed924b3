package provider

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The functions here move values between Terraform and the resource models,
// as the framework's Get, Set, As and ElementsAs do, with each struct's
// fields and each schema's attribute types worked out once per model type.
// The framework works both out again on every call, compiling a regular
// expression for every struct field: in an update of 1,000 traffic splits
// its reflection cost the provider 2.5 of its 19 CPU seconds
// (BENCHMARKS.md, round 10). Models hold framework values only (types.String,
// types.List, timeouts.Value...), so no conversion is lost: a field takes
// the value the schema's type builds, as it does through the framework.

// schemaTyper is a plan's, state's or configuration's schema.
type schemaTyper interface{ Type() attr.Type }

// modelField is a tfsdk-tagged struct field, possibly in an embedded struct.
type modelField struct {
	name  string
	index []int
}

// modelCodec is what converting one model type needs.
type modelCodec struct {
	fields    []modelField
	attrTypes map[string]attr.Type
	objType   tftypes.Object
}

var (
	structFieldsCache sync.Map // reflect.Type → []modelField
	modelCodecs       sync.Map // reflect.Type → *modelCodec
)

// structFields are t's tfsdk-tagged fields, those of embedded structs
// included, as the framework reads them; an untagged field is an error.
func structFields(t reflect.Type) ([]modelField, error) {
	if f, ok := structFieldsCache.Load(t); ok {
		return f.([]modelField), nil
	}
	var fields []modelField
	var walk func(t reflect.Type, prefix []int) error
	walk = func(t reflect.Type, prefix []int) error {
		for i := range t.NumField() {
			f := t.Field(i)
			index := append(append([]int(nil), prefix...), i)
			tag, tagged := f.Tag.Lookup("tfsdk")
			switch {
			case f.Anonymous && !tagged && f.Type.Kind() == reflect.Struct:
				if err := walk(f.Type, index); err != nil {
					return err
				}
			case tag == "-":
			case !tagged || tag == "":
				return fmt.Errorf("%s.%s has no tfsdk tag", t, f.Name)
			default:
				fields = append(fields, modelField{name: tag, index: index})
			}
		}
		return nil
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%s is not a struct", t)
	}
	if err := walk(t, nil); err != nil {
		return nil, err
	}
	structFieldsCache.Store(t, fields)
	return fields, nil
}

// codecOf is the codec of model type t under schema s (each model belongs
// to one schema).
func codecOf(ctx context.Context, t reflect.Type, s schemaTyper) (*modelCodec, error) {
	if c, ok := modelCodecs.Load(t); ok {
		return c.(*modelCodec), nil
	}
	fields, err := structFields(t)
	if err != nil {
		return nil, err
	}
	typ, ok := s.Type().(attr.TypeWithAttributeTypes)
	if !ok {
		return nil, fmt.Errorf("the schema's type %T has no attributes", s.Type())
	}
	c := &modelCodec{fields: fields, attrTypes: typ.AttributeTypes()}
	if c.objType, ok = typ.TerraformType(ctx).(tftypes.Object); !ok {
		return nil, fmt.Errorf("the schema's type %T is not an object", typ)
	}
	if err := sameNames(fields, c.attrTypes); err != nil {
		return nil, fmt.Errorf("%s: %w", t, err)
	}
	modelCodecs.Store(t, c)
	return c, nil
}

// sameNames checks that the fields and the attributes match one to one.
func sameNames[V any](fields []modelField, attrs map[string]V) error {
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		if _, ok := attrs[f.name]; !ok {
			return fmt.Errorf("field %q has no attribute", f.name)
		}
		seen[f.name] = true
	}
	var missing []string
	for name := range attrs {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("no field for the attributes %q", missing)
	}
	return nil
}

// conversionError is the framework's wording for a value that does not fit
// its model: always a provider bug.
func conversionError(what string, err error) diag.Diagnostics {
	var diags diag.Diagnostics
	diags.AddError("Value Conversion Error",
		"An unexpected error was encountered trying to convert "+what+". This is always an error in the provider. "+
			"Please report the following to the provider developer:\n\n"+err.Error())
	return diags
}

// structTarget is the struct that target, a pointer to one, points at.
func structTarget(target any) (reflect.Value, error) {
	v := reflect.ValueOf(target)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, fmt.Errorf("target %T is not a pointer to a struct", target)
	}
	return v.Elem(), nil
}

// setField assigns v to field f of dst.
func setField(dst reflect.Value, f modelField, v attr.Value) error {
	fv := dst.FieldByIndex(f.index)
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || !rv.Type().AssignableTo(fv.Type()) {
		return fmt.Errorf("attribute %q: a %T does not fit a field of type %s", f.name, v, fv.Type())
	}
	fv.Set(rv)
	return nil
}

// getModel decodes raw, a plan, state or configuration of schema s, into
// target, a pointer to its model.
func getModel(ctx context.Context, s schemaTyper, raw tftypes.Value, target any) diag.Diagnostics {
	dst, err := structTarget(target)
	if err != nil {
		return conversionError("a value", err)
	}
	c, err := codecOf(ctx, dst.Type(), s)
	if err != nil {
		return conversionError("a value", err)
	}
	if !raw.IsKnown() || raw.IsNull() {
		return conversionError("a value", fmt.Errorf("a null or unknown object does not fit %s", dst.Type()))
	}
	var vals map[string]tftypes.Value
	if err := raw.As(&vals); err != nil {
		return conversionError("a value", err)
	}
	for _, f := range c.fields {
		tv, ok := vals[f.name]
		if !ok {
			return conversionError("a value", fmt.Errorf("the value has no attribute %q", f.name))
		}
		v, err := c.attrTypes[f.name].ValueFromTerraform(ctx, tv)
		if err == nil {
			err = setField(dst, f, v)
		}
		if err != nil {
			return conversionError("a value", err)
		}
	}
	return nil
}

// modelValue encodes model, a resource model or a pointer to one, as a value
// of schema s.
func modelValue(ctx context.Context, s schemaTyper, model any) (tftypes.Value, diag.Diagnostics) {
	src := reflect.Indirect(reflect.ValueOf(model))
	if src.Kind() != reflect.Struct {
		return tftypes.Value{}, conversionError("a model", fmt.Errorf("%T is not a struct", model))
	}
	c, err := codecOf(ctx, src.Type(), s)
	if err != nil {
		return tftypes.Value{}, conversionError("a model", err)
	}
	vals := make(map[string]tftypes.Value, len(c.fields))
	for _, f := range c.fields {
		v, ok := src.FieldByIndex(f.index).Interface().(attr.Value)
		if !ok {
			return tftypes.Value{}, conversionError("a model", fmt.Errorf("field %q is not a framework value", f.name))
		}
		want := c.attrTypes[f.name]
		if got := v.Type(ctx); !got.Equal(want) && !got.TerraformType(ctx).Equal(want.TerraformType(ctx)) {
			return tftypes.Value{}, conversionError("a model", fmt.Errorf("attribute %q: a %s value where the schema has %s", f.name, got, want))
		}
		if vals[f.name], err = v.ToTerraformValue(ctx); err != nil {
			return tftypes.Value{}, conversionError("a model", err)
		}
	}
	if err := tftypes.ValidateValue(c.objType, vals); err != nil {
		return tftypes.Value{}, conversionError("a model", err)
	}
	return tftypes.NewValue(c.objType, vals), nil
}

func getPlan(ctx context.Context, p tfsdk.Plan, target any) diag.Diagnostics {
	return getModel(ctx, p.Schema, p.Raw, target)
}

func getState(ctx context.Context, s tfsdk.State, target any) diag.Diagnostics {
	return getModel(ctx, s.Schema, s.Raw, target)
}

func getConfig(ctx context.Context, c tfsdk.Config, target any) diag.Diagnostics {
	return getModel(ctx, c.Schema, c.Raw, target)
}

func setPlan(ctx context.Context, p *tfsdk.Plan, model any) diag.Diagnostics {
	v, diags := modelValue(ctx, p.Schema, model)
	if !diags.HasError() {
		p.Raw = v
	}
	return diags
}

func setState(ctx context.Context, s *tfsdk.State, model any) diag.Diagnostics {
	v, diags := modelValue(ctx, s.Schema, model)
	if !diags.HasError() {
		s.Raw = v
	}
	return diags
}

// objectInto copies a known object's attributes into target, a pointer to
// a struct with a field for each.
func objectInto(o types.Object, target any) diag.Diagnostics {
	dst, err := structTarget(target)
	if err == nil {
		err = assignAttributes(o.Attributes(), dst)
	}
	if err != nil {
		return conversionError("an object", err)
	}
	return nil
}

func assignAttributes(attrs map[string]attr.Value, dst reflect.Value) error {
	fields, err := structFields(dst.Type())
	if err != nil {
		return err
	}
	if err := sameNames(fields, attrs); err != nil {
		return fmt.Errorf("%s: %w", dst.Type(), err)
	}
	for _, f := range fields {
		if err := setField(dst, f, attrs[f.name]); err != nil {
			return err
		}
	}
	return nil
}

// elementsInto copies a known list's elements into target: a pointer to a
// slice of structs (a list of objects), of strings or of int64s. A null or
// unknown string or number is an error, as it is for the framework.
func elementsInto(elems []attr.Value, target any) diag.Diagnostics {
	if err := copyElements(elems, target); err != nil {
		return conversionError("a list", err)
	}
	return nil
}

func copyElements(elems []attr.Value, target any) error {
	v := reflect.ValueOf(target)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Slice {
		return fmt.Errorf("target %T is not a pointer to a slice", target)
	}
	out := reflect.MakeSlice(v.Elem().Type(), len(elems), len(elems))
	for i, e := range elems {
		if e.IsNull() || e.IsUnknown() {
			return fmt.Errorf("element %d is null or unknown", i)
		}
		switch e := e.(type) {
		case types.Object:
			if out.Index(i).Kind() != reflect.Struct {
				return fmt.Errorf("element %d: an object does not fit %s", i, out.Type().Elem())
			}
			if err := assignAttributes(e.Attributes(), out.Index(i)); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		case types.String:
			if out.Index(i).Kind() != reflect.String {
				return fmt.Errorf("element %d: a string does not fit %s", i, out.Type().Elem())
			}
			out.Index(i).SetString(e.ValueString())
		case types.Int64:
			if out.Index(i).Kind() != reflect.Int64 {
				return fmt.Errorf("element %d: a number does not fit %s", i, out.Type().Elem())
			}
			out.Index(i).SetInt(e.ValueInt64())
		default:
			return fmt.Errorf("element %d: unsupported element %T", i, e)
		}
	}
	v.Elem().Set(out)
	return nil
}

// stringsOf reads a known map of strings; a null or unknown element is an
// error.
func stringsOf(m types.Map) (map[string]string, diag.Diagnostics) {
	out := make(map[string]string, len(m.Elements()))
	for k, e := range m.Elements() {
		s, ok := e.(types.String)
		if !ok || s.IsNull() || s.IsUnknown() {
			return nil, conversionError("a map", fmt.Errorf("element %q is not a known string", k))
		}
		out[k] = s.ValueString()
	}
	return out, nil
}

// stringMapValue is a known map of strings.
func stringMapValue(m map[string]string) types.Map {
	elems := make(map[string]attr.Value, len(m))
	for k, s := range m {
		elems[k] = types.StringValue(s)
	}
	return types.MapValueMust(types.StringType, elems)
}

// optionalStringMap is a map of strings, null when empty: what a
// configuration that leaves the attribute out reads as.
func optionalStringMap(m map[string]string) types.Map {
	if len(m) == 0 {
		return types.MapNull(types.StringType)
	}
	return stringMapValue(m)
}

// stringListValue and int64ListValue are known lists.
func stringListValue(values []string) types.List {
	elems := make([]attr.Value, len(values))
	for i, s := range values {
		elems[i] = types.StringValue(s)
	}
	return types.ListValueMust(types.StringType, elems)
}

func int64ListValue(values []int64) types.List {
	elems := make([]attr.Value, len(values))
	for i, n := range values {
		elems[i] = types.Int64Value(n)
	}
	return types.ListValueMust(types.Int64Type, elems)
}
