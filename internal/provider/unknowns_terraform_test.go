package provider

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	hclv2 "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Through the real terraform binary: for every resource and target, the
// acceptance configuration with every value it sets replaced by a
// reference to a terraform_data output, so that at plan every one of them,
// down to each list element and map value, is unknown at once. The plan
// and the apply must succeed, and the next plan must be empty.

// withEveryValueFromTerraformData rewrites config's mesh resource so that
// each value it sets comes from terraform_data.values, whose input holds
// the literals.
func withEveryValueFromTerraformData(t *testing.T, config string) string {
	t.Helper()
	file, diags := hclsyntax.ParseConfig([]byte(config), "main.tf", hclv2.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse: %s", diags.Error())
	}
	var out strings.Builder
	last := 0
	for _, b := range file.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "resource" || !strings.HasPrefix(b.Labels[0], "mesh_") {
			continue
		}
		names := make([]string, 0, len(b.Body.Attributes))
		for name := range b.Body.Attributes {
			names = append(names, name)
		}
		sort.Strings(names)
		literals := map[string]cty.Value{}
		var body strings.Builder
		for _, name := range names {
			v := exampleValue(b.Body.Attributes[name].Expr)
			if slices.Contains(metaArguments, name) || !v.IsWhollyKnown() {
				src := b.Body.Attributes[name].SrcRange
				fmt.Fprintf(&body, "  %s\n", config[src.Start.Byte:src.End.Byte])
				continue
			}
			literals[name] = v
			fmt.Fprintf(&body, "  %s = %s\n", name, references(v, "terraform_data.values.output."+name))
		}
		r := b.Range()
		out.WriteString(config[last:r.Start.Byte])
		fmt.Fprintf(&out, "resource %q \"values\" {\n  input = %s\n}\n\n", "terraform_data",
			hclwrite.TokensForValue(cty.ObjectVal(literals)).Bytes())
		fmt.Fprintf(&out, "resource %q %q {\n%s}\n", b.Labels[0], b.Labels[1], body.String())
		last = r.End.Byte
	}
	out.WriteString(config[last:])
	return out.String()
}

// references is v with each value it holds written as the expression at
// ref that yields it: lists and objects keep their shape, so that every
// element and map value is a reference of its own.
func references(v cty.Value, ref string) string {
	t := v.Type()
	switch {
	case v.IsNull():
		return "null"
	case t.IsTupleType() || t.IsListType():
		var elems []string
		for it, i := v.ElementIterator(), 0; it.Next(); i++ {
			_, e := it.Element()
			elems = append(elems, references(e, fmt.Sprintf("%s[%d]", ref, i)))
		}
		return "[" + strings.Join(elems, ", ") + "]"
	case t.IsObjectType() || t.IsMapType():
		var items []string
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			items = append(items, fmt.Sprintf("%q = %s", k.AsString(), references(e, fmt.Sprintf("%s[%q]", ref, k.AsString()))))
		}
		sort.Strings(items)
		return "{ " + strings.Join(items, ", ") + " }"
	}
	return ref
}

func TestAccEveryValueUnknownAtPlan(t *testing.T) {
	testAccPreCheck(t)
	for _, c := range append(driftCases(), installDriftCases()...) {
		t.Run(c.name, func(t *testing.T) {
			config, _ := c.config(t)
			config = withEveryValueFromTerraformData(t, config)
			t.Logf("configuration:\n%s", config)
			tf, reattach := terraformIn(t, config)
			ctx := context.Background()
			if _, err := tf.Plan(ctx, reattach); err != nil {
				t.Fatalf("plan with every value unknown: %v\n%s", err, config)
			}
			applied(t, tf, reattach)
			changes, err := tf.Plan(ctx, reattach)
			if err != nil {
				t.Fatal(err)
			}
			if changes {
				t.Errorf("the plan after the apply is not empty:\n%s", config)
			}
		})
	}
}
