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

// ValidateConfig runs the pure checks of the values known so far.
func (r *trafficSplitResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	validateMesh[trafficSplitModel](ctx, r, req, resp)
}

// problems normalizes and checks the intent of a known configuration.
func (r *trafficSplitResource) problems(ctx context.Context, cfg *trafficSplitModel, target mesh.Target) (mesh.Problems, diag.Diagnostics) {
	ts, _, d := cfg.intent(ctx, target, ownerOf(*cfg))
	if d.HasError() {
		return nil, d
	}
	ts.Normalize()
	return ts.Validate(), d
}

// renderConfig renders a known configuration.
func (r *trafficSplitResource) renderConfig(ctx context.Context, cfg *trafficSplitModel, target mesh.Target) ([]*unstructured.Unstructured, bool) {
	ts, _, d := cfg.intent(ctx, target, ownerOf(*cfg))
	if d.HasError() {
		return nil, false
	}
	ts.Normalize()
	objs, err := render.TrafficSplit(ts)
	return objs, err == nil
}

func (r *trafficSplitResource) unknownPlan(plan *trafficSplitModel) {}

// planIntent reads the intent from the configuration: the plan's computed
// nested defaults (backend service, port, weight) are still unknown there.
func (r *trafficSplitResource) planIntent(ctx context.Context, cfg trafficSplitModel, target mesh.Target, diags *diag.Diagnostics) (mesh.TrafficSplit, bool) {
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

// ownerOf is the owner label value of the split's objects.
func ownerOf(m trafficSplitModel) string {
	return mesh.Owner(trafficSplitType, m.Namespace.ValueString(), m.Name.ValueString())
}

func (r *trafficSplitResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByNamespacedName(ctx, trafficSplitType, req, resp)
}

func (r *trafficSplitResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	createMesh[trafficSplitModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *trafficSplitResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readMesh[trafficSplitModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *trafficSplitResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	updateMesh[trafficSplitModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *trafficSplitResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	deleteMesh[trafficSplitModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *trafficSplitResource) owner(state *trafficSplitModel) string { return ownerOf(*state) }

func (r *trafficSplitResource) render(ctx context.Context, plan *trafficSplitModel, diags *diag.Diagnostics) (rendering, bool) {
	ts, _, d := plan.intent(ctx, mesh.Target(plan.Target.ValueString()), ownerOf(*plan))
	diags.Append(d...)
	if diags.HasError() {
		return rendering{}, false
	}
	ts.Normalize()
	if problems := ts.Validate(); problems.HasErrors() {
		addProblems(diags, problems) // values that were unknown at plan time
		return rendering{}, false
	}
	objs, err := render.TrafficSplit(ts)
	if err != nil {
		diags.AddError("Rendering failed", err.Error())
		return rendering{}, false
	}
	return splitRendering(ts, objs), true
}

func splitRendering(ts mesh.TrafficSplit, objs []*unstructured.Unstructured) rendering {
	return rendering{objs: objs, checks: splitChecks(ts), owner: ts.Owner, id: ts.Namespace + "/" + ts.Name,
		address: fmt.Sprintf("%s %s/%s", trafficSplitType, ts.Namespace, ts.Name)}
}

func (r *trafficSplitResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	modifyPlanMesh[trafficSplitModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *trafficSplitResource) targetAttr() string                          { return "target" }
func (r *trafficSplitResource) targetOf(m *trafficSplitModel) *types.String { return &m.Target }

func (r *trafficSplitResource) planRender(ctx context.Context, cfg, plan, _ *trafficSplitModel, target mesh.Target, resp *resource.ModifyPlanResponse) (rendering, bool) {
	if !plan.Namespace.IsUnknown() && !plan.Name.IsUnknown() {
		plan.ID = types.StringValue(plan.Namespace.ValueString() + "/" + plan.Name.ValueString())
	}
	ts, known := r.planIntent(ctx, *cfg, target, &resp.Diagnostics)
	if !known || resp.Diagnostics.HasError() {
		return rendering{}, false
	}
	resp.Diagnostics.Append(plan.setIntent(ts)...)
	objs, err := render.TrafficSplit(ts)
	if err != nil {
		resp.Diagnostics.AddError("Rendering failed", err.Error())
		return rendering{}, false
	}
	return splitRendering(ts, objs), true
}
