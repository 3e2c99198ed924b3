package provider

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	hclv2 "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// The tests here are generated from the schema and the committed example
// configurations (examples/**/*.tf): for every resource block, every value
// it sets (a scalar, a list or map element, a map value, a whole list, map
// or nested object) is made unknown in turn, as a reference to another
// resource would make it, and the provider must validate and plan it
// without an error. Whatever manifests the plan shows as known must be the
// ones it plans once the value is known (Terraform rejects the apply
// otherwise). A schema attribute that no example sets fails the test, so a
// new attribute is covered by adding it to an example, not by a new test.

// exampleValue evaluates an example's expression as Terraform does at
// `terraform validate`: literals are known, and a reference to anything (a
// variable, another resource, a function of one) is unknown, inside lists
// and objects too.
func exampleValue(expr hclsyntax.Expression) cty.Value {
	switch e := expr.(type) {
	case *hclsyntax.TupleConsExpr:
		elems := make([]cty.Value, len(e.Exprs))
		for i, x := range e.Exprs {
			elems[i] = exampleValue(x)
		}
		return cty.TupleVal(elems)
	case *hclsyntax.ObjectConsExpr:
		attrs := map[string]cty.Value{}
		for _, item := range e.Items {
			k, diags := item.KeyExpr.Value(nil)
			if diags.HasErrors() || !k.IsKnown() || k.Type() != cty.String {
				return cty.DynamicVal
			}
			attrs[k.AsString()] = exampleValue(item.ValueExpr)
		}
		return cty.ObjectVal(attrs)
	}
	if v, diags := expr.Value(nil); !diags.HasErrors() {
		return v
	}
	return cty.DynamicVal
}

// exampleBlock is one resource block of an example configuration.
type exampleBlock struct {
	file, typeName, name string
	attrs                map[string]cty.Value
}

// metaArguments are not the resource's attributes.
var metaArguments = []string{"depends_on", "count", "for_each", "provider", "lifecycle"}

// exampleBlocks parses every resource block of the committed examples. An
// attribute whose expression refers to anything (a variable, another
// resource) is left out: only literals are values here.
func exampleBlocks(t *testing.T) []exampleBlock {
	t.Helper()
	var files []string
	err := filepath.WalkDir("../../examples", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".tf") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var blocks []exampleBlock
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, configBlocks(t, f, src, "resource")...)
	}
	return blocks
}

// configBlocks parses the blocks of one configuration of type kind
// ("resource": the mesh resources; "provider": the mesh provider's).
func configBlocks(t testing.TB, name string, src []byte, kind string) []exampleBlock {
	t.Helper()
	file, diags := hclsyntax.ParseConfig(src, name, hclv2.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("%s: %s", name, diags.Error())
	}
	var blocks []exampleBlock
	for _, b := range file.Body.(*hclsyntax.Body).Blocks {
		var eb exampleBlock
		switch {
		case kind == "resource" && b.Type == "resource" && len(b.Labels) == 2 && strings.HasPrefix(b.Labels[0], "mesh_"):
			eb = exampleBlock{file: name, typeName: b.Labels[0], name: b.Labels[1]}
		case kind == "provider" && b.Type == "provider" && len(b.Labels) == 1 && b.Labels[0] == "mesh":
			eb = exampleBlock{file: name, typeName: "provider", name: "mesh"}
		default:
			continue
		}
		eb.attrs = map[string]cty.Value{}
		for name, a := range b.Body.Attributes {
			if slices.Contains(metaArguments, name) {
				continue
			}
			eb.attrs[name] = exampleValue(a.Expr)
		}
		blocks = append(blocks, eb)
	}
	return blocks
}

