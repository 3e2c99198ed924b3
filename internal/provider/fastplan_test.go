package provider

import (
	"context"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/protoserver"
)

// TestFastPlanEqualsFramework sends the plan's fast path (fastplan.go) and
// the framework's PlanResourceChange the same requests and asserts the same
// answers: planned state, replacement paths, private state and
// diagnostics. The requests are generated from the committed examples
// (every resource, on each target it plans for): a create; a create with
// each value it sets unknown in turn; an update with no change; an update
// with each value unknown, and with each value changed (strings, numbers
// and booleans, in nested objects, list elements and map values too); and
// an update whose prior private state holds keys of the provider's and
// the framework's own. The cluster is not asked (the connection is unknown),
// which both sides handle in the same ModifyPlan.
func TestFastPlanEqualsFramework(t *testing.T) {
	blocks := exampleBlocks(t)
	_, schemas := unknownsServer(t, mesh.TargetIstioSidecar, false)
	fastTypes := map[string]bool{}
	checked := 0
	for _, b := range blocks {
		s := schemas.ResourceSchemas[b.typeName]
		cfg := blockValue(t, s, b)
		for _, target := range targetsOf(b) {
			t.Run(fmt.Sprintf("%s/%s.%s/%s", filepath.Base(filepath.Dir(b.file)), b.typeName, b.name, target), func(t *testing.T) {
				set := map[string]tftypes.Value{
					"host": tftypes.NewValue(tftypes.String, tftypes.UnknownValue), "target": tftypes.NewValue(tftypes.String, string(target)),
				}
				framework, _ := protocolServer(t, set)
				p := New("test")()
				fast, _ := configure(t, protoserver.New(p), set)
				typ := s.ValueType()
				null := tftypes.NewValue(typ, nil)
				create := &tfprotov6.PlanResourceChangeRequest{
					TypeName: b.typeName, Config: dynamicValue(t, typ, cfg),
					PriorState: dynamicValue(t, typ, null), ProposedNewState: dynamicValue(t, typ, proposedNew(s.Block.Attributes, cfg)),
				}
				if b.typeName == installType {
					// mesh_install has write-only attributes and an
					// identity: the framework plans it
					// (TestFastPlanLeavesToFramework).
					return
				}
				created := samePlan(t, "create", framework, fast, p, typ, create)
				if created == nil {
					return
				}
				fastTypes[b.typeName] = true
				checked++
				for _, at := range setValues(cfg) {
					c := withUnknownAt(t, cfg, at)
					samePlan(t, "create, "+at.String()+" unknown", framework, fast, p, typ, &tfprotov6.PlanResourceChangeRequest{
						TypeName: b.typeName, Config: dynamicValue(t, typ, c),
						PriorState: dynamicValue(t, typ, null), ProposedNewState: dynamicValue(t, typ, proposedNew(s.Block.Attributes, c)),
					})
				}
				planned, err := created.PlannedState.Unmarshal(typ)
				if err != nil {
					t.Fatal(err)
				}
				// What apply records: the plan, its unknowns decided.
				prior := unknownsAsNull(planned)
				update := func(what string, c tftypes.Value, private []byte) {
					samePlan(t, what, framework, fast, p, typ, &tfprotov6.PlanResourceChangeRequest{
						TypeName: b.typeName, Config: dynamicValue(t, typ, c),
						PriorState: dynamicValue(t, typ, prior), ProposedNewState: dynamicValue(t, typ, proposedOver(t, prior, c)),
						PriorPrivate: private,
					})
				}
				update("no change", cfg, nil)
				update("no change, private state", cfg, []byte(`{"cluster_checks":"dHJ1ZQ==","uids":"eyJhIjoiYiJ9",".import_before_read":"dHJ1ZQ=="}`))
				for _, at := range setValues(cfg) {
					update("update, "+at.String()+" unknown", withUnknownAt(t, cfg, at), []byte(`{"uids":"eyJhIjoiYiJ9"}`))
					if c, ok := changedAt(t, cfg, at); ok {
						update("update, "+at.String()+" changed", c, nil)
					}
				}
			})
		}
	}
	for _, typeName := range []string{trafficSplitType, mirrorRouteType, mtlsPolicyType, authorizationType} {
		if !fastTypes[typeName] {
			t.Errorf("%s: no example planned through the fast path", typeName)
		}
	}
	if checked == 0 {
		t.Fatal("no request compared")
	}
}

