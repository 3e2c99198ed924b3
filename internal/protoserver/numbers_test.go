package protoserver

import (
	"math/big"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	ctymsgpack "github.com/zclconf/go-cty/cty/msgpack"
)

// stateType has every kind of value a resource state holds.
var stateType = tftypes.Object{AttributeTypes: map[string]tftypes.Type{
	"id":        tftypes.String,
	"revision":  tftypes.Number,
	"percent":   tftypes.Number,
	"enabled":   tftypes.Bool,
	"manifests": tftypes.Map{ElementType: tftypes.String},
	"ports":     tftypes.List{ElementType: tftypes.Number},
	"nested":    tftypes.Object{AttributeTypes: map[string]tftypes.Type{"weight": tftypes.Number, "name": tftypes.String}},
	"none":      tftypes.Set{ElementType: tftypes.String},
}}

var ctyStateType = cty.Object(map[string]cty.Type{
	"id": cty.String, "revision": cty.Number, "percent": cty.Number, "enabled": cty.Bool,
	"manifests": cty.Map(cty.String), "ports": cty.List(cty.Number),
	"nested": cty.Object(map[string]cty.Type{"weight": cty.Number, "name": cty.String}),
	"none":   cty.Set(cty.String),
})

func sampleState() tftypes.Value {
	num := func(f float64) tftypes.Value { return tftypes.NewValue(tftypes.Number, big.NewFloat(f)) }
	return tftypes.NewValue(stateType, map[string]tftypes.Value{
		"id":        tftypes.NewValue(tftypes.String, "ns/name"),
		"revision":  tftypes.NewValue(tftypes.Number, new(big.Float).SetInt64(3)),
		"percent":   num(12.5),
		"enabled":   tftypes.NewValue(tftypes.Bool, true),
		"manifests": tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{"a": tftypes.NewValue(tftypes.String, "kind: X\n")}),
		"ports":     tftypes.NewValue(tftypes.List{ElementType: tftypes.Number}, []tftypes.Value{num(8080), num(0.1)}),
		"nested": tftypes.NewValue(stateType.AttributeTypes["nested"], map[string]tftypes.Value{
			"weight": num(90), "name": tftypes.NewValue(tftypes.String, nil),
		}),
		"none": tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, nil),
	})
}

// TestNumbersAsTextMatchStateJSON does what Terraform does with a refresh:
// the refreshed state, decoded from the provider's msgpack, must be
// reflect.DeepEqual to the state decoded from the JSON Terraform stored
// (hashicorp/terraform#36403). With numbers as msgpack integers it is not.
func TestNumbersAsTextMatchStateJSON(t *testing.T) {
	v := sampleState()
	dv, err := tfprotov6.NewDynamicValue(stateType, v)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ctymsgpack.Unmarshal(dv.MsgPack, ctyStateType)
	if err != nil {
		t.Fatal(err)
	}
	// The state file: Terraform's JSON of the value it got at apply.
	stored, err := ctyjson.Marshal(plain, ctyStateType)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := ctyjson.Unmarshal(stored, ctyStateType)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(plain, fromJSON) {
		t.Fatal("the plain msgpack decodes to what the JSON does: the test no longer shows the problem it guards against")
	}
	b, err := numbersAsText(v)
	if err != nil {
		t.Fatal(err)
	}
	text, err := ctymsgpack.Unmarshal(b, ctyStateType)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(text, fromJSON) {
		t.Errorf("numbers as text decode to\n%#v\nwant what the stored JSON decodes to\n%#v", text, fromJSON)
	}
	// The framework, and the Pulumi bridge, read it back as the same
	// numbers: exactly, or (0.1, which a float64 only approximates) as the
	// same float64.
	back, err := (&tfprotov6.DynamicValue{MsgPack: b}).Unmarshal(stateType)
	if err != nil {
		t.Fatal(err)
	}
	var attrs map[string]tftypes.Value
	_ = back.As(&attrs)
	var ports []tftypes.Value
	_ = attrs["ports"].As(&ports)
	var tenth big.Float
	_ = ports[1].As(&tenth)
	if f, _ := tenth.Float64(); f != 0.1 {
		t.Errorf("0.1 read back as %v", f)
	}
	want := withPort(v, 1, tftypes.NewValue(tftypes.Number, &tenth))
	if !back.Equal(want) {
		t.Errorf("read back as\n%v\nwant\n%v", back, want)
	}
}

// withPort is v with ports[i] replaced by p.
func withPort(v tftypes.Value, i int, p tftypes.Value) tftypes.Value {
	out, _ := tftypes.Transform(v, func(at *tftypes.AttributePath, x tftypes.Value) (tftypes.Value, error) {
		if at.Equal(tftypes.NewAttributePath().WithAttributeName("ports").WithElementKeyInt(i)) {
			return p, nil
		}
		return x, nil
	})
	return out
}

func TestNumbersAsTextRefusesUnknown(t *testing.T) {
	v := tftypes.NewValue(tftypes.Object{AttributeTypes: map[string]tftypes.Type{"a": tftypes.String}},
		map[string]tftypes.Value{"a": tftypes.NewValue(tftypes.String, tftypes.UnknownValue)})
	if _, err := numbersAsText(v); err == nil {
		t.Error("an unknown value was encoded; a refreshed state has none, and the original must be kept")
	}
}
