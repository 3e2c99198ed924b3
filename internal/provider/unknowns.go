package provider

import (
	"context"
	"fmt"
	"math/big"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// A configuration may hold values that Terraform knows only at apply: a
// scalar, a list or map element, a map value, or a whole list, map or
// nested object built from another resource's attributes. The lifecycle
// never lets one fail validate or plan: it finds where they are
// (unknownsIn), checks and renders the configuration in variants that put
// stand-ins in their place (substituted), and keeps only the findings and
// the objects that every variant gives: those do not depend on the unknown
// values. Terraform validates and plans again at apply with every value
// known, and what depended on them is checked and shown then.
//
// The variants try every value a bool or an enum can take, and two
// different stand-ins for a string or a number (a renderer copies those;
// it does not choose by them). A list, map or object is not tried: a
// finding at or above it is dropped, and no object is shown.

// unknownKind says how the variants stand in for an unknown value.
type unknownKind int

const (
	// unknownCopied is a string or a number: two stand-ins.
	unknownCopied unknownKind = iota
	// unknownChoice is a bool or an enum: each of its values.
	unknownChoice
	// unknownOpaque is a list, set, map or object.
	unknownOpaque
)

// unknownAt is one value of a configuration that is not known yet.
type unknownAt struct {
	path *tftypes.AttributePath
	// steps is the path as mesh.Problem paths spell it: attribute names and
	// list indexes (a map value's key is a string step too).
	steps   []any
	kind    unknownKind
	typ     tftypes.Type
	choices []tftypes.Value // unknownChoice: every value it can take
	// literals are the known values of its type elsewhere in the
	// configuration (unknownCopied): a renderer that compares it with one
	// (a mirror that is the primary Service) renders otherwise when equal,
	// so a variant tries each.
	literals []tftypes.Value
}

// unknownsIn lists the unknown values of raw, a configuration of schema s.
func unknownsIn(ctx context.Context, s tfsdk.Config, raw tftypes.Value) []unknownAt {
	var out []unknownAt
	var literals []tftypes.Value
	_ = tftypes.Walk(raw, func(p *tftypes.AttributePath, v tftypes.Value) (bool, error) {
		if v.IsKnown() {
			if t := v.Type(); !v.IsNull() && (t.Is(tftypes.String) || integral(v)) &&
				!slices.ContainsFunc(literals, v.Equal) {
				literals = append(literals, v)
			}
			return true, nil
		}
		t := v.Type()
		u := unknownAt{path: p, steps: problemSteps(p), kind: unknownOpaque, typ: t}
		switch {
		case t.Is(tftypes.Number):
			u.kind = unknownCopied
		case t.Is(tftypes.Bool):
			u.kind = unknownChoice
			u.choices = []tftypes.Value{tftypes.NewValue(t, false), tftypes.NewValue(t, true)}
		case t.Is(tftypes.String):
			u.kind = unknownCopied
			if values, ok := stringEnum(ctx, s, p); ok {
				u.kind = unknownChoice
				for _, e := range values {
					u.choices = append(u.choices, tftypes.NewValue(t, e))
				}
			}
		}
		out = append(out, u)
		return false, nil
	})
	for i, u := range out {
		if u.kind == unknownCopied {
			for _, l := range literals {
				if l.Type().Equal(u.typ) {
					out[i].literals = append(out[i].literals, l)
				}
			}
		}
	}
	return out
}

// integral reports whether v is a whole number: what a number compared
// with (a port) would equal. Fractions (a percentage) are not tried.
func integral(v tftypes.Value) bool {
	var f big.Float
	return v.Type().Is(tftypes.Number) && v.As(&f) == nil && f.IsInt()
}

// stringEnum returns the values of the string attribute at p, if it is an
// enum.
func stringEnum(ctx context.Context, s tfsdk.Config, p *tftypes.AttributePath) ([]string, bool) {
	a, err := s.Schema.AttributeAtTerraformPath(ctx, p)
	if err != nil {
		return nil, false // an element of a list or map of strings
	}
	if str, ok := a.(schema.StringAttribute); ok {
		return enumValues(str.Validators)
	}
	return nil, false
}

// unknownNames are the unknown values' paths, for the log.
func unknownNames(unknowns []unknownAt) []string {
	out := make([]string, len(unknowns))
	for i, u := range unknowns {
		out[i] = hclPath(u.steps)
	}
	return out
}

// problemSteps converts a Terraform attribute path to mesh.Problem steps.
func problemSteps(p *tftypes.AttributePath) []any {
	steps := make([]any, 0, len(p.Steps()))
	for _, s := range p.Steps() {
		switch s := s.(type) {
		case tftypes.AttributeName:
			steps = append(steps, string(s))
		case tftypes.ElementKeyInt:
			steps = append(steps, int(s))
		case tftypes.ElementKeyString:
			steps = append(steps, string(s))
		default:
			steps = append(steps, fmt.Sprint(s))
		}
	}
	return steps
}

// related reports whether one path is a prefix of the other: a finding at
// either may depend on a value at the other (a weight sum at "backends" on
// a weight at "backends", 1, "weight").
func related(a, b []any) bool {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// withoutUnknown drops the findings whose path is related to an unknown
// value's.
func withoutUnknown(problems mesh.Problems, unknowns []unknownAt) mesh.Problems {
	if len(unknowns) == 0 {
		return problems
	}
	return slices.DeleteFunc(slices.Clone(problems), func(p mesh.Problem) bool {
		return slices.ContainsFunc(unknowns, func(u unknownAt) bool { return related(p.Path, u.steps) })
	})
}

// maxVariants bounds the variants of one configuration: beyond it (many
// unknown bools or enums at once) nothing is checked or shown until apply.
const maxVariants = 256

// copiedVariants is how many variants each choice of the bools and enums
// is tried with: two sets of stand-ins, and one per literal an unknown
// string or number could equal.
func copiedVariants(unknowns []unknownAt) int {
	n := 2
	for _, u := range unknowns {
		n += len(u.literals)
	}
	return n
}

// variantCount is how many variants try the unknown values' choices; 0
// when that is more than maxVariants.
func variantCount(unknowns []unknownAt) int {
	if len(unknowns) == 0 {
		return 1
	}
	n := copiedVariants(unknowns)
	for _, u := range unknowns {
		if u.kind == unknownChoice {
			if n *= len(u.choices); n > maxVariants {
				return 0
			}
		}
	}
	if n > maxVariants {
		return 0
	}
	return n
}

// opaque reports whether an unknown value is a list, map or object.
func opaque(unknowns []unknownAt) bool {
	return slices.ContainsFunc(unknowns, func(u unknownAt) bool { return u.kind == unknownOpaque })
}

// standInString is stand-in n of parity (0 or 1) for an unknown string:
// valid as a name, a label key or value and a host, so that rendering it
// does not fail where the real value would not. Every unknown value gets
// its own, so that no two compare equal (a duplicate, a mirror that is
// also a backend), and no stand-in of one parity equals one of the other.
func standInString(parity, n int) string {
	return fmt.Sprintf("mesh-unknown-%c%d", 'a'+parity, n)
}

// standInNumber is the same for a number: valid as a port.
func standInNumber(parity, n int) int64 { return int64(10000 + 2*n + parity) }

// substituted returns raw as variant v of its unknown values (listed by
// unknownsIn, v below variantCount). v counts first through the copied
// variants: stand-ins of parity 0, of parity 1, then each unknown string or
// number equal to each literal in turn (the others parity 0); then through
// the combinations of the bools' and enums' values. An object is stood in
// for by one whose attributes are stand-ins, and a list, set or map by null.
func substituted(raw tftypes.Value, unknowns []unknownAt, v int) (tftypes.Value, error) {
	copied := copiedVariants(unknowns)
	c, choice := v%copied, v/copied
	parity, equal, literal := min(c, 1), -1, 0
	if c >= 2 {
		parity, c = 0, c-2
		for i, u := range unknowns {
			if c < len(u.literals) {
				equal, literal = i, c
				break
			}
			c -= len(u.literals)
		}
	}
	n := len(unknowns)
	return tftypes.Transform(raw, func(p *tftypes.AttributePath, x tftypes.Value) (tftypes.Value, error) {
		if x.IsKnown() {
			return x, nil
		}
		stride := 1
		for i, u := range unknowns {
			match := u.path.Equal(p)
			switch {
			case match && i == equal:
				return u.literals[literal], nil
			case match && u.kind == unknownChoice:
				return u.choices[(choice/stride)%len(u.choices)], nil
			case match && u.kind == unknownCopied:
				i := i
				return standInValue(x.Type(), parity, &i), nil
			case u.kind == unknownChoice:
				stride *= len(u.choices)
			}
		}
		return standInValue(x.Type(), parity, &n), nil
	})
}

func standInValue(t tftypes.Type, parity int, n *int) tftypes.Value {
	*n++
	switch {
	case t.Is(tftypes.String):
		return tftypes.NewValue(t, standInString(parity, *n))
	case t.Is(tftypes.Number):
		return tftypes.NewValue(t, new(big.Float).SetInt64(standInNumber(parity, *n)))
	case t.Is(tftypes.Bool):
		return tftypes.NewValue(t, parity == 1)
	case t.Is(tftypes.Object{}):
		types := t.(tftypes.Object).AttributeTypes
		attrs := make(map[string]tftypes.Value, len(types))
		for _, name := range sortedKeys(types) {
			attrs[name] = standInValue(types[name], parity, n)
		}
		return tftypes.NewValue(t, attrs)
	}
	return tftypes.NewValue(t, nil)
}
