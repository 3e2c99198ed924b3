package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/meshform/terraform-provider-mesh/internal/protoserver"
)

// The provider's own CPU per resource in the two plans a no-change
// `terraform plan` and an update make: ValidateResourceConfig and
// PlanResourceChange of one traffic split, in process, with the
// connection unknown (so no cluster is asked; make bench measures the
// requests). `go test -run - -bench Plan -cpuprofile` names where it goes.
// The server is the one the provider serves (protoserver.New), with the
// plan's fast path.

// benchSplit is the benchmark workload's traffic split (internal/bench).
func benchSplit(s *tfprotov6.Schema, weight int64) tftypes.Value {
	typ := s.ValueType().(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	backendsType := typ.AttributeTypes["backends"].(tftypes.List)
	backendType := backendsType.ElementType.(tftypes.Object)
	backend := func(version string, w int64) tftypes.Value {
		b := map[string]tftypes.Value{}
		for name, at := range backendType.AttributeTypes {
			b[name] = tftypes.NewValue(at, nil)
		}
		b["subset_labels"] = tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{
			"version": tftypes.NewValue(tftypes.String, version),
		})
		b["weight"] = tftypes.NewValue(tftypes.Number, w)
		return tftypes.NewValue(backendType, b)
	}
	vals["name"] = tftypes.NewValue(tftypes.String, "split-1")
	vals["namespace"] = tftypes.NewValue(tftypes.String, "bench-1")
	vals["service"] = tftypes.NewValue(tftypes.String, "svc-1")
	vals["port"] = tftypes.NewValue(tftypes.Number, 8080)
	vals["backends"] = tftypes.NewValue(backendsType, []tftypes.Value{backend("v1", 100-weight), backend("v2", weight)})
	return tftypes.NewValue(typ, vals)
}

func benchmarkPlan(b *testing.B, update bool) {
	// The server the provider serves: the plan's fast path (fastplan.go)
	// in front of the framework.
	server, schemas := configure(b, protoserver.New(New("test")()), map[string]tftypes.Value{
		"host": tftypes.NewValue(tftypes.String, tftypes.UnknownValue), "target": tftypes.NewValue(tftypes.String, "istio-sidecar"),
	})
	s := schemas.ResourceSchemas[trafficSplitType]
	typ := s.ValueType()
	ctx := context.Background()
	old := benchSplit(s, 10)
	pr, err := server.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName: trafficSplitType, Config: dynamicValue(b, typ, old),
		PriorState:       dynamicValue(b, typ, tftypes.NewValue(typ, nil)),
		ProposedNewState: dynamicValue(b, typ, proposedNew(s.Block.Attributes, old)),
	})
	if err != nil || len(errorsOf(pr.Diagnostics)) > 0 {
		b.Fatalf("plan: %v %v", err, errorsOf(pr.Diagnostics))
	}
	prior := pr.PlannedState
	cfg := old
	if update {
		cfg = benchSplit(s, 20)
	}
	config := dynamicValue(b, typ, cfg)
	// Terraform proposes the configuration over the prior state: its
	// computed attributes keep their recorded values.
	priorValue, err := prior.Unmarshal(typ)
	if err != nil {
		b.Fatal(err)
	}
	proposed := dynamicValue(b, typ, proposedOver(b, priorValue, cfg))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		vr, err := server.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{
			TypeName: trafficSplitType, Config: config,
			ClientCapabilities: &tfprotov6.ValidateResourceConfigClientCapabilities{WriteOnlyAttributesAllowed: true},
		})
		if err != nil || len(errorsOf(vr.Diagnostics)) > 0 {
			b.Fatalf("validate: %v %v", err, errorsOf(vr.Diagnostics))
		}
		pr, err := server.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
			TypeName: trafficSplitType, Config: config, PriorState: prior, ProposedNewState: proposed,
		})
		if err != nil || len(errorsOf(pr.Diagnostics)) > 0 {
			b.Fatalf("plan: %v %v", err, errorsOf(pr.Diagnostics))
		}
	}
}

func BenchmarkPlanNoChange(b *testing.B) { benchmarkPlan(b, false) }
func BenchmarkPlanUpdate(b *testing.B)   { benchmarkPlan(b, true) }
