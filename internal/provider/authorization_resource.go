package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

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

// ValidateConfig runs the pure checks of the values known so far.
func (r *authorizationResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	validateMesh[authorizationModel](ctx, r, req, resp)
}

// problems normalizes and checks the intent of a known configuration.
func (r *authorizationResource) problems(ctx context.Context, cfg *authorizationModel, target mesh.Target) (mesh.Problems, diag.Diagnostics) {
	a, _, d := cfg.intent(ctx, target, authzOwnerOf(*cfg))
	if d.HasError() {
		return nil, d
	}
	a.Normalize()
	return a.Validate(), d
}

// renderConfig renders a known configuration, unless the rendering needs
// the cluster's answers.
func (r *authorizationResource) renderConfig(ctx context.Context, cfg *authorizationModel, target mesh.Target) ([]*unstructured.Unstructured, bool) {
	a, _, d := cfg.intent(ctx, target, authzOwnerOf(*cfg))
	if d.HasError() {
		return nil, false
	}
	a.Normalize()
	if a.NeedsServiceLookup() || a.HasHTTPRoutes() || a.NeedsIdentityLookup() {
		return nil, false
	}
	objs, err := render.Authorization(a)
	return objs, err == nil
}

func (r *authorizationResource) unknownPlan(plan *authorizationModel) {
	plan.EnforcementPoint = types.StringUnknown()
}

// planIntent reads the intent from the configuration.
func (r *authorizationResource) planIntent(ctx context.Context, cfg authorizationModel, target mesh.Target, diags *diag.Diagnostics) (mesh.Authorization, bool) {
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

// authzOwnerOf is the owner label value of the policy's objects.
func authzOwnerOf(m authorizationModel) string {
	return mesh.Owner(authorizationType, m.Namespace.ValueString(), m.Name.ValueString())
}

func (r *authorizationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByNamespacedName(ctx, authorizationType, req, resp)
}

func (r *authorizationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	createMesh[authorizationModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *authorizationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readMesh[authorizationModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *authorizationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	updateMesh[authorizationModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *authorizationResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	deleteMesh[authorizationModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *authorizationResource) owner(state *authorizationModel) string { return authzOwnerOf(*state) }

// render re-reads the plan's intent and looks up the Service and probes
// again, since the cluster may have changed since the plan.
func (r *authorizationResource) render(ctx context.Context, plan *authorizationModel, diags *diag.Diagnostics) (rendering, bool) {
	a, _, d := plan.intent(ctx, mesh.Target(plan.MeshTarget.ValueString()), authzOwnerOf(*plan))
	diags.Append(d...)
	if diags.HasError() {
		return rendering{}, false
	}
	a.Normalize()
	if problems := a.Validate(); problems.HasErrors() {
		addProblems(diags, problems) // values that were unknown at plan time
		return rendering{}, false
	}
	if ok, err := r.resolve(ctx, &a, diags); err != nil || !ok {
		if err != nil {
			clusterUnavailable(diags, err)
		}
		return rendering{}, false
	}
	objs, err := render.Authorization(a)
	if err != nil {
		diags.AddError("Rendering failed", err.Error())
		return rendering{}, false
	}
	plan.EnforcementPoint = types.StringValue(string(a.EnforcementPoint()))
	return authzRendering(a, objs), true
}

func authzRendering(a mesh.Authorization, objs []*unstructured.Unstructured) rendering {
	return rendering{objs: objs, checks: authzChecks(a), owner: a.Owner, id: a.Namespace + "/" + a.Name,
		address: fmt.Sprintf("%s %s/%s", authorizationType, a.Namespace, a.Name)}
}

func (r *authorizationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	modifyPlanMesh[authorizationModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *authorizationResource) targetAttr() string                           { return authzTargetAttr }
func (r *authorizationResource) targetOf(m *authorizationModel) *types.String { return &m.MeshTarget }

// planRender also looks up, at plan time, the Service's selector and the
// probes the rendering needs.
func (r *authorizationResource) planRender(ctx context.Context, cfg, plan, _ *authorizationModel, target mesh.Target, resp *resource.ModifyPlanResponse) (rendering, bool) {
	if !plan.Namespace.IsUnknown() && !plan.Name.IsUnknown() {
		plan.ID = types.StringValue(plan.Namespace.ValueString() + "/" + plan.Name.ValueString())
	}
	plan.EnforcementPoint = types.StringUnknown()
	a, known := r.planIntent(ctx, *cfg, target, &resp.Diagnostics)
	if !known || resp.Diagnostics.HasError() {
		return rendering{}, false
	}
	plan.EnforcementPoint = types.StringValue(string(a.EnforcementPoint()))
	if !r.resolveAtPlan(ctx, &a, resp.Private, &resp.Diagnostics) || resp.Diagnostics.HasError() {
		return rendering{}, false
	}
	objs, err := render.Authorization(a)
	if err != nil {
		resp.Diagnostics.AddError("Rendering failed", err.Error())
		return rendering{}, false
	}
	return authzRendering(a, objs), true
}
