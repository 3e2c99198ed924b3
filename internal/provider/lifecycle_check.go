package provider

import (
	"context"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// checkKind is what the shared validation needs of a mesh resource.
type checkKind[M any] interface {
	// targetAttr names the data-plane override attribute, and targetOf
	// points at it in a model.
	targetAttr() string
	targetOf(m *M) *types.String
	// problems normalizes and checks the intent of a configuration whose
	// values are all known (stand-ins included), for target.
	problems(ctx context.Context, cfg *M, target mesh.Target) (mesh.Problems, diag.Diagnostics)
}

// standInConfig decodes variant v of config (see substituted).
func standInConfig[M any](ctx context.Context, config tfsdk.Config, unknowns []unknownAt, v int, diags *diag.Diagnostics) (M, bool) {
	var cfg M
	if len(unknowns) == 0 {
		diags.Append(getModel(ctx, config.Schema, config.Raw, &cfg)...)
		return cfg, !diags.HasError()
	}
	raw, err := substituted(config.Raw, unknowns, v)
	if err != nil {
		diags.AddError("Unreadable configuration", fmt.Sprintf("standing in for unknown values: %v; this is a bug in the provider", err))
		return cfg, false
	}
	diags.Append(getModel(ctx, config.Schema, raw, &cfg)...)
	return cfg, !diags.HasError()
}

// checked is a configuration ready to check: each of its variants (one
// when every value is known; none when there would be too many).
type checked[M any] struct {
	cfg      []M
	unknowns []unknownAt
}

func checkedConfig[M any](ctx context.Context, config tfsdk.Config, unknowns []unknownAt, diags *diag.Diagnostics) (checked[M], bool) {
	c := checked[M]{unknowns: unknowns}
	c.cfg = make([]M, variantCount(c.unknowns))
	for v := range c.cfg {
		var ok bool
		if c.cfg[v], ok = standInConfig[M](ctx, config, c.unknowns, v, diags); !ok {
			return c, false
		}
	}
	return c, true
}

// literalTarget is the resource's own data-plane override when the
// configuration sets it to a known value; set reports whether it sets it
// at all (known or not).
func literalTarget[M any](k checkKind[M], c checked[M]) (t mesh.Target, known, set bool) {
	if len(c.cfg) == 0 {
		return "", false, true
	}
	v := *k.targetOf(&c.cfg[0])
	if v.IsNull() {
		return "", false, false
	}
	if slices.ContainsFunc(c.unknowns, func(u unknownAt) bool { return related(u.steps, []any{k.targetAttr()}) }) {
		return "", false, true
	}
	return mesh.Target(v.ValueString()), true, true
}

// problemsFor checks the configuration for target. With unknown values it
// keeps the findings that every variant gets and that are not at (or
// above) an unknown value: what an unknown value could decide is checked
// once it is known.
func problemsFor[M any](ctx context.Context, k checkKind[M], c checked[M], target mesh.Target, diags *diag.Diagnostics) mesh.Problems {
	return variantProblems(c, func(cfg *M) (mesh.Problems, diag.Diagnostics) { return k.problems(ctx, cfg, target) }, diags)
}

// variantProblems checks every variant of c with check and keeps the
// findings all of them get, at paths no unknown value could decide.
func variantProblems[M any](c checked[M], check func(cfg *M) (mesh.Problems, diag.Diagnostics), diags *diag.Diagnostics) mesh.Problems {
	var common mesh.Problems
	for v := range c.cfg {
		problems, d := check(&c.cfg[v])
		diags.Append(d...)
		if v == 0 {
			common = problems
		} else {
			common = commonProblems(common, problems)
		}
	}
	return withoutUnknown(common, c.unknowns)
}

// commonProblems are the findings of ps that qs has too.
func commonProblems(ps, qs mesh.Problems) mesh.Problems {
	return slices.DeleteFunc(slices.Clone(ps), func(p mesh.Problem) bool {
		return !slices.ContainsFunc(qs, func(q mesh.Problem) bool { return sameProblem(p, q) })
	})
}

// targetIndependent are the findings the configuration gets for every
// target: those that do not depend on it, which `terraform validate`
// reports even when the target is the provider's (which a resource's
// validation cannot see).
func targetIndependent[M any](ctx context.Context, k checkKind[M], c checked[M], diags *diag.Diagnostics) mesh.Problems {
	var common mesh.Problems
	for i, t := range mesh.Targets {
		ps := problemsFor(ctx, k, c, t, diags)
		if i == 0 {
			common = ps
			continue
		}
		common = commonProblems(common, ps)
	}
	return common
}

func sameProblem(p, q mesh.Problem) bool {
	return p.Severity == q.Severity && p.Code == q.Code && p.Summary == q.Summary && p.Detail == q.Detail && slices.Equal(p.Path, q.Path)
}

// validateMesh is every mesh resource's ValidateConfig: the pure checks of
// the values known so far (at `terraform validate`, literals only; at plan
// and at apply, Terraform validates again with more of them known). With
// the resource's own target every check runs; with the provider's, those
// that do not depend on it, and ModifyPlan runs the rest (planProblems).
func validateMesh[M any](ctx context.Context, k checkKind[M], req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	c, ok := checkedConfig[M](ctx, req.Config, unknownsIn(ctx, req.Config, req.Config.Raw), &resp.Diagnostics)
	if !ok {
		return
	}
	t, known, _ := literalTarget(k, c)
	switch {
	case known && !validTarget(t):
		// Its validator says so.
	case known:
		addProblems(&resp.Diagnostics, problemsFor(ctx, k, c, t, &resp.Diagnostics))
	default:
		addProblems(&resp.Diagnostics, targetIndependent(ctx, k, c, &resp.Diagnostics))
	}
}

// planProblems reports at plan the findings ValidateConfig could not, for
// lack of the target: those for the provider's target that not every
// target has.
func planProblems[M any](ctx context.Context, k checkKind[M], config tfsdk.Config, unknowns []unknownAt, cfg *M, target mesh.Target, diags *diag.Diagnostics) {
	if v := *k.targetOf(cfg); !v.IsNull() {
		return // the resource's own target: ValidateConfig ran every check
	}
	c, ok := checkedConfig[M](ctx, config, unknowns, diags)
	if !ok {
		return
	}
	if _, _, set := literalTarget(k, c); set {
		return
	}
	problems := problemsFor(ctx, k, c, target, diags)
	if len(problems) == 0 {
		return
	}
	common := targetIndependent(ctx, k, c, diags)
	addProblems(diags, slices.DeleteFunc(problems, func(p mesh.Problem) bool {
		return slices.ContainsFunc(common, func(q mesh.Problem) bool { return sameProblem(p, q) })
	}))
}

// standInKind renders a configuration without the cluster.
type standInKind[M any] interface {
	// renderConfig renders the objects of a configuration whose values are
	// all known (stand-ins included); false when it cannot without asking
	// the cluster, or at all.
	renderConfig(ctx context.Context, cfg *M, target mesh.Target) ([]*unstructured.Unstructured, bool)
}

// partialManifests renders each variant of a configuration that holds
// unknown values, and shows each object that comes out the same in all of
// them: it does not depend on them. The others are known after apply, and
// the whole map is when the objects' names do (its keys), when an unknown
// value is a list, map or object, or when the configuration cannot be
// rendered without the cluster. all is true when every object is shown.
func partialManifests[M any](ctx context.Context, k standInKind[M], config tfsdk.Config, unknowns []unknownAt, target mesh.Target) (m types.Map, all bool) {
	unknown := types.MapUnknown(types.StringType)
	n := variantCount(unknowns)
	if n == 0 || opaque(unknowns) {
		return unknown, false
	}
	var first manifests
	same := map[string]bool{}
	for v := range n {
		var diags diag.Diagnostics
		cfg, ok := standInConfig[M](ctx, config, unknowns, v, &diags)
		if !ok {
			return unknown, false
		}
		objs, ok := k.renderConfig(ctx, &cfg, target)
		if !ok {
			return unknown, false
		}
		m, err := manifestsOf(objs)
		if err != nil {
			return unknown, false
		}
		if v == 0 {
			first = m
			for key := range m {
				same[key] = true
			}
			continue
		}
		if len(m) != len(first) {
			return unknown, false
		}
		for key, y := range first {
			other, ok := m[key]
			if !ok {
				return unknown, false
			}
			same[key] = same[key] && other == y
		}
	}
	elems := make(map[string]attr.Value, len(first))
	all = true
	for key, y := range first {
		elems[key] = types.StringValue(y)
		if !same[key] {
			elems[key], all = types.StringUnknown(), false
		}
	}
	return types.MapValueMust(types.StringType, elems), all
}
