package protoserver

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"sort"
	"sync"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	msgpack "github.com/vmihailenco/msgpack/v5"
)

// A refresh of an unchanged object must return what Terraform holds for it,
// or `terraform plan -refresh-only -detailed-exitcode`, the drift check
// teams schedule, exits 2 ("changes") while it prints "found no
// differences" (hashicorp/terraform#36403, #37406). Terraform compares the
// state it read (and upgraded) with the refreshed one with reflect.DeepEqual
// over its in-memory values, and the two hold numbers built in two ways:
// one decoded from the state's JSON (cty.ParseNumberVal, 512 bits of
// precision), the other from the msgpack the provider answered with, where
// an integer arrives as an integer (cty.NumberIntVal, 64 bits). Equal
// numbers then compare unequal. A number that arrives in msgpack as a
// decimal string goes through cty.ParseNumberVal as the JSON does, so the
// refreshed state carries its numbers that way: the same text the state
// file holds ('f' format, shortest), and so the same value to the bit.

// numberTexts re-encodes the resource states a ReadResource returns.
type numberTexts struct {
	once  sync.Once
	types map[string]tftypes.Type // resource type name → its schema's type
}

func (n *numberTexts) load(ctx context.Context, s tfprotov6.ProviderServer) {
	n.once.Do(func() {
		n.types = map[string]tftypes.Type{}
		resp, err := s.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
		if err != nil || resp == nil {
			return
		}
		for name, schema := range resp.ResourceSchemas {
			n.types[name] = schema.ValueType()
		}
	})
}

// rewrite re-encodes state, a resource of type typeName, with its numbers
// as decimal strings; a state it cannot read stays as it is.
func (n *numberTexts) rewrite(ctx context.Context, s tfprotov6.ProviderServer, typeName string, state *tfprotov6.DynamicValue) {
	if state == nil || len(state.MsgPack) == 0 {
		return
	}
	n.load(ctx, s)
	typ, ok := n.types[typeName]
	if !ok {
		return
	}
	v, err := state.Unmarshal(typ)
	if err != nil {
		return
	}
	if b, err := numbersAsText(v); err == nil {
		state.MsgPack = b
	}
}

var errNotEncodable = errors.New("a value numbersAsText does not encode")

// numbersAsText encodes v as msgpack the way Terraform reads it, with every
// number as its decimal text.
func numbersAsText(v tftypes.Value) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	if err := encodeValue(enc, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func encodeValue(enc *msgpack.Encoder, v tftypes.Value) error {
	if !v.IsKnown() {
		return errNotEncodable // a refreshed state holds no unknown value
	}
	if v.IsNull() {
		return enc.EncodeNil()
	}
	t := v.Type()
	switch {
	case t.Is(tftypes.String):
		var s string
		if err := v.As(&s); err != nil {
			return err
		}
		return enc.EncodeString(s)
	case t.Is(tftypes.Number):
		var f big.Float
		if err := v.As(&f); err != nil {
			return err
		}
		if f.IsInf() {
			return errNotEncodable
		}
		return enc.EncodeString(f.Text('f', -1))
	case t.Is(tftypes.Bool):
		var b bool
		if err := v.As(&b); err != nil {
			return err
		}
		return enc.EncodeBool(b)
	case t.Is(tftypes.List{}), t.Is(tftypes.Set{}), t.Is(tftypes.Tuple{}):
		var elems []tftypes.Value
		if err := v.As(&elems); err != nil {
			return err
		}
		if err := enc.EncodeArrayLen(len(elems)); err != nil {
			return err
		}
		for _, e := range elems {
			if err := encodeValue(enc, e); err != nil {
				return err
			}
		}
		return nil
	case t.Is(tftypes.Map{}), t.Is(tftypes.Object{}):
		var attrs map[string]tftypes.Value
		if err := v.As(&attrs); err != nil {
			return err
		}
		keys := make([]string, 0, len(attrs))
		for k := range attrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if err := enc.EncodeMapLen(len(keys)); err != nil {
			return err
		}
		for _, k := range keys {
			if err := enc.EncodeString(k); err != nil {
				return err
			}
			if err := encodeValue(enc, attrs[k]); err != nil {
				return err
			}
		}
		return nil
	}
	return errNotEncodable // dynamic values carry their type: not used here
}
