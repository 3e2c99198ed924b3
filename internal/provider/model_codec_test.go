package provider

import (
	"context"
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// sampleValue builds a value of type t that exercises every kind of
// attribute: nested lists, maps and objects, and (by seed) null and unknown
// attributes at every depth.
func sampleValue(t tftypes.Type, seed int, withUnknown bool) tftypes.Value {
	switch {
	case t.Is(tftypes.String):
		return tftypes.NewValue(t, fmt.Sprintf("v%d", seed))
	case t.Is(tftypes.Number):
		return tftypes.NewValue(t, big.NewFloat(float64(seed)))
	case t.Is(tftypes.Bool):
		return tftypes.NewValue(t, seed%2 == 0)
	case t.Is(tftypes.List{}):
		elem := t.(tftypes.List).ElementType
		return tftypes.NewValue(t, []tftypes.Value{sampleValue(elem, seed+1, withUnknown), sampleValue(elem, seed+2, withUnknown)})
	case t.Is(tftypes.Map{}):
		elem := t.(tftypes.Map).ElementType
		return tftypes.NewValue(t, map[string]tftypes.Value{"a": sampleValue(elem, seed+1, withUnknown), "b": sampleValue(elem, seed+2, withUnknown)})
	case t.Is(tftypes.Object{}):
		obj := t.(tftypes.Object)
		names := make([]string, 0, len(obj.AttributeTypes))
		for name := range obj.AttributeTypes {
			names = append(names, name)
		}
		sort.Strings(names)
		vals := map[string]tftypes.Value{}
		for i, name := range names {
			at := obj.AttributeTypes[name]
			switch {
			case (seed+i)%5 == 0:
				vals[name] = tftypes.NewValue(at, nil)
			case withUnknown && (seed+i)%7 == 0:
				vals[name] = tftypes.NewValue(at, tftypes.UnknownValue)
			default:
				vals[name] = sampleValue(at, seed+3*i+1, withUnknown)
			}
		}
		return tftypes.NewValue(t, vals)
	}
	panic("sampleValue: unhandled type " + t.String())
}

func resourceSchemas(t *testing.T) map[string]struct {
	schema resource.SchemaResponse
	model  func() any
} {
	ctx := context.Background()
	out := map[string]struct {
		schema resource.SchemaResponse
		model  func() any
	}{}
	for name, c := range map[string]struct {
		r     resource.Resource
		model func() any
	}{
		"traffic_split": {NewTrafficSplitResource(), func() any { return &trafficSplitModel{} }},
		"mirror_route":  {NewMirrorRouteResource(), func() any { return &mirrorRouteModel{} }},
		"mtls_policy":   {NewMTLSPolicyResource(), func() any { return &mtlsPolicyModel{} }},
		"authorization": {NewAuthorizationResource(), func() any { return &authorizationModel{} }},
		"install":       {NewInstallResource(), func() any { return &installModel{} }},
	} {
		var resp resource.SchemaResponse
		c.r.Schema(ctx, resource.SchemaRequest{}, &resp)
		if resp.Diagnostics.HasError() {
			t.Fatalf("%s schema: %v", name, resp.Diagnostics)
		}
		out[name] = struct {
			schema resource.SchemaResponse
			model  func() any
		}{resp, c.model}
	}
	return out
}

// The framework's Get and Set are the reference: for every resource model,
// on values with nested, null and unknown attributes, getModel must build
// the same model and modelValue the same value.
func TestModelCodecMatchesFramework(t *testing.T) {
	ctx := context.Background()
	for name, c := range resourceSchemas(t) {
		for seed := range 6 {
			t.Run(fmt.Sprintf("%s/%d", name, seed), func(t *testing.T) {
				raw := sampleValue(c.schema.Schema.Type().TerraformType(ctx), seed, seed%2 == 1)
				state := tfsdk.State{Schema: c.schema.Schema, Raw: raw}
				want, got := c.model(), c.model()
				if d := state.Get(ctx, want); d.HasError() {
					t.Fatalf("framework Get: %v", d)
				}
				if d := getState(ctx, state, got); d.HasError() {
					t.Fatalf("getState: %v", d)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("getState built\n%#v\nthe framework\n%#v", got, want)
				}
				var ours, theirs tfsdk.State
				ours.Schema, theirs.Schema = c.schema.Schema, c.schema.Schema
				if d := theirs.Set(ctx, want); d.HasError() {
					t.Fatalf("framework Set: %v", d)
				}
				if d := setState(ctx, &ours, got); d.HasError() {
					t.Fatalf("setState: %v", d)
				}
				if !ours.Raw.Equal(theirs.Raw) || !ours.Raw.Equal(raw) {
					t.Fatalf("setState wrote\n%s\nthe framework\n%s", ours.Raw, theirs.Raw)
				}
				plan := tfsdk.Plan{Schema: c.schema.Schema}
				if d := setPlan(ctx, &plan, reflect.ValueOf(got).Elem().Interface()); d.HasError() || !plan.Raw.Equal(raw) {
					t.Fatalf("setPlan of a model value: %v\n%s", d, plan.Raw)
				}
			})
		}
	}
}

// Nested lists, objects and maps read as the framework's ElementsAs and As
// read them.
func TestNestedConversionsMatchFramework(t *testing.T) {
	ctx := context.Background()
	backendsType := types.ListType{ElemType: types.ObjectType{AttrTypes: backendAttrTypes}}
	v, err := backendsType.ValueFromTerraform(ctx, sampleValue(backendsType.TerraformType(ctx), 1, false))
	if err != nil {
		t.Fatal(err)
	}
	backends := v.(types.List)
	var got, want []backendModel
	if d := backends.ElementsAs(ctx, &want, false); d.HasError() {
		t.Fatal(d)
	}
	if d := elementsInto(backends.Elements(), &got); d.HasError() {
		t.Fatal(d)
	}
	if len(got) != 2 || !reflect.DeepEqual(got, want) {
		t.Fatalf("elementsInto: %#v, ElementsAs: %#v", got, want)
	}

	var wpGot, wpWant waypointModel
	wp := types.ObjectValueMust(waypointAttrTypes, map[string]attr.Value{"mode": types.StringValue("auto"), "name": types.StringNull()})
	if d := wp.As(ctx, &wpWant, basetypes.ObjectAsOptions{}); d.HasError() {
		t.Fatal(d)
	}
	if d := objectInto(wp, &wpGot); d.HasError() || !reflect.DeepEqual(wpGot, wpWant) {
		t.Fatalf("objectInto: %v %#v, As: %#v", d, wpGot, wpWant)
	}

	labels := map[string]string{"version": "v2", "app": "web"}
	framework, d := types.MapValueFrom(ctx, types.StringType, labels)
	if d.HasError() || !stringMapValue(labels).Equal(framework) {
		t.Fatalf("stringMapValue: %v %s, MapValueFrom: %s", d, stringMapValue(labels), framework)
	}
	back, d := stringsOf(framework)
	if d.HasError() || !reflect.DeepEqual(back, labels) {
		t.Fatalf("stringsOf: %v %v", d, back)
	}
	strs, ints := []string{"GET", "POST"}, []int64{80, 8080}
	fs, _ := types.ListValueFrom(ctx, types.StringType, strs)
	fi, _ := types.ListValueFrom(ctx, types.Int64Type, ints)
	if !stringListValue(strs).Equal(fs) || !int64ListValue(ints).Equal(fi) {
		t.Fatalf("list values differ from ListValueFrom's")
	}
	var gotStrs []string
	var gotInts []int64
	if d := elementsInto(fs.Elements(), &gotStrs); d.HasError() || !reflect.DeepEqual(gotStrs, strs) {
		t.Fatalf("elementsInto strings: %v %v", d, gotStrs)
	}
	if d := elementsInto(fi.Elements(), &gotInts); d.HasError() || !reflect.DeepEqual(gotInts, ints) {
		t.Fatalf("elementsInto int64s: %v %v", d, gotInts)
	}
}

// A model that does not fit its schema, or a value that does not fit its
// model, is reported the way the framework reports it, naming what differs.
func TestModelCodecErrors(t *testing.T) {
	ctx := context.Background()
	schemas := resourceSchemas(t)
	split := schemas["traffic_split"].schema.Schema
	raw := sampleValue(split.Type().TerraformType(ctx), 1, false)

	type untagged struct{ Name types.String }
	type short struct {
		Name types.String `tfsdk:"name"`
	}
	wrongType := trafficSplitModel{}
	if d := getModel(ctx, split, raw, &wrongType); d.HasError() {
		t.Fatal(d)
	}
	wrongType.Port = types.Int64Null()
	wrongType.Backends = types.ListNull(types.StringType)

	for name, c := range map[string]struct {
		run  func() error
		want string
	}{
		"untagged field": {func() error { return diagErr(getModel(ctx, split, raw, &untagged{})) }, "has no tfsdk tag"},
		"missing fields": {func() error { return diagErr(getModel(ctx, split, raw, &short{})) }, `no field for the attributes ["ambient_waypoint"`},
		"not a pointer":  {func() error { return diagErr(getModel(ctx, split, raw, trafficSplitModel{})) }, "not a pointer to a struct"},
		"null value": {func() error {
			return diagErr(getModel(ctx, split, tftypes.NewValue(split.Type().TerraformType(ctx), nil), &trafficSplitModel{}))
		}, "a null or unknown object"},
		"wrong value type": {func() error {
			_, d := modelValue(ctx, split, wrongType)
			return diagErr(d)
		}, `attribute "backends": a types.ListType[basetypes.StringType] value`},
		"null list element": {func() error {
			var out []string
			return diagErr(elementsInto(types.ListValueMust(types.StringType, []attr.Value{types.StringNull()}).Elements(), &out))
		}, "element 0 is null or unknown"},
		"object into strings": {func() error {
			var out []string
			wp := types.ObjectValueMust(waypointAttrTypes, map[string]attr.Value{"mode": types.StringValue("auto"), "name": types.StringNull()})
			return diagErr(elementsInto(types.ListValueMust(wp.Type(ctx), []attr.Value{wp}).Elements(), &out))
		}, "an object does not fit string"},
		"unknown map element": {func() error {
			_, d := stringsOf(types.MapValueMust(types.StringType, map[string]attr.Value{"a": types.StringUnknown()}))
			return diagErr(d)
		}, `element "a" is not a known string`},
	} {
		t.Run(name, func(t *testing.T) {
			err := c.run()
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "Value Conversion Error") {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func diagErr(d diag.Diagnostics) error {
	if !d.HasError() {
		return nil
	}
	var b strings.Builder
	for _, e := range d.Errors() {
		b.WriteString(e.Summary() + ": " + e.Detail() + "\n")
	}
	return fmt.Errorf("%s", b.String())
}