// toTerraform converts an HCL value to a value of type t, as Terraform
// does for a configuration.
func toTerraform(t tftypes.Type, v cty.Value) (tftypes.Value, error) {
	if !v.IsKnown() {
		return tftypes.NewValue(t, tftypes.UnknownValue), nil
	}
	if v.IsNull() {
		return tftypes.NewValue(t, nil), nil
	}
	switch {
	case t.Is(tftypes.String):
		s, err := convert.Convert(v, cty.String)
		if err != nil {
			return tftypes.Value{}, err
		}
		return tftypes.NewValue(t, s.AsString()), nil
	case t.Is(tftypes.Number):
		n, err := convert.Convert(v, cty.Number)
		if err != nil {
			return tftypes.Value{}, err
		}
		return tftypes.NewValue(t, n.AsBigFloat()), nil
	case t.Is(tftypes.Bool):
		b, err := convert.Convert(v, cty.Bool)
		if err != nil {
			return tftypes.Value{}, err
		}
		return tftypes.NewValue(t, b.True()), nil
	case t.Is(tftypes.List{}), t.Is(tftypes.Set{}):
		var elemType tftypes.Type
		if l, ok := t.(tftypes.List); ok {
			elemType = l.ElementType
		} else {
			elemType = t.(tftypes.Set).ElementType
		}
		var elems []tftypes.Value
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			te, err := toTerraform(elemType, e)
			if err != nil {
				return tftypes.Value{}, err
			}
			elems = append(elems, te)
		}
		return tftypes.NewValue(t, elems), nil
	case t.Is(tftypes.Map{}):
		elems := map[string]tftypes.Value{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			te, err := toTerraform(t.(tftypes.Map).ElementType, e)
			if err != nil {
				return tftypes.Value{}, err
			}
			elems[k.AsString()] = te
		}
		return tftypes.NewValue(t, elems), nil
	case t.Is(tftypes.Object{}):
		obj := t.(tftypes.Object)
		attrs := map[string]tftypes.Value{}
		for name, at := range obj.AttributeTypes {
			av := cty.NullVal(cty.DynamicPseudoType)
			if v.Type().IsObjectType() && v.Type().HasAttribute(name) {
				av = v.GetAttr(name)
			}
			tv, err := toTerraform(at, av)
			if err != nil {
				return tftypes.Value{}, fmt.Errorf("%s: %w", name, err)
			}
			attrs[name] = tv
		}
		if v.Type().IsObjectType() {
			for name := range v.Type().AttributeTypes() {
				if _, ok := obj.AttributeTypes[name]; !ok {
					return tftypes.Value{}, fmt.Errorf("no attribute %q in the schema", name)
				}
			}
		}
		return tftypes.NewValue(t, attrs), nil
	}
	return tftypes.Value{}, fmt.Errorf("unsupported type %s", t)
}

// blockValue is an example block as the configuration Terraform sends.
func blockValue(t *testing.T, s *tfprotov6.Schema, b exampleBlock) tftypes.Value {
	t.Helper()
	attrs := map[string]cty.Value{}
	for k, v := range b.attrs {
		attrs[k] = v
	}
	v, err := toTerraform(s.ValueType(), cty.ObjectVal(attrs))
	if err != nil {
		t.Fatalf("%s: %s.%s: %v", b.file, b.typeName, b.name, err)
	}
	return v
}

// settableLeaves are the schema's attributes a configuration can set,
// nested ones by their path without indexes ("backends.subset_labels").
func settableLeaves(attrs []*tfprotov6.SchemaAttribute, prefix string) []string {
	var out []string
	for _, a := range attrs {
		if a.Computed && !a.Optional && !a.Required {
			continue
		}
		p := prefix + a.Name
		if a.NestedType != nil {
			out = append(out, settableLeaves(a.NestedType.Attributes, p+".")...)
			continue
		}
		out = append(out, p)
	}
	return out
}

// leafName is a value's path without list indexes and map keys.
func leafName(p *tftypes.AttributePath) string {
	var names []string
	for _, s := range p.Steps() {
		if n, ok := s.(tftypes.AttributeName); ok {
			names = append(names, string(n))
		}
	}
	return strings.Join(names, ".")
}

