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
	_ resource.ResourceWithConfigure      = (*authorizationResource)(nil)
	_ resource.ResourceWithValidateConfig = (*authorizationResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*authorizationResource)(nil)
	_ resource.ResourceWithImportState    = (*authorizationResource)(nil)
)

const (
	authorizationType = "mesh_authorization"
	// authzTargetAttr is the data-plane override: `target` is the workload.
	authzTargetAttr = "mesh_target"
)

// NewAuthorizationResource is the mesh_authorization resource.
func NewAuthorizationResource() resource.Resource {
	return &authorizationResource{lifecycle{typeName: authorizationType}}
}

type authorizationResource struct {
	lifecycle
}

func (r *authorizationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_authorization"
}

func (r *authorizationResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.configure(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig runs the pure checks when the resource sets mesh_target;
// otherwise ModifyPlan runs them with the provider's target.
func (r *authorizationResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg authorizationModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() || cfg.MeshTarget.IsNull() || cfg.MeshTarget.IsUnknown() {
		return
	}
	r.validate(ctx, cfg, mesh.Target(cfg.MeshTarget.ValueString()), &resp.Diagnostics)
}

// validate normalizes and checks the intent when every value is known.
func (r *authorizationResource) validate(ctx context.Context, m authorizationModel, target mesh.Target, diags *diag.Diagnostics) (mesh.Authorization, bool) {
	a, known, d := m.intent(ctx, target, authzOwnerOf(m))
	diags.Append(d...)
	if !known || d.HasError() {
		return a, false
	}
	a.Normalize()
	addProblems(diags, a.Validate())
	return a, true
}

func (r *authorizationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan, cfg authorizationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	state := authorizationModel{Manifests: types.MapNull(types.StringType), Revision: types.Int64Null()}
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	target, ok := r.target(cfg.MeshTarget, authzTargetAttr, &resp.Diagnostics)
	if !ok || resp.Diagnostics.HasError() {
		return
	}
	plan.MeshTarget = types.StringValue(string(target))
	if !plan.Namespace.IsUnknown() && !plan.Name.IsUnknown() {
		plan.ID = types.StringValue(plan.Namespace.ValueString() + "/" + plan.Name.ValueString())
	}
	a, known := r.planIntent(ctx, cfg, target, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.EnforcementPoint = types.StringUnknown()
	if known {
		plan.EnforcementPoint = types.StringValue(string(a.EnforcementPoint()))
	}
	if known {
		known = r.resolveAtPlan(ctx, &a, resp.Private, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if !known {
		plan.Manifests, plan.Revision = types.MapUnknown(types.StringType), types.Int64Unknown()
		replaceOnTarget(authzTargetAttr, state.MeshTarget, target, state.Manifests, plan.Manifests, resp)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
		return
	}
	objs, err := render.Authorization(a)
	if err != nil {
		resp.Diagnostics.AddError("Rendering failed", err.Error())
		return
	}
	recorded := manifestsFrom(ctx, state.Manifests, &resp.Diagnostics)
	plan.Manifests, plan.Revision = r.planned(objs, recorded, state.Revision, &resp.Diagnostics)
	replaceOnTarget(authzTargetAttr, state.MeshTarget, target, state.Manifests, plan.Manifests, resp)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.planChecks(ctx, authzChecks(a), recorded, resp.Private, &resp.Diagnostics)
}

// planIntent reads the intent from the configuration, validating it when
// ValidateConfig could not for lack of a target.
func (r *authorizationResource) planIntent(ctx context.Context, cfg authorizationModel, target mesh.Target, diags *diag.Diagnostics) (mesh.Authorization, bool) {
	if cfg.MeshTarget.IsNull() {
		return r.validate(ctx, cfg, target, diags)
	}
	a, known, d := cfg.intent(ctx, target, authzOwnerOf(cfg))
	diags.Append(d...)
	if known {
		a.Normalize()
	}
	return a, known
}

// resolveAtPlan looks up the Service's selector, the probe paths and the
// identity form (serviceAccounts or principals) the renderer needs. When the
// cluster cannot be asked, the manifests stay unknown and the lookups and
// checks run again before apply.
func (r *authorizationResource) resolveAtPlan(ctx context.Context, a *mesh.Authorization, private privateSetter, diags *diag.Diagnostics) bool {
	if !a.NeedsServiceLookup() && !a.HasHTTPRoutes() && !a.NeedsIdentityLookup() {
		return true
	}
	ok, err := r.resolve(ctx, a, diags)
	if err != nil {
		clusterChecksSkipped(diags, err)
		diags.Append(private.SetKey(ctx, privateChecked, nil)...)
	}
	return ok
}

// resolve fills a.Cluster from the cluster. err means the cluster could not
// be asked; findings (a missing Service) are added to diags.
func (r *authorizationResource) resolve(ctx context.Context, a *mesh.Authorization, diags *diag.Diagnostics) (bool, error) {
	mgr, err := r.manager()
	if err != nil {
		return false, err
	}
	cluster, problems, err := preflight.ResolveAuthorization(ctx, mgr, *a)
	if err != nil {
		return false, err
	}
	addProblems(diags, problems)
	a.Cluster = cluster
	return !problems.HasErrors(), nil
}

// authzChecks binds the policy's cluster checks.
func authzChecks(a mesh.Authorization) clusterCheck {
	return func(ctx context.Context, m *kube.Manager, recorded []kube.ID) (mesh.Problems, error) {
		return preflight.Authorization(ctx, m, a, recorded)
	}
}

func (r *authorizationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan authorizationModel
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

func (r *authorizationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state authorizationModel
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

// applyPlan renders the plan (looking up the Service and probes again) and
// applies it atomically over the previous revision (nil on create).
func (r *authorizationResource) applyPlan(ctx context.Context, plan, state *authorizationModel, checked bool, diags *diag.Diagnostics) bool {
	a, _, d := plan.intent(ctx, mesh.Target(plan.MeshTarget.ValueString()), authzOwnerOf(*plan))
	diags.Append(d...)
	if diags.HasError() {
		return false
	}
	a.Normalize()
	if problems := a.Validate(); problems.HasErrors() {
		addProblems(diags, problems) // values that were unknown at plan time
		return false
	}
	if ok, err := r.resolve(ctx, &a, diags); err != nil || !ok {
		if err != nil {
			clusterUnavailable(diags, err)
		}
		return false
	}
	var previous manifests
	if state != nil {
		previous = manifestsFrom(ctx, state.Manifests, diags)
	}
	if !checked && !r.checkCluster(ctx, authzChecks(a), previous, diags, false) {
		return false
	}
	objs, err := render.Authorization(a)
	if err != nil {
		diags.AddError("Rendering failed", err.Error())
		return false
	}
	address := fmt.Sprintf("%s %s/%s", authorizationType, a.Namespace, a.Name)
	applied, ok := r.applyObjects(ctx, objs, a.Owner, address, previous, diags)
	if !ok {
		return false
	}
	plan.Manifests = applied.value(diags)
	plan.ID = types.StringValue(a.Namespace + "/" + a.Name)
	plan.EnforcementPoint = types.StringValue(string(a.EnforcementPoint()))
	if plan.Revision.IsUnknown() {
		revision := types.Int64Null()
		if state != nil {
			revision = state.Revision
		}
		plan.Revision = nextRevision(previous, revision, applied)
	}
	return !diags.HasError()
}

// authzOwnerOf is the owner label value of the policy's objects.
func authzOwnerOf(m authorizationModel) string {
	return mesh.Owner(authorizationType, m.Namespace.ValueString(), m.Name.ValueString())
}

func (r *authorizationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state authorizationModel
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

func (r *authorizationResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state authorizationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := timeout(ctx, state.Timeouts.Delete, defaultApplyTimeout, &resp.Diagnostics)
	defer cancel()
	r.remove(ctx, manifestsFrom(ctx, state.Manifests, &resp.Diagnostics), authzOwnerOf(state), &resp.Diagnostics)
}

func (r *authorizationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByNamespacedName(ctx, authorizationType, req, resp)
}
