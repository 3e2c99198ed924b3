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
	_ resource.ResourceWithConfigure      = (*mirrorRouteResource)(nil)
	_ resource.ResourceWithValidateConfig = (*mirrorRouteResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*mirrorRouteResource)(nil)
	_ resource.ResourceWithImportState    = (*mirrorRouteResource)(nil)
)

const mirrorRouteType = "mesh_mirror_route"

// NewMirrorRouteResource is the mesh_mirror_route resource.
func NewMirrorRouteResource() resource.Resource {
	return &mirrorRouteResource{lifecycle{typeName: mirrorRouteType}}
}

type mirrorRouteResource struct {
	lifecycle
}

func (r *mirrorRouteResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_mirror_route"
}

func (r *mirrorRouteResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.configure(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig runs the pure checks when the resource sets its target;
// otherwise ModifyPlan runs them with the provider's.
func (r *mirrorRouteResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg mirrorRouteModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() || cfg.Target.IsNull() || cfg.Target.IsUnknown() {
		return
	}
	r.validate(ctx, cfg, mesh.Target(cfg.Target.ValueString()), &resp.Diagnostics)
}

func (r *mirrorRouteResource) validate(ctx context.Context, m mirrorRouteModel, target mesh.Target, diags *diag.Diagnostics) (mesh.MirrorRoute, bool) {
	mr, known, d := m.intent(ctx, target, mirrorOwnerOf(m))
	diags.Append(d...)
	if !known || d.HasError() {
		return mr, false
	}
	mr.Normalize()
	addProblems(diags, mr.Validate())
	return mr, true
}

func (r *mirrorRouteResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan, cfg mirrorRouteModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	state := mirrorRouteModel{Manifests: types.MapNull(types.StringType), Revision: types.Int64Null()}
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

	mr, known := r.planIntent(ctx, cfg, target, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if !known {
		plan.Manifests, plan.Revision = types.MapUnknown(types.StringType), types.Int64Unknown()
		replaceOnTarget("target", state.Target, target, state.Manifests, plan.Manifests, resp)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
		return
	}
	resp.Diagnostics.Append(plan.setIntent(mr)...)
	objs, err := render.MirrorRoute(mr)
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
	r.planChecks(ctx, mirrorChecks(mr), recorded, resp.Private, &resp.Diagnostics)
}

// planIntent reads the intent from the configuration (see the traffic
// split's), validating when ValidateConfig could not.
func (r *mirrorRouteResource) planIntent(ctx context.Context, cfg mirrorRouteModel, target mesh.Target, diags *diag.Diagnostics) (mesh.MirrorRoute, bool) {
	if cfg.Target.IsNull() {
		return r.validate(ctx, cfg, target, diags)
	}
	mr, known, d := cfg.intent(ctx, target, mirrorOwnerOf(cfg))
	diags.Append(d...)
	if known {
		mr.Normalize()
	}
	return mr, known
}

// mirrorChecks binds the mirror route's cluster checks.
func mirrorChecks(mr mesh.MirrorRoute) clusterCheck {
	return func(ctx context.Context, m *kube.Manager, recorded []kube.ID) (mesh.Problems, error) {
		return preflight.MirrorRoute(ctx, m, mr, recorded)
	}
}

func (r *mirrorRouteResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan mirrorRouteModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := timeout(ctx, plan.Timeouts.Create, defaultApplyTimeout, &resp.Diagnostics)
	defer cancel()
	if r.applyPlan(ctx, &plan, nil, false, &resp.Diagnostics) {
		resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	}
}

func (r *mirrorRouteResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state mirrorRouteModel
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
func (r *mirrorRouteResource) applyPlan(ctx context.Context, plan, state *mirrorRouteModel, checked bool, diags *diag.Diagnostics) bool {
	mr, _, d := plan.intent(ctx, mesh.Target(plan.Target.ValueString()), mirrorOwnerOf(*plan))
	diags.Append(d...)
	if diags.HasError() {
		return false
	}
	mr.Normalize()
	if problems := mr.Validate(); problems.HasErrors() {
		addProblems(diags, problems)
		return false
	}
	var previous manifests
	if state != nil {
		previous = manifestsFrom(ctx, state.Manifests, diags)
	}
	if !checked && !r.checkCluster(ctx, mirrorChecks(mr), previous, diags, false) {
		return false
	}
	objs, err := render.MirrorRoute(mr)
	if err != nil {
		diags.AddError("Rendering failed", err.Error())
		return false
	}
	address := fmt.Sprintf("%s %s/%s", mirrorRouteType, mr.Namespace, mr.Name)
	applied, ok := r.applyObjects(ctx, objs, mr.Owner, address, previous, diags)
	if !ok {
		return false
	}
	plan.Manifests = applied.value(diags)
	plan.ID = types.StringValue(mr.Namespace + "/" + mr.Name)
	if plan.Revision.IsUnknown() {
		revision := types.Int64Null()
		if state != nil {
			revision = state.Revision
		}
		plan.Revision = nextRevision(previous, revision, applied)
	}
	return !diags.HasError()
}

// mirrorOwnerOf is the owner label value of the mirror route's objects.
func mirrorOwnerOf(m mirrorRouteModel) string {
	return mesh.Owner(mirrorRouteType, m.Namespace.ValueString(), m.Name.ValueString())
}

func (r *mirrorRouteResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state mirrorRouteModel
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

func (r *mirrorRouteResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state mirrorRouteModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := timeout(ctx, state.Timeouts.Delete, defaultApplyTimeout, &resp.Diagnostics)
	defer cancel()
	r.remove(ctx, manifestsFrom(ctx, state.Manifests, &resp.Diagnostics), mirrorOwnerOf(state), &resp.Diagnostics)
}

func (r *mirrorRouteResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByNamespacedName(ctx, mirrorRouteType, req, resp)
}