// proposedNew is the plan Terraform proposes for a create: the
// configuration with every computed attribute it leaves null unknown.
func proposedNew(attrs []*tfprotov6.SchemaAttribute, v tftypes.Value) tftypes.Value {
	if v.IsNull() || !v.IsKnown() {
		return v
	}
	var orig map[string]tftypes.Value
	if err := v.As(&orig); err != nil {
		panic(err)
	}
	vals := maps.Clone(orig) // As shares the value's own map
	for _, a := range attrs {
		av := vals[a.Name]
		switch {
		case av.IsNull() && a.Computed:
			vals[a.Name] = tftypes.NewValue(av.Type(), tftypes.UnknownValue)
		case a.NestedType != nil && av.IsKnown() && !av.IsNull():
			vals[a.Name] = proposedNested(a.NestedType, av)
		}
	}
	return tftypes.NewValue(v.Type(), vals)
}

func proposedNested(o *tfprotov6.SchemaObject, v tftypes.Value) tftypes.Value {
	if o.Nesting == tfprotov6.SchemaObjectNestingModeSingle {
		return proposedNew(o.Attributes, v)
	}
	var orig []tftypes.Value
	if err := v.As(&orig); err != nil {
		panic(err)
	}
	elems := slices.Clone(orig)
	for i, e := range elems {
		elems[i] = proposedNew(o.Attributes, e)
	}
	return tftypes.NewValue(v.Type(), elems)
}

// withUnknownAt is v with the value at p unknown.
func withUnknownAt(t *testing.T, v tftypes.Value, p *tftypes.AttributePath) tftypes.Value {
	t.Helper()
	out, err := tftypes.Transform(v, func(at *tftypes.AttributePath, x tftypes.Value) (tftypes.Value, error) {
		if at.Equal(p) {
			return tftypes.NewValue(x.Type(), tftypes.UnknownValue), nil
		}
		return x, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// setValues are the paths of every value v sets, nested ones included.
func setValues(v tftypes.Value) []*tftypes.AttributePath {
	var out []*tftypes.AttributePath
	_ = tftypes.Walk(v, func(p *tftypes.AttributePath, x tftypes.Value) (bool, error) {
		if len(p.Steps()) > 0 && !x.IsNull() {
			out = append(out, p)
		}
		return true, nil
	})
	return out
}

func dynamicValue(t testing.TB, typ tftypes.Type, v tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		t.Fatal(err)
	}
	return &dv
}

// frameworkRequired is the framework's own "Missing Configuration for
// Required Attribute" for an attribute inside the value made unknown: the
// framework (v1.17.0) reads an attribute of an unknown list element as
// null, not unknown, before the provider is asked. The provider cannot
// change that; its own checks are what this test is about.
func frameworkRequired(e string, unknown *tftypes.AttributePath) bool {
	return strings.Contains(e, "Missing Configuration for Required Attribute") && strings.HasPrefix(e, unknown.String()+".")
}

func errorsOf(diags []*tfprotov6.Diagnostic) []string {
	var out []string
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			out = append(out, fmt.Sprint(d.Attribute)+": "+d.Summary+": "+d.Detail)
		}
	}
	return out
}

// unknownsServer is the provider, configured for target with a connection
// known only at apply (the cluster checks wait for it) or, with
// unknownTarget, with the target itself unknown.
func unknownsServer(t *testing.T, target mesh.Target, unknownTarget bool) (tfprotov6.ProviderServer, *tfprotov6.GetProviderSchemaResponse) {
	t.Helper()
	targetValue := tftypes.NewValue(tftypes.String, string(target))
	if unknownTarget {
		targetValue = tftypes.NewValue(tftypes.String, tftypes.UnknownValue)
	}
	return protocolServer(t, map[string]tftypes.Value{
		"host": tftypes.NewValue(tftypes.String, tftypes.UnknownValue), "target": targetValue,
	})
}

// protocolServer is the provider's protocol server, configured with set
// (every other provider attribute null).
func protocolServer(t testing.TB, set map[string]tftypes.Value) (tfprotov6.ProviderServer, *tfprotov6.GetProviderSchemaResponse) {
	t.Helper()
	server, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	return configure(t, server, set)
}

