package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/render"
	"github.com/meshform/terraform-provider-mesh/internal/preflight"
)

var (
	_ resource.ResourceWithConfigure      = (*trafficSplitResource)(nil)
	_ resource.ResourceWithValidateConfig = (*trafficSplitResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*trafficSplitResource)(nil)
	_ resource.ResourceWithImportState    = (*trafficSplitResource)(nil)
)

const trafficSplitType = "mesh_traffic_split"

// NewTrafficSplitResource is the mesh_traffic_split resource.
func NewTrafficSplitResource() resource.Resource {
	return &trafficSplitResource{lifecycle{typeName: trafficSplitType}}
}

type trafficSplitResource struct {
	lifecycle
}

func (r *trafficSplitResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_traffic_split"
}

func (r *trafficSplitResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.configure(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig runs the pure checks. Those that depend on the target run
// here only when the resource sets it; otherwise ModifyPlan runs them with
// the provider's target.
func (r *trafficSplitResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg trafficSplitModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() || cfg.Target.IsNull() || cfg.Target.IsUnknown() {
		return
	}
	r.validate(ctx, cfg, mesh.Target(cfg.Target.ValueString()), &resp.Diagnostics)
}

// validate normalizes and checks the intent when every value is known.
func (r *trafficSplitResource) validate(ctx context.Context, m trafficSplitModel, target mesh.Target, diags *diag.Diagnostics) (mesh.TrafficSplit, bool) {
	ts, known, d := m.intent(ctx, target, ownerOf(m))
	diags.Append(d...)
	if !known || d.HasError() {
		return ts, false
	}
	ts.Normalize()
	addProblems(diags, ts.Validate())
	return ts, true
}

func (r *trafficSplitResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan, cfg trafficSplitModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	state := trafficSplitModel{Manifests: types.MapNull(types.StringType), Revision: types.Int64Null()}
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	target, ok := r.target(cfg.Target, "target", &resp.Diagnostics)
	if !ok || resp.Diagnostics.HasError() {
		return
	}
	plan.Target = types.StringValue(string(target))
	if !plan.Namespace.IsUnknown() && !plan.Name.IsUnknown() {
		plan.ID = types.StringValue(plan.Namespace.ValueString() + "/" + plan.Name.ValueString())
	}

	ts, known := r.planIntent(ctx, cfg, target, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if !known {
		plan.Manifests, plan.Revision = types.MapUnknown(types.StringType), types.Int64Unknown()
		replaceOnTarget("target", state.Target, target, state.Manifests, plan.Manifests, resp)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
		return
	}
	resp.Diagnostics.Append(plan.setIntent(ts)...)
	objs, err := render.TrafficSplit(ts)
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
	r.planChecks(ctx, splitChecks(ts), recorded, resp.Private, &resp.Diagnostics)
}

// planIntent reads the intent from the configuration: the plan's computed
// nested defaults (backend service, port, weight) are still unknown there.
// It validates too when ValidateConfig could not, for lack of a target.
func (r *trafficSplitResource) planIntent(ctx context.Context, cfg trafficSplitModel, target mesh.Target, diags *diag.Diagnostics) (mesh.TrafficSplit, bool) {
	if cfg.Target.IsNull() {
		return r.validate(ctx, cfg, target, diags)
	}
	ts, known, d := cfg.intent(ctx, target, ownerOf(cfg))
	diags.Append(d...)
	if known {
		ts.Normalize()
	}
	return ts, known
}

// splitChecks binds the split's cluster checks, its mirror block's included.
func splitChecks(ts mesh.TrafficSplit) clusterCheck {
	return func(ctx context.Context, m *kube.Manager, recorded []kube.ID) (mesh.Problems, error) {
		problems, err := preflight.TrafficSplit(ctx, m, ts, recorded)
		if err != nil {
			return nil, err
		}
		mirror, err := preflight.SplitMirror(ctx, m, ts, recorded)
		return append(problems, mirror...), err
	}
}

func (r *trafficSplitResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan trafficSplitModel
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

func (r *trafficSplitResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state trafficSplitModel
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
func (r *trafficSplitResource) applyPlan(ctx context.Context, plan, state *trafficSplitModel, checked bool, diags *diag.Diagnostics) bool {
	ts, _, d := plan.intent(ctx, mesh.Target(plan.Target.ValueString()), ownerOf(*plan))
	diags.Append(d...)
	if diags.HasError() {
		return false
	}
	ts.Normalize()
	if problems := ts.Validate(); problems.HasErrors() {
		addProblems(diags, problems) // values that were unknown at plan time
		return false
	}
	var previous manifests
	if state != nil {
		previous = manifestsFrom(ctx, state.Manifests, diags)
	}
	if !checked && !r.checkCluster(ctx, splitChecks(ts), previous, diags, false) {
		return false
	}
	objs, err := render.TrafficSplit(ts)
	if err != nil {
		diags.AddError("Rendering failed", err.Error())
		return false
	}
	address := fmt.Sprintf("%s %s/%s", trafficSplitType, ts.Namespace, ts.Name)
	applied, ok := r.applyObjects(ctx, objs, ts.Owner, address, previous, diags)
	if !ok {
		return false
	}
	plan.Manifests = applied.value(diags)
	plan.ID = types.StringValue(ts.Namespace + "/" + ts.Name)
	if plan.Revision.IsUnknown() {
		revision := types.Int64Null()
		if state != nil {
			revision = state.Revision
		}
		plan.Revision = nextRevision(previous, revision, applied)
	}
	return !diags.HasError()
}

// ownerOf is the owner label value of the split's objects.
func ownerOf(m trafficSplitModel) string {
	return mesh.Owner(trafficSplitType, m.Namespace.ValueString(), m.Name.ValueString())
}

func (r *trafficSplitResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state trafficSplitModel
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

func (r *trafficSplitResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state trafficSplitModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := timeout(ctx, state.Timeouts.Delete, defaultApplyTimeout, &resp.Diagnostics)
	defer cancel()
	r.remove(ctx, manifestsFrom(ctx, state.Manifests, &resp.Diagnostics), ownerOf(state), &resp.Diagnostics)
}

func (r *trafficSplitResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByNamespacedName(ctx, trafficSplitType, req, resp)
}
