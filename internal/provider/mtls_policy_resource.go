package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/render"
	"github.com/meshform/terraform-provider-mesh/internal/preflight"
)

var (
	_ resource.ResourceWithConfigure      = (*mtlsPolicyResource)(nil)
	_ resource.ResourceWithValidateConfig = (*mtlsPolicyResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*mtlsPolicyResource)(nil)
	_ resource.ResourceWithImportState    = (*mtlsPolicyResource)(nil)
)

const mtlsPolicyType = "mesh_mtls_policy"

// NewMTLSPolicyResource is the mesh_mtls_policy resource.
func NewMTLSPolicyResource() resource.Resource {
	return &mtlsPolicyResource{lifecycle{typeName: mtlsPolicyType}}
}

type mtlsPolicyResource struct {
	lifecycle
}

func (r *mtlsPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_mtls_policy"
}

func (r *mtlsPolicyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.configure(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig runs the pure checks when the resource sets its target;
// otherwise ModifyPlan runs them with the provider's target.
func (r *mtlsPolicyResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg mtlsPolicyModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() || cfg.Target.IsNull() || cfg.Target.IsUnknown() {
		return
	}
	r.validate(ctx, cfg, mesh.Target(cfg.Target.ValueString()), &resp.Diagnostics)
}

// validate checks the intent when every value is known.
func (r *mtlsPolicyResource) validate(ctx context.Context, m mtlsPolicyModel, target mesh.Target, diags *diag.Diagnostics) (mesh.MTLSPolicy, bool) {
	p, known, d := m.intent(ctx, target)
	diags.Append(d...)
	if !known || d.HasError() {
		return p, false
	}
	addProblems(diags, p.Validate())
	return p, true
}

func (r *mtlsPolicyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan, cfg mtlsPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	state := mtlsPolicyModel{Manifests: types.MapNull(types.StringType), Revision: types.Int64Null()}
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	target, ok := r.target(cfg.Target, "target", &resp.Diagnostics)
	if !ok || resp.Diagnostics.HasError() {
		return
	}
	plan.Target = types.StringValue(string(target))
	p, known := r.planIntent(ctx, cfg, target, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if !known {
		plan.Manifests, plan.Revision = types.MapUnknown(types.StringType), types.Int64Unknown()
		plan.RequiresRestart, plan.ID = types.BoolUnknown(), types.StringUnknown()
		replaceOnTarget("target", state.Target, target, state.Manifests, plan.Manifests, resp)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
		return
	}
	plan.ID = types.StringValue(p.ObjectNamespace() + "/" + p.Name)
	plan.RequiresRestart = types.BoolValue(p.RequiresRestart())
	resp.RequiresReplace = append(resp.RequiresReplace, movedObjects(state, plan)...)
	objs, err := render.MTLSPolicy(p)
	if err != nil {
		resp.Diagnostics.AddError("Rendering failed", err.Error())
		return
	}
	recorded := manifestsFrom(ctx, state.Manifests, &resp.Diagnostics)
	plan.Manifests, plan.Revision = r.planned(objs, recorded, state.Revision, &resp.Diagnostics)
	replaceOnTarget("target", state.Target, target, state.Manifests, plan.Manifests, resp)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.planChecks(ctx, mtlsChecks(p), recorded, resp.Private, &resp.Diagnostics)
}

// movedObjects forces replacement when the objects' namespace changes
// (scope mesh to another scope, or a new root_namespace): the owner label
// names that namespace, so the old objects could not be pruned as ours.
func movedObjects(state, plan mtlsPolicyModel) path.Paths {
	if state.ID.IsNull() || state.ID.Equal(plan.ID) {
		return nil
	}
	var paths path.Paths
	if !state.Scope.Equal(plan.Scope) {
		paths = append(paths, path.Root("scope"))
	}
	if !state.RootNamespace.Equal(plan.RootNamespace) {
		paths = append(paths, path.Root("root_namespace"))
	}
	return paths
}

// planIntent reads the intent from the configuration, validating it when
// ValidateConfig could not, for lack of a target.
func (r *mtlsPolicyResource) planIntent(ctx context.Context, cfg mtlsPolicyModel, target mesh.Target, diags *diag.Diagnostics) (mesh.MTLSPolicy, bool) {
	if cfg.Target.IsNull() {
		return r.validate(ctx, cfg, target, diags)
	}
	p, known, d := cfg.intent(ctx, target)
	diags.Append(d...)
	return p, known
}

// mtlsChecks binds the policy's cluster checks.
func mtlsChecks(p mesh.MTLSPolicy) clusterCheck {
	return func(ctx context.Context, m *kube.Manager, recorded []kube.ID) (mesh.Problems, error) {
		return preflight.MTLSPolicy(ctx, m, p, recorded)
	}
}

func (r *mtlsPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan mtlsPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := timeout(ctx, plan.Timeouts.Create, defaultApplyTimeout, &resp.Diagnostics)
	defer cancel()
	// Create gets no planned private state, so the cluster checks run again.
	if r.applyPlan(ctx, &plan, nil, false, &resp.Diagnostics) {
		resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	}
}

func (r *mtlsPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state mtlsPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := timeout(ctx, plan.Timeouts.Update, defaultApplyTimeout, &resp.Diagnostics)
	defer cancel()
	checked, d := req.Private.GetKey(ctx, privateChecked)
	resp.Diagnostics.Append(d...)
	if r.applyPlan(ctx, &plan, &state, checked != nil, &resp.Diagnostics) {
		resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
		return
	}
	// The engine rolled the cluster back to the state's revision: keep it.
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// applyPlan renders the plan and applies it atomically over the previous
// revision recorded in state (nil on create).
func (r *mtlsPolicyResource) applyPlan(ctx context.Context, plan, state *mtlsPolicyModel, checked bool, diags *diag.Diagnostics) bool {
	p, _, d := plan.intent(ctx, mesh.Target(plan.Target.ValueString()))
	diags.Append(d...)
	if diags.HasError() {
		return false
	}
	if problems := p.Validate(); problems.HasErrors() {
		addProblems(diags, problems) // values that were unknown at plan time
		return false
	}
	var previous manifests
	if state != nil {
		previous = manifestsFrom(ctx, state.Manifests, diags)
	}
	if !checked && !r.checkCluster(ctx, mtlsChecks(p), previous, diags, false) {
		return false
	}
	objs, err := render.MTLSPolicy(p)
	if err != nil {
		diags.AddError("Rendering failed", err.Error())
		return false
	}
	address := fmt.Sprintf("%s %s/%s", mtlsPolicyType, p.ObjectNamespace(), p.Name)
	applied, ok := r.applyObjects(ctx, objs, p.Owner, address, previous, diags)
	if !ok {
		return false
	}
	plan.Manifests = applied.value(diags)
	plan.ID = types.StringValue(p.ObjectNamespace() + "/" + p.Name)
	plan.RequiresRestart = types.BoolValue(p.RequiresRestart())
	if plan.Revision.IsUnknown() {
		revision := types.Int64Null()
		if state != nil {
			revision = state.Revision
		}
		plan.Revision = nextRevision(previous, revision, applied)
	}
	return !diags.HasError()
}

func (r *mtlsPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state mtlsPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := timeout(ctx, state.Timeouts.Read, defaultReadTimeout, &resp.Diagnostics)
	defer cancel()
	var refreshed manifests
	if state.Manifests.IsNull() {
		refreshed = r.importLive(ctx, &state, &resp.Diagnostics)
	} else {
		refreshed = r.refresh(ctx, manifestsFrom(ctx, state.Manifests, &resp.Diagnostics), &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if refreshed == nil {
		resp.State.RemoveResource(ctx) // every object was deleted out of band
		return
	}
	state.Manifests = refreshed.value(&resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *mtlsPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state mtlsPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := timeout(ctx, state.Timeouts.Delete, defaultApplyTimeout, &resp.Diagnostics)
	defer cancel()
	p, _, d := state.intent(ctx, mesh.Target(state.Target.ValueString()))
	resp.Diagnostics.Append(d...)
	// Deletes the owned objects and waits until they are gone; a shared
	// Namespace only loses the annotation.
	r.remove(ctx, manifestsFrom(ctx, state.Manifests, &resp.Diagnostics), p.Owner, &resp.Diagnostics)
}