// configure configures server with set (every other provider
// attribute null).
func configure(t testing.TB, server tfprotov6.ProviderServer, set map[string]tftypes.Value) (tfprotov6.ProviderServer, *tfprotov6.GetProviderSchemaResponse) {
	t.Helper()
	ctx := context.Background()
	schemas, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	pt := schemas.Provider.ValueType().(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for name, at := range pt.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	maps.Copy(vals, set)
	resp, err := server.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{
		TerraformVersion: "1.11.4", Config: dynamicValue(t, pt, tftypes.NewValue(pt, vals)),
	})
	if err != nil || len(errorsOf(resp.Diagnostics)) > 0 {
		t.Fatalf("configure: %v %v", err, errorsOf(resp.Diagnostics))
	}
	return server, schemas
}

// planResource validates and plans cfg as a create, and returns the
// framework's answer; errs are the diagnostics' errors, "validate:" or
// "plan:" first.
func planResource(t testing.TB, server tfprotov6.ProviderServer, s *tfprotov6.Schema, typeName string, cfg tftypes.Value) (*tfprotov6.PlanResourceChangeResponse, []string) {
	t.Helper()
	ctx := context.Background()
	typ := s.ValueType()
	vr, err := server.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{
		TypeName: typeName, Config: dynamicValue(t, typ, cfg),
		// As Terraform 1.11 and later send it: write-only attributes allowed.
		ClientCapabilities: &tfprotov6.ValidateResourceConfigClientCapabilities{WriteOnlyAttributesAllowed: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if errs := errorsOf(vr.Diagnostics); len(errs) > 0 {
		return nil, append([]string{"validate:"}, errs...)
	}
	pr, err := server.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName: typeName, Config: dynamicValue(t, typ, cfg),
		PriorState:       dynamicValue(t, typ, tftypes.NewValue(typ, nil)),
		ProposedNewState: dynamicValue(t, typ, proposedNew(s.Block.Attributes, cfg)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if errs := errorsOf(pr.Diagnostics); len(errs) > 0 {
		return nil, append([]string{"plan:"}, errs...)
	}
	return pr, nil
}

// planOf validates and plans cfg as a create, and returns the planned
// manifests (a resource without them, mesh_install, yields null).
func planOf(t testing.TB, server tfprotov6.ProviderServer, s *tfprotov6.Schema, typeName string, cfg tftypes.Value) (tftypes.Value, []string) {
	t.Helper()
	pr, errs := planResource(t, server, s, typeName, cfg)
	if len(errs) > 0 {
		return tftypes.Value{}, errs
	}
	return attributeOf(t, s, pr.PlannedState, "manifests"), nil
}

// attributeOf is the attribute name of a value of s (null when s has no
// such attribute).
func attributeOf(t testing.TB, s *tfprotov6.Schema, dv *tfprotov6.DynamicValue, name string) tftypes.Value {
	t.Helper()
	v, err := dv.Unmarshal(s.ValueType())
	if err != nil {
		t.Fatal(err)
	}
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		t.Fatal(err)
	}
	if a, ok := attrs[name]; ok {
		return a
	}
	return tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, nil)
}

// consistent reports how partial planned manifests differ from the ones
// planned with every value known; "" when Terraform would accept them.
func consistent(partial, full tftypes.Value) string {
	if !partial.IsKnown() || partial.IsNull() || !full.IsKnown() {
		return ""
	}
	var p, f map[string]tftypes.Value
	if err := partial.As(&p); err != nil {
		return err.Error()
	}
	if err := full.As(&f); err != nil {
		return err.Error()
	}
	var keys []string
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(p) != len(f) {
		return fmt.Sprintf("keys %v planned, %d objects once known", keys, len(f))
	}
	for _, k := range keys {
		fv, ok := f[k]
		switch {
		case !ok:
			return fmt.Sprintf("object %s planned, not rendered once known", k)
		case p[k].IsKnown() && fv.IsKnown() && !p[k].Equal(fv):
			return fmt.Sprintf("object %s planned as\n%v\nrendered once known as\n%v", k, p[k], fv)
		}
	}
	return ""
}

func knownElements(m tftypes.Value) int {
	if !m.IsKnown() || m.IsNull() {
		return 0
	}
	var elems map[string]tftypes.Value
	_ = m.As(&elems)
	n := 0
	for _, e := range elems {
		if e.IsKnown() {
			n++
		}
	}
	return n
}

// targetsOf are the targets an example block is planned for: its own when
// it names one, else every target through the provider's (mesh_install
// has none: once).
func targetsOf(b exampleBlock) []mesh.Target {
	attr := "target"
	switch b.typeName {
	case installType:
		return mesh.Targets[:1]
	case authorizationType:
		attr = authzTargetAttr
	}
	if v, ok := b.attrs[attr]; ok && v.Type() == cty.String {
		return []mesh.Target{mesh.Target(v.AsString())}
	}
	return mesh.Targets
}

func TestUnknownValuesGenerated(t *testing.T) {
	blocks := exampleBlocks(t)
	_, schemas := unknownsServer(t, mesh.TargetIstioSidecar, false)

	// Every settable attribute is set by some example.
	set := map[string]bool{}
	for _, b := range blocks {
		s := schemas.ResourceSchemas[b.typeName]
		if s == nil {
			t.Fatalf("%s: no resource type %s", b.file, b.typeName)
		}
		for _, p := range setValues(blockValue(t, s, b)) {
			set[b.typeName+"."+leafName(p)] = true
		}
	}
	var missing []string
	for typeName, s := range schemas.ResourceSchemas {
		for _, leaf := range settableLeaves(s.Block.Attributes, "") {
			if !set[typeName+"."+leaf] {
				missing = append(missing, typeName+"."+leaf)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no committed example (examples/**/*.tf) sets these attributes, so no generated case covers them; add them to an example:\n  %s", strings.Join(missing, "\n  "))
	}

	partial := map[string]int{}
	planned := map[string]bool{}
	defer func() {
		for _, b := range blocks {
			if key := b.file + ":" + b.name; !planned[key] && !t.Failed() {
				t.Errorf("%s: %s.%s plans for none of its targets", b.file, b.typeName, b.name)
			}
		}
	}()
	for _, b := range blocks {
		s := schemas.ResourceSchemas[b.typeName]
		cfg := blockValue(t, s, b)
		for _, target := range targetsOf(b) {
			t.Run(fmt.Sprintf("%s/%s.%s/%s", filepath.Base(filepath.Dir(b.file)), b.typeName, b.name, target), func(t *testing.T) {
				server, _ := unknownsServer(t, target, false)
				full, errs := planOf(t, server, s, b.typeName, cfg)
				if len(errs) > 0 {
					// An example for one target (subset_labels on Istio).
					t.Skipf("the example does not plan for %s: %v", target, errs)
				}
				planned[b.file+":"+b.name] = true
				for _, p := range setValues(cfg) {
					got, errs := planOf(t, server, s, b.typeName, withUnknownAt(t, cfg, p))
					errs = slices.DeleteFunc(errs, func(e string) bool { return frameworkRequired(e, p) })
					if len(errs) > 1 {
						t.Errorf("%s unknown: %v", p, errs)
						continue
					}
					if why := consistent(got, full); why != "" {
						t.Errorf("%s unknown: the plan's known manifests are not the ones planned once it is known: %s", p, why)
					}
					if knownElements(got) > 0 {
						partial[b.typeName]++
					}
				}
				// Every value unknown at once.
				all := cfg
				for _, p := range setValues(cfg) {
					if len(p.Steps()) == 1 {
						all = withUnknownAt(t, all, p)
					}
				}
				if _, errs := planOf(t, server, s, b.typeName, all); len(errs) > 0 {
					t.Errorf("every value unknown: %v", errs)
				}
				// The provider's target unknown.
				if len(targetsOf(b)) > 1 {
					server, _ := unknownsServer(t, target, true)
					got, errs := planOf(t, server, s, b.typeName, cfg)
					if len(errs) > 0 {
						t.Errorf("provider target unknown: %v", errs)
					}
					if got.IsKnown() && !got.IsNull() {
						t.Errorf("provider target unknown: manifests planned as known: %v", got)
					}
				}
			})
		}
	}
	// A stand-in must show something: the objects that do not depend on an
	// unknown value (here, in the splits that render without the cluster).
	if partial[trafficSplitType] == 0 {
		t.Errorf("no traffic split plan with an unknown value showed any known manifest")
	}
}
