package provider

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
)

// The generated cases of unknowns_generated_test.go, carried on to the
// cluster: for each acceptance configuration (every resource and target,
// with its fixtures), every value it sets is made unknown in turn and the
// provider plans it in process; then, as Terraform does at apply, the
// provider plans again with every value known and applies that plan. Each
// per-leaf case ends in that same final plan (Terraform never applies a
// plan that holds an unknown value), so one apply serves them all, and the
// test asserts per leaf: the objects its unknown value hid at plan (those
// whose content depends on it) are live and carry the planned content, the
// value included.

// splitManifests splits a planned manifests value into the objects it
// shows and the keys of those it does not; whole is true when the map
// itself is unknown.
func splitManifests(t *testing.T, v tftypes.Value) (known map[string]string, unknown []string, whole bool) {
	t.Helper()
	if !v.IsKnown() {
		return nil, nil, true
	}
	var elems map[string]tftypes.Value
	if err := v.As(&elems); err != nil {
		t.Fatal(err)
	}
	known = map[string]string{}
	for key, e := range elems {
		if !e.IsKnown() {
			unknown = append(unknown, key)
			continue
		}
		var y string
		if err := e.As(&y); err != nil {
			t.Fatal(err)
		}
		known[key] = y
	}
	return known, unknown, false
}

func TestAccUnknownValuesApplied(t *testing.T) {
	testAccPreCheck(t)
	ctx := context.Background()
	for _, c := range driftCases() {
		t.Run(c.name, func(t *testing.T) {
			config, _ := c.config(t)
			providers := configBlocks(t, "main.tf", []byte(config), "provider")
			if len(providers) != 1 {
				t.Fatalf("%d mesh provider blocks in\n%s", len(providers), config)
			}
			set := map[string]tftypes.Value{}
			for name, v := range providers[0].attrs {
				set[name] = tftypes.NewValue(tftypes.String, v.AsString())
			}
			server, schemas := protocolServer(t, set)
			blocks := configBlocks(t, "main.tf", []byte(config), "resource")
			if len(blocks) == 0 {
				t.Fatalf("no mesh resource in\n%s", config)
			}
			for _, b := range blocks {
				s := schemas.ResourceSchemas[b.typeName]
				typ := s.ValueType()
				cfg := blockValue(t, s, b)

				// Each value unknown in turn: what the plan hid.
				hidden := map[string][]string{} // leaf → the keys it hid
				for _, p := range setValues(cfg) {
					got, errs := planOf(t, server, s, b.typeName, withUnknownAt(t, cfg, p))
					if rest := slices.DeleteFunc(slices.Clone(errs), func(e string) bool { return frameworkRequired(e, p) }); len(rest) > 1 {
						t.Fatalf("%s unknown: %v", p, errs)
					}
					if len(errs) > 0 {
						continue // the framework's own error (see frameworkRequired)
					}
					_, unknown, whole := splitManifests(t, got)
					if whole {
						unknown = []string{"*"}
					}
					hidden[p.String()] = unknown
				}

				// Terraform plans again with every value known, and applies that.
				pr, errs := planResource(t, server, s, b.typeName, cfg)
				if len(errs) > 0 {
					t.Fatalf("the final plan: %v", errs)
				}
				planned, unknown, whole := splitManifests(t, attributeOf(t, s, pr.PlannedState, "manifests"))
				if whole || len(unknown) > 0 {
					t.Fatalf("the final plan, with every value known, does not show every manifest")
				}
				ar, err := server.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{
					TypeName: b.typeName, Config: dynamicValue(t, typ, cfg),
					PriorState:     dynamicValue(t, typ, tftypes.NewValue(typ, nil)),
					PlannedState:   pr.PlannedState,
					PlannedPrivate: pr.PlannedPrivate,
				})
				if err != nil {
					t.Fatal(err)
				}
				if errs := errorsOf(ar.Diagnostics); len(errs) > 0 {
					t.Fatalf("apply: %v", errs)
				}
				t.Cleanup(func() { destroyInProcess(t, server, s, b.typeName, ar.NewState) })

				live := map[string]bool{}
				for key, y := range planned {
					want, err := decodeYAML(y)
					if err != nil {
						t.Fatal(err)
					}
					if obj := liveObject(t, key); kube.Covers(obj.Object, want.Object) {
						live[key] = true
					} else {
						t.Errorf("%s: the live object is not the planned manifest:\nplanned:\n%s\nlive: %v", key, y, obj.Object)
					}
				}
				covered := 0
				for leaf, keys := range hidden {
					for _, key := range keys {
						if key == "*" {
							for k := range planned {
								covered += hiddenIsLive(t, live, leaf, k)
							}
							continue
						}
						if _, ok := planned[key]; !ok {
							t.Errorf("%s unknown hid %s at plan, which the final plan does not have", leaf, key)
							continue
						}
						covered += hiddenIsLive(t, live, leaf, key)
					}
				}
				t.Logf("%s: %d values made unknown in turn, %d objects live as planned where one hid them", b.typeName, len(hidden), covered)
				if covered == 0 {
					t.Errorf("no value hid any object at plan: the cases prove nothing")
				}
			}
		})
	}
}

// hiddenIsLive reports whether the object key, which the unknown value at leaf
// hid at plan, is live as planned (1) or not (0, an error).
func hiddenIsLive(t *testing.T, live map[string]bool, leaf, key string) int {
	t.Helper()
	if !live[key] {
		t.Errorf("%s unknown at plan: %s, which depends on it, is not live as planned", leaf, key)
		return 0
	}
	return 1
}

// destroyInProcess deletes what the in-process apply created.
func destroyInProcess(t *testing.T, server tfprotov6.ProviderServer, s *tfprotov6.Schema, typeName string, state *tfprotov6.DynamicValue) {
	t.Helper()
	typ := s.ValueType()
	null := dynamicValue(t, typ, tftypes.NewValue(typ, nil))
	resp, err := server.ApplyResourceChange(context.Background(), &tfprotov6.ApplyResourceChangeRequest{
		TypeName: typeName, Config: null, PriorState: state, PlannedState: null,
	})
	if err != nil {
		t.Error(err)
		return
	}
	if errs := errorsOf(resp.Diagnostics); len(errs) > 0 {
		t.Error(fmt.Sprint("destroy: ", errs))
	}
}
