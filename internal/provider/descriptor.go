package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// descriptor is what one mesh resource is beyond the shared lifecycle: its
// schema, how its model (M) maps to its intent (I) and back, the renderer,
// the cluster checks and, where the rendering needs the cluster's answers,
// a lookup. Validate, plan, apply, read, import and delete are written once,
// in meshResource and the lifecycle; a new resource is a schema, a model and
// a descriptor.
type descriptor[M any, I any] struct {
	typeName string // "mesh_traffic_split"
	schema   func(ctx context.Context) schema.Schema

	// targetAttr names the data-plane override (usually "target"), and
	// targetOf points at it in a model.
	targetAttr string
	targetOf   func(m *M) *types.String

	// intent reads a model's intent for target, normalized; known is false
	// while a value it needs is unknown.
	intent   func(ctx context.Context, m *M, target mesh.Target) (in I, known bool, diags diag.Diagnostics)
	validate func(in I) mesh.Problems
	render   func(in I) ([]*unstructured.Unstructured, error)
	checks   func(in I) clusterCheck
	// objects names what the intent renders: the resource's id
	// (namespace/name) and the owner label value of its objects.
	objects func(in I) (id, owner string)
	// owner is the owner label value of a state's objects.
	owner func(m *M) string

	// prePlan sets what the plan shows before the intent is read: the
	// computed attributes that follow from the intent unknown, and those
	// the configuration alone decides.
	prePlan func(plan *M)
	// planned writes into the plan what follows from the intent: the
	// normalized values and the computed attributes it decides. It may ask
	// for replacement (state is all null on create). nil: nothing.
	planned func(plan, state *M, in I, resp *planResponse)
	// applied sets, at apply, the computed attributes the intent decides.
	// nil: none.
	applied func(plan *M, in I)

	// lookup, when set, fills in what the renderer needs from the cluster
	// (mesh_authorization: a Service's selector, probe paths, the identity
	// form); needsLookup reports whether an intent needs it. err means the
	// cluster could not be asked; findings are problems.
	lookup      func(ctx context.Context, m *kube.Manager, in *I) (mesh.Problems, error)
	needsLookup func(in I) bool

	// importLive rebuilds an imported resource (state holding only what the
	// import ID gave) from the live objects, records their uids in uids (its
	// refresh does), and returns its manifests.
	importLive func(ctx context.Context, l *lifecycle, state *M, uids objectUIDs, diags *diag.Diagnostics) manifests
	// importState reads the import ID; nil: namespace/name.
	importState func(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse)
}

// meshResource is a mesh resource made of a descriptor.
type meshResource[M any, P interface {
	*M
	meshModel
}, I any] struct {
	lifecycle
	d *descriptor[M, I]
}

var (
	_ resource.ResourceWithConfigure      = (*meshResource[trafficSplitModel, *trafficSplitModel, mesh.TrafficSplit])(nil)
	_ resource.ResourceWithValidateConfig = (*meshResource[trafficSplitModel, *trafficSplitModel, mesh.TrafficSplit])(nil)
	_ resource.ResourceWithModifyPlan     = (*meshResource[trafficSplitModel, *trafficSplitModel, mesh.TrafficSplit])(nil)
	_ resource.ResourceWithImportState    = (*meshResource[trafficSplitModel, *trafficSplitModel, mesh.TrafficSplit])(nil)
)

// newMeshResource is the resource d describes.
func newMeshResource[M any, P interface {
	*M
	meshModel
}, I any](d *descriptor[M, I]) resource.Resource {
	return &meshResource[M, P, I]{lifecycle: lifecycle{typeName: d.typeName}, d: d}
}

func (r *meshResource[M, P, I]) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + strings.TrimPrefix(r.d.typeName, "mesh")
}

func (r *meshResource[M, P, I]) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = r.d.schema(ctx)
}