// samePlan sends req to both servers and reports where their answers
// differ. It returns the framework's answer when it planned without error
// and the fast path answered it itself.
func samePlan(t *testing.T, what string, framework, fast tfprotov6.ProviderServer, p any, typ tftypes.Type, req *tfprotov6.PlanResourceChangeRequest) *tfprotov6.PlanResourceChangeResponse {
	t.Helper()
	ctx := context.Background()
	want, err := framework.PlanResourceChange(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, handled := p.(protoserver.Planner).FastPlanResourceChange(ctx, req); !handled {
		t.Errorf("%s: the fast path left the request to the framework", what)
		return nil
	}
	got, err := fast.PlanResourceChange(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if w, g := diagnosticsText(want.Diagnostics), diagnosticsText(got.Diagnostics); !slices.Equal(w, g) {
		t.Errorf("%s: diagnostics differ:\nframework: %q\nfast:      %q", what, w, g)
	}
	if len(errorsOf(want.Diagnostics)) > 0 {
		return nil
	}
	wantState, err1 := want.PlannedState.Unmarshal(typ)
	gotState, err2 := got.PlannedState.Unmarshal(typ)
	if err1 != nil || err2 != nil {
		t.Fatalf("%s: %v %v", what, err1, err2)
	}
	if !wantState.Equal(gotState) {
		diffs, _ := wantState.Diff(gotState)
		var at []string
		for _, d := range diffs {
			at = append(at, fmt.Sprintf("%s: %v / %v", d.Path, d.Value1, d.Value2))
		}
		t.Errorf("%s: planned states differ (framework / fast):\n%s", what, at)
	}
	if w, g := fmt.Sprint(want.RequiresReplace), fmt.Sprint(got.RequiresReplace); w != g {
		t.Errorf("%s: replacement differs: framework %s, fast %s", what, w, g)
	}
	if string(want.PlannedPrivate) != string(got.PlannedPrivate) {
		t.Errorf("%s: private state differs: framework %s, fast %s", what, want.PlannedPrivate, got.PlannedPrivate)
	}
	return want
}

func diagnosticsText(diags []*tfprotov6.Diagnostic) []string {
	var out []string
	for _, d := range diags {
		out = append(out, fmt.Sprintf("%s %v %s: %s", d.Severity, d.Attribute, d.Summary, d.Detail))
	}
	return out
}

// proposedOver is Terraform's proposed new state of cfg over prior: the
// configuration's values, and the prior state's where the configuration is
// null and the attribute is computed (here: every top-level null).
func proposedOver(t testing.TB, prior, cfg tftypes.Value) tftypes.Value {
	t.Helper()
	var p, c map[string]tftypes.Value
	if err := prior.As(&p); err != nil {
		t.Fatal(err)
	}
	if err := cfg.As(&c); err != nil {
		t.Fatal(err)
	}
	out := map[string]tftypes.Value{}
	for name, v := range p {
		out[name] = v
	}
	for name, v := range c {
		if !v.IsNull() {
			out[name] = v
		}
	}
	return tftypes.NewValue(cfg.Type(), out)
}

// changedAt is v with the string, number or boolean at p changed; false
// when the value there is of another kind.
func changedAt(t *testing.T, v tftypes.Value, p *tftypes.AttributePath) (tftypes.Value, bool) {
	t.Helper()
	changed := false
	out, err := tftypes.Transform(v, func(at *tftypes.AttributePath, x tftypes.Value) (tftypes.Value, error) {
		if !at.Equal(p) || !x.IsKnown() || x.IsNull() {
			return x, nil
		}
		switch {
		case x.Type().Is(tftypes.String):
			var s string
			if err := x.As(&s); err != nil {
				return x, err
			}
			changed = true
			return tftypes.NewValue(tftypes.String, s+"x"), nil
		case x.Type().Is(tftypes.Number):
			var n big.Float
			if err := x.As(&n); err != nil {
				return x, err
			}
			changed = true
			return tftypes.NewValue(tftypes.Number, new(big.Float).Add(&n, big.NewFloat(1))), nil
		case x.Type().Is(tftypes.Bool):
			var b bool
			if err := x.As(&b); err != nil {
				return x, err
			}
			changed = true
			return tftypes.NewValue(tftypes.Bool, !b), nil
		}
		return x, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, changed
}

// TestFastPlanLeavesToFramework: what the fast path does not plan goes to
// the framework (a destroy, mesh_install, an unconfigured provider).
func TestFastPlanLeavesToFramework(t *testing.T) {
	ctx := context.Background()
	p := New("test")()
	server, err := providerserver.NewProtocol6WithError(p)()
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	s := schemas.ResourceSchemas[trafficSplitType]
	typ := s.ValueType()
	cfg := benchSplit(s, 10)
	req := &tfprotov6.PlanResourceChangeRequest{
		TypeName: trafficSplitType, Config: dynamicValue(t, typ, cfg),
		PriorState: dynamicValue(t, typ, tftypes.NewValue(typ, nil)), ProposedNewState: dynamicValue(t, typ, proposedNew(s.Block.Attributes, cfg)),
	}
	planner := p.(protoserver.Planner)
	if _, ok := planner.FastPlanResourceChange(ctx, req); ok {
		t.Error("planned before the provider was configured")
	}
	configure(t, server, map[string]tftypes.Value{"host": tftypes.NewValue(tftypes.String, tftypes.UnknownValue)})
	if _, ok := planner.FastPlanResourceChange(ctx, req); !ok {
		t.Error("a configured provider's create left to the framework")
	}
	destroy := *req
	destroy.ProposedNewState = dynamicValue(t, typ, tftypes.NewValue(typ, nil))
	destroy.Config = dynamicValue(t, typ, tftypes.NewValue(typ, nil))
	if _, ok := planner.FastPlanResourceChange(ctx, &destroy); ok {
		t.Error("planned a destroy")
	}
	is := schemas.ResourceSchemas[installType]
	install := &tfprotov6.PlanResourceChangeRequest{
		TypeName: installType, Config: dynamicValue(t, is.ValueType(), tftypes.NewValue(is.ValueType(), nil)),
		PriorState: dynamicValue(t, is.ValueType(), tftypes.NewValue(is.ValueType(), nil)), ProposedNewState: dynamicValue(t, is.ValueType(), tftypes.NewValue(is.ValueType(), nil)),
	}
	if _, ok := planner.FastPlanResourceChange(ctx, install); ok {
		t.Error("planned mesh_install (write-only attributes, identity)")
	}
}
