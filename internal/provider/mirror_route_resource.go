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

// ValidateConfig runs the pure checks of the values known so far.
func (r *mirrorRouteResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	validateMesh[mirrorRouteModel](ctx, r, req, resp)
}

// problems normalizes and checks the intent of a known configuration.
func (r *mirrorRouteResource) problems(ctx context.Context, cfg *mirrorRouteModel, target mesh.Target) (mesh.Problems, diag.Diagnostics) {
	mr, _, d := cfg.intent(ctx, target, mirrorOwnerOf(*cfg))
	if d.HasError() {
		return nil, d
	}
	mr.Normalize()
	return mr.Validate(), d
}

// renderConfig renders a known configuration.
func (r *mirrorRouteResource) renderConfig(ctx context.Context, cfg *mirrorRouteModel, target mesh.Target) ([]*unstructured.Unstructured, bool) {
	mr, _, d := cfg.intent(ctx, target, mirrorOwnerOf(*cfg))
	if d.HasError() {
		return nil, false
	}
	mr.Normalize()
	objs, err := render.MirrorRoute(mr)
	return objs, err == nil
}

func (r *mirrorRouteResource) unknownPlan(plan *mirrorRouteModel) {}

// planIntent reads the intent from the configuration (see the traffic
// split's).
func (r *mirrorRouteResource) planIntent(ctx context.Context, cfg mirrorRouteModel, target mesh.Target, diags *diag.Diagnostics) (mesh.MirrorRoute, bool) {
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

// mirrorOwnerOf is the owner label value of the mirror route's objects.
func mirrorOwnerOf(m mirrorRouteModel) string {
	return mesh.Owner(mirrorRouteType, m.Namespace.ValueString(), m.Name.ValueString())
}

func (r *mirrorRouteResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByNamespacedName(ctx, mirrorRouteType, req, resp)
}

func (r *mirrorRouteResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	createMesh[mirrorRouteModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *mirrorRouteResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readMesh[mirrorRouteModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *mirrorRouteResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	updateMesh[mirrorRouteModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *mirrorRouteResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	deleteMesh[mirrorRouteModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *mirrorRouteResource) owner(state *mirrorRouteModel) string { return mirrorOwnerOf(*state) }

func (r *mirrorRouteResource) render(ctx context.Context, plan *mirrorRouteModel, diags *diag.Diagnostics) (rendering, bool) {
	mr, _, d := plan.intent(ctx, mesh.Target(plan.Target.ValueString()), mirrorOwnerOf(*plan))
	diags.Append(d...)
	if diags.HasError() {
		return rendering{}, false
	}
	mr.Normalize()
	if problems := mr.Validate(); problems.HasErrors() {
		addProblems(diags, problems) // values that were unknown at plan time
		return rendering{}, false
	}
	objs, err := render.MirrorRoute(mr)
	if err != nil {
		diags.AddError("Rendering failed", err.Error())
		return rendering{}, false
	}
	return mirrorRendering(mr, objs), true
}

func mirrorRendering(mr mesh.MirrorRoute, objs []*unstructured.Unstructured) rendering {
	return rendering{objs: objs, checks: mirrorChecks(mr), owner: mr.Owner, id: mr.Namespace + "/" + mr.Name,
		address: fmt.Sprintf("%s %s/%s", mirrorRouteType, mr.Namespace, mr.Name)}
}

func (r *mirrorRouteResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	modifyPlanMesh[mirrorRouteModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *mirrorRouteResource) targetAttr() string                         { return "target" }
func (r *mirrorRouteResource) targetOf(m *mirrorRouteModel) *types.String { return &m.Target }

func (r *mirrorRouteResource) planRender(ctx context.Context, cfg, plan, _ *mirrorRouteModel, target mesh.Target, resp *resource.ModifyPlanResponse) (rendering, bool) {
	if !plan.Namespace.IsUnknown() && !plan.Name.IsUnknown() {
		plan.ID = types.StringValue(plan.Namespace.ValueString() + "/" + plan.Name.ValueString())
	}
	mr, known := r.planIntent(ctx, *cfg, target, &resp.Diagnostics)
	if !known || resp.Diagnostics.HasError() {
		return rendering{}, false
	}
	resp.Diagnostics.Append(plan.setIntent(mr)...)
	objs, err := render.MirrorRoute(mr)
	if err != nil {
		resp.Diagnostics.AddError("Rendering failed", err.Error())
		return rendering{}, false
	}
	return mirrorRendering(mr, objs), true
}