func (r *meshResource[M, P, I]) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.configure(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig runs the pure checks of the values known so far.
func (r *meshResource[M, P, I]) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	validateMesh[M](ctx, r, req, resp)
}

func (r *meshResource[M, P, I]) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	out := planResponse{Plan: resp.Plan, Private: resp.Private, RequiresReplace: resp.RequiresReplace, Diagnostics: resp.Diagnostics}
	r.modifyPlan(ctx, planRequest{Config: req.Config, Plan: req.Plan, State: req.State}, &out)
	resp.Plan, resp.RequiresReplace, resp.Diagnostics = out.Plan, out.RequiresReplace, out.Diagnostics
}

// modifyPlan is ModifyPlan over the lifecycle's own request and response,
// which the protocol's fast path (fastplan.go) fills in too.
func (r *meshResource[M, P, I]) modifyPlan(ctx context.Context, req planRequest, resp *planResponse) {
	modifyPlanMesh[M, P](ctx, &r.lifecycle, r, req, resp)
}

func (r *meshResource[M, P, I]) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if r.d.importState != nil {
		r.d.importState(ctx, req, resp)
		return
	}
	importByNamespacedName(ctx, r.d.typeName, req, resp)
}

func (r *meshResource[M, P, I]) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	createMesh[M, P](ctx, &r.lifecycle, r, req, resp)
}

func (r *meshResource[M, P, I]) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readMesh[M, P](ctx, &r.lifecycle, r, req, resp)
}

func (r *meshResource[M, P, I]) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	updateMesh[M, P](ctx, &r.lifecycle, r, req, resp)
}

func (r *meshResource[M, P, I]) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	deleteMesh[M, P](ctx, &r.lifecycle, r, req, resp)
}

// The lifecycle's view of the descriptor (checkKind, standInKind, meshKind,
// planKind).

func (r *meshResource[M, P, I]) targetAttr() string          { return r.d.targetAttr }
func (r *meshResource[M, P, I]) targetOf(m *M) *types.String { return r.d.targetOf(m) }
func (r *meshResource[M, P, I]) owner(state *M) string       { return r.d.owner(state) }
func (r *meshResource[M, P, I]) unknownPlan(plan *M)         { r.d.prePlan(plan) }

func (r *meshResource[M, P, I]) importLive(ctx context.Context, state *M, uids objectUIDs, diags *diag.Diagnostics) manifests {
	return r.d.importLive(ctx, &r.lifecycle, state, uids, diags)
}

// problems checks the intent of a configuration whose values are all known
// (stand-ins included).
func (r *meshResource[M, P, I]) problems(ctx context.Context, cfg *M, target mesh.Target) (mesh.Problems, diag.Diagnostics) {
	in, _, d := r.d.intent(ctx, cfg, target)
	if d.HasError() {
		return nil, d
	}
	return r.d.validate(in), d
}

// renderConfig renders a configuration whose values are all known, unless
// the rendering needs the cluster's answers.
func (r *meshResource[M, P, I]) renderConfig(ctx context.Context, cfg *M, target mesh.Target) ([]*unstructured.Unstructured, bool) {
	in, _, d := r.d.intent(ctx, cfg, target)
	if d.HasError() || r.needsLookup(in) {
		return nil, false
	}
	objs, err := r.d.render(in)
	return objs, err == nil
}

func (r *meshResource[M, P, I]) needsLookup(in I) bool {
	return r.d.lookup != nil && r.d.needsLookup(in)
}

// rendering is what the lifecycle applies of an intent's objects.
func (r *meshResource[M, P, I]) rendering(in I, objs []*unstructured.Unstructured) rendering {
	id, owner := r.d.objects(in)
	return rendering{objs: objs, checks: r.d.checks(in), owner: owner, id: id,
		address: fmt.Sprintf("%s %s", r.d.typeName, id)}
}

