package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

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

// ValidateConfig runs the pure checks of the values known so far.
func (r *mtlsPolicyResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	validateMesh[mtlsPolicyModel](ctx, r, req, resp)
}

// problems checks the intent of a known configuration.
func (r *mtlsPolicyResource) problems(ctx context.Context, cfg *mtlsPolicyModel, target mesh.Target) (mesh.Problems, diag.Diagnostics) {
	p, _, d := cfg.intent(ctx, target)
	if d.HasError() {
		return nil, d
	}
	return p.Validate(), d
}

// renderConfig renders a known configuration.
func (r *mtlsPolicyResource) renderConfig(ctx context.Context, cfg *mtlsPolicyModel, target mesh.Target) ([]*unstructured.Unstructured, bool) {
	p, _, d := cfg.intent(ctx, target)
	if d.HasError() {
		return nil, false
	}
	objs, err := render.MTLSPolicy(p)
	return objs, err == nil
}

func (r *mtlsPolicyResource) unknownPlan(plan *mtlsPolicyModel) {
	plan.RequiresRestart, plan.ID = types.BoolUnknown(), types.StringUnknown()
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

// planIntent reads the intent from the configuration.
func (r *mtlsPolicyResource) planIntent(ctx context.Context, cfg mtlsPolicyModel, target mesh.Target, diags *diag.Diagnostics) (mesh.MTLSPolicy, bool) {
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
	createMesh[mtlsPolicyModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *mtlsPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readMesh[mtlsPolicyModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *mtlsPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	updateMesh[mtlsPolicyModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *mtlsPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	deleteMesh[mtlsPolicyModel](ctx, &r.lifecycle, r, req, resp)
}

// owner reads the owner from the intent: for mesh scope it names the root
// namespace the objects live in.
func (r *mtlsPolicyResource) owner(state *mtlsPolicyModel) string {
	p, _, _ := state.intent(context.Background(), mesh.Target(state.Target.ValueString()))
	return p.Owner
}

func (r *mtlsPolicyResource) render(ctx context.Context, plan *mtlsPolicyModel, diags *diag.Diagnostics) (rendering, bool) {
	p, _, d := plan.intent(ctx, mesh.Target(plan.Target.ValueString()))
	diags.Append(d...)
	if diags.HasError() {
		return rendering{}, false
	}
	if problems := p.Validate(); problems.HasErrors() {
		addProblems(diags, problems) // values that were unknown at plan time
		return rendering{}, false
	}
	objs, err := render.MTLSPolicy(p)
	if err != nil {
		diags.AddError("Rendering failed", err.Error())
		return rendering{}, false
	}
	plan.RequiresRestart = types.BoolValue(p.RequiresRestart())
	return mtlsRendering(p, objs), true
}

func mtlsRendering(p mesh.MTLSPolicy, objs []*unstructured.Unstructured) rendering {
	return rendering{objs: objs, checks: mtlsChecks(p), owner: p.Owner, id: p.ObjectNamespace() + "/" + p.Name,
		address: fmt.Sprintf("%s %s/%s", mtlsPolicyType, p.ObjectNamespace(), p.Name)}
}

func (r *mtlsPolicyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	modifyPlanMesh[mtlsPolicyModel](ctx, &r.lifecycle, r, req, resp)
}

func (r *mtlsPolicyResource) targetAttr() string                        { return "target" }
func (r *mtlsPolicyResource) targetOf(m *mtlsPolicyModel) *types.String { return &m.Target }

func (r *mtlsPolicyResource) planRender(ctx context.Context, cfg, plan, state *mtlsPolicyModel, target mesh.Target, resp *resource.ModifyPlanResponse) (rendering, bool) {
	p, known := r.planIntent(ctx, *cfg, target, &resp.Diagnostics)
	if !known || resp.Diagnostics.HasError() {
		plan.RequiresRestart, plan.ID = types.BoolUnknown(), types.StringUnknown()
		return rendering{}, false
	}
	plan.ID = types.StringValue(p.ObjectNamespace() + "/" + p.Name)
	plan.RequiresRestart = types.BoolValue(p.RequiresRestart())
	resp.RequiresReplace = append(resp.RequiresReplace, movedObjects(*state, *plan)...)
	objs, err := render.MTLSPolicy(p)
	if err != nil {
		resp.Diagnostics.AddError("Rendering failed", err.Error())
		return rendering{}, false
	}
	return mtlsRendering(p, objs), true
}