// planRender reads the intent from the configuration (the plan's computed
// nested defaults are still unknown there), writes what follows from it
// into the plan, looks up what it needs from the cluster, and renders.
func (r *meshResource[M, P, I]) planRender(ctx context.Context, cfg, plan, state *M, target mesh.Target, resp *planResponse) (rendering, bool) {
	r.d.prePlan(plan)
	in, known, d := r.d.intent(ctx, cfg, target)
	resp.Diagnostics.Append(d...)
	if !known || resp.Diagnostics.HasError() {
		return rendering{}, false
	}
	id, _ := r.d.objects(in)
	P(plan).mesh().ID = types.StringValue(id)
	if r.d.planned != nil {
		r.d.planned(plan, state, in, resp)
	}
	if r.needsLookup(in) && !r.lookupAtPlan(ctx, &in, resp.Private, &resp.Diagnostics) {
		return rendering{}, false
	}
	if resp.Diagnostics.HasError() {
		return rendering{}, false
	}
	objs, err := r.d.render(in)
	if err != nil {
		resp.Diagnostics.AddError("Rendering failed", err.Error())
		return rendering{}, false
	}
	return r.rendering(in, objs), true
}

// lookupAtPlan asks the cluster what the rendering needs. When it cannot be
// asked, the manifests stay unknown and the lookups and checks run again
// before apply.
func (r *meshResource[M, P, I]) lookupAtPlan(ctx context.Context, in *I, private privateSetter, diags *diag.Diagnostics) bool {
	ok, err := r.lookup(ctx, in, diags)
	if err != nil {
		clusterChecksSkipped(diags, err)
		diags.Append(private.SetKey(ctx, privateChecked, nil)...)
	}
	return ok
}

// lookup fills in what the rendering needs from the cluster. err means the
// cluster could not be asked; findings are added to diags.
func (r *meshResource[M, P, I]) lookup(ctx context.Context, in *I, diags *diag.Diagnostics) (bool, error) {
	mgr, err := r.manager()
	if err != nil {
		return false, err
	}
	problems, err := r.d.lookup(ctx, mgr, in)
	if err != nil {
		return false, err
	}
	addProblems(diags, problems)
	return !problems.HasErrors(), nil
}

// render re-reads the plan's intent at apply, validates it (its values may
// have been unknown at plan), asks the cluster again what the rendering
// needs (it may have changed since the plan) and renders.
func (r *meshResource[M, P, I]) render(ctx context.Context, plan *M, diags *diag.Diagnostics) (rendering, bool) {
	in, _, d := r.d.intent(ctx, plan, mesh.Target(r.d.targetOf(plan).ValueString()))
	diags.Append(d...)
	if diags.HasError() {
		return rendering{}, false
	}
	if problems := r.d.validate(in); problems.HasErrors() {
		addProblems(diags, problems) // values that were unknown at plan time
		return rendering{}, false
	}
	if r.needsLookup(in) {
		if ok, err := r.lookup(ctx, &in, diags); err != nil || !ok {
			if err != nil {
				clusterUnavailable(diags, err)
			}
			return rendering{}, false
		}
	}
	objs, err := r.d.render(in)
	if err != nil {
		diags.AddError("Rendering failed", err.Error())
		return rendering{}, false
	}
	if r.d.applied != nil {
		r.d.applied(plan, in)
	}
	return r.rendering(in, objs), true
}

// normalizedIntent is an intent normalized once it is known (see the intents'
// Normalize), for a descriptor's intent.
func normalizedIntent[I any, PI interface {
	*I
	Normalize()
}](in I, known bool, diags diag.Diagnostics) (I, bool, diag.Diagnostics) {
	if known {
		PI(&in).Normalize()
	}
	return in, known, diags
}

// namespacedID is the id of a resource named by namespace and name, known
// once both are.
func namespacedID(namespace, name types.String) types.String {
	if namespace.IsUnknown() || name.IsUnknown() {
		return types.StringUnknown()
	}
	return types.StringValue(namespace.ValueString() + "/" + name.ValueString())
}
