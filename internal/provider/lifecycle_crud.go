package provider

import (
	"context"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// meshState is the part of every mesh resource's state that the lifecycle
// keeps: embedded in each resource's model.
type meshState struct {
	ID        types.String   `tfsdk:"id"`
	Manifests types.Map      `tfsdk:"manifests"`
	Revision  types.Int64    `tfsdk:"revision"`
	Timeouts  timeouts.Value `tfsdk:"timeouts"`
}

func (s *meshState) mesh() *meshState { return s }

// meshModel is a resource model that embeds meshState.
type meshModel interface{ mesh() *meshState }

// rendering is a plan made ready to apply: its objects and the rest of what
// the lifecycle needs to apply them.
type rendering struct {
	objs    []*unstructured.Unstructured
	checks  clusterCheck
	owner   string
	id      string // the resource's id: namespace/name
	address string // how messages name the resource
}

// meshKind is what each mesh resource adds to the shared lifecycle.
type meshKind[M any] interface {
	// render re-reads the plan's intent, validates it (its values may have
	// been unknown at plan time) and renders its objects, setting computed
	// attributes that follow from the intent; false means diags say why not.
	render(ctx context.Context, plan *M, diags *diag.Diagnostics) (rendering, bool)
	// owner is the owner label value of a state's objects.
	owner(state *M) string
	// importLive rebuilds an imported resource (state holding only what the
	// import ID gave) from the live objects, records their uids in uids, and
	// returns its manifests.
	importLive(ctx context.Context, state *M, uids objectUIDs, diags *diag.Diagnostics) manifests
}

func createMesh[M any, P interface {
	*M
	meshModel
}](ctx context.Context, l *lifecycle, k meshKind[M], req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan M
	resp.Diagnostics.Append(getPlan(ctx, req.Plan, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := timeout(ctx, P(&plan).mesh().Timeouts.Create, defaultApplyTimeout, &resp.Diagnostics)
	defer cancel()
	// Create gets no planned private state, so the cluster checks run again.
	uids := objectUIDs{}
	ok, left := applyMesh[M, P](ctx, l, k, &plan, nil, false, uids, &resp.Diagnostics)
	if ok || len(left) > 0 {
		uids.save(ctx, resp.Private, &resp.Diagnostics)
	}
	switch {
	case ok:
		resp.Diagnostics.Append(setState(ctx, &resp.State, plan)...)
	case len(left) > 0:
		// The rollback could not remove everything this create wrote:
		// state records what is left, so that Terraform marks the
		// resource tainted and the next apply replaces it (its delete
		// removes these objects) instead of leaving them in no state.
		s := P(&plan).mesh()
		s.Manifests = left.value()
		if s.Revision.IsUnknown() {
			s.Revision = types.Int64Value(1)
		}
		resp.Diagnostics.Append(setState(ctx, &resp.State, plan)...)
		resp.State.Raw = unknownsAsNull(resp.State.Raw)
	}
}

func updateMesh[M any, P interface {
	*M
	meshModel
}](ctx context.Context, l *lifecycle, k meshKind[M], req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state M
	resp.Diagnostics.Append(getPlan(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(getState(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := timeout(ctx, P(&plan).mesh().Timeouts.Update, defaultApplyTimeout, &resp.Diagnostics)
	defer cancel()
	checked, d := req.Private.GetKey(ctx, privateChecked)
	resp.Diagnostics.Append(d...)
	uids := uidsFrom(ctx, req.Private, &resp.Diagnostics)
	ok, left := applyMesh[M, P](ctx, l, k, &plan, &state, checked != nil, uids, &resp.Diagnostics)
	uids.save(ctx, resp.Private, &resp.Diagnostics)
	if ok {
		resp.Diagnostics.Append(setState(ctx, &resp.State, plan)...)
		return
	}
	// The engine rolled the cluster back to the state's revision: keep it,
	// with the new version of each object the rollback could not put back.
	if len(left) > 0 {
		s := P(&state).mesh()
		recorded := manifestsFrom(ctx, s.Manifests, &resp.Diagnostics)
		for key, y := range left {
			recorded[key] = y
		}
		s.Manifests = recorded.value()
	}
	resp.Diagnostics.Append(setState(ctx, &resp.State, state)...)
}

// applyMesh applies the planned manifests atomically over the previous
// revision recorded in state (nil on create). The objects applied are the
// ones the plan showed: rendered again only when the cluster checks must
// run again (on create, which gets no planned private state, or when the
// plan could not ask the cluster), and then they must equal the planned
// ones. A client that sent the manifests unknown gets them rendered.
func applyMesh[M any, P interface {
	*M
	meshModel
}](ctx context.Context, l *lifecycle, k meshKind[M], plan, state *M, checked bool, uids objectUIDs, diags *diag.Diagnostics) (ok bool, left manifests) {
	s := P(plan).mesh()
	var previous manifests
	revision := types.Int64Null()
	if state != nil {
		previous = manifestsFrom(ctx, P(state).mesh().Manifests, diags)
		revision = P(state).mesh().Revision
	}
	planned, fromPlan := knownManifests(ctx, s.Manifests, diags)
	if diags.HasError() {
		return false, nil
	}
	r := rendering{owner: k.owner(plan), id: s.ID.ValueString(), address: l.typeName + " " + s.ID.ValueString()}
	if !fromPlan || !checked {
		var ok bool
		if r, ok = k.render(ctx, plan, diags); !ok || diags.HasError() {
			return false, nil
		}
		if fromPlan && !sameObjects(ctx, planned, r, diags) {
			return false, nil
		}
		if !checked && !l.checkCluster(ctx, r.checks, previous, diags, false) {
			return false, nil
		}
	}
	objs := r.objs
	if fromPlan {
		var err error
		if objs, err = planned.objects(); err != nil {
			diags.AddError("Unreadable plan", err.Error())
			return false, nil
		}
	}
	if leftIDs, ok := l.applyObjects(ctx, objs, r.owner, r.address, previous, uids, diags); !ok {
		if len(leftIDs) > 0 {
			s.ID = types.StringValue(r.id)
		}
		return false, leftChanged(objs, leftIDs, diags)
	}
	s.ID = types.StringValue(r.id)
	if !fromPlan {
		applied, err := manifestsOf(objs)
		if err != nil {
			diags.AddError("Rendering failed", err.Error())
			return false, nil
		}
		s.Manifests = applied.value()
		if s.Revision.IsUnknown() {
			s.Revision = nextRevision(previous, revision, applied)
		}
	}
	return !diags.HasError(), nil
}

// leftChanged are the manifests of the objects of objs a failed apply left
// changed (its rollback could not put them back).
func leftChanged(objs []*unstructured.Unstructured, ids []kube.ID, diags *diag.Diagnostics) manifests {
	var left []*unstructured.Unstructured
	for _, obj := range objs {
		if slices.Contains(ids, kube.IDOf(obj)) {
			left = append(left, obj)
		}
	}
	m, err := manifestsOf(left)
	if err != nil {
		diags.AddError("Rendering failed", err.Error())
	}
	return m
}

// unknownsAsNull replaces the unknown values of a state that is saved
// after a failed apply (computed attributes the apply never got to set).
func unknownsAsNull(v tftypes.Value) tftypes.Value {
	out, err := tftypes.Transform(v, func(_ *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if !v.IsKnown() {
			return tftypes.NewValue(v.Type(), nil), nil
		}
		return v, nil
	})
	if err != nil {
		return v
	}
	return out
}

// knownManifests returns the planned manifests when every one is known.
func knownManifests(ctx context.Context, v types.Map, diags *diag.Diagnostics) (manifests, bool) {
	if v.IsNull() || v.IsUnknown() {
		return nil, false
	}
	for _, e := range v.Elements() {
		if e.IsUnknown() {
			return nil, false
		}
	}
	return manifestsFrom(ctx, v, diags), true
}

// sameObjects reports whether the objects rendered at apply are the planned
// ones; the difference is the cluster's answers (mesh_authorization's
// lookups), which changed since the plan.
func sameObjects(ctx context.Context, planned manifests, r rendering, diags *diag.Diagnostics) bool {
	rendered, err := manifestsOf(r.objs)
	if err != nil {
		diags.AddError("Rendering failed", err.Error())
		return false
	}
	var changed []string
	for _, key := range sortedKeys(planned) {
		if rendered[key] != planned[key] {
			changed = append(changed, key)
		}
	}
	for _, key := range sortedKeys(rendered) {
		if _, ok := planned[key]; !ok {
			changed = append(changed, key)
		}
	}
	if len(changed) > 0 {
		tflog.Warn(ctx, "the cluster changed since the plan; nothing applied", map[string]any{"resource": r.address, "objects": changed})
		changedSincePlan(diags, r.address, changed)
		return false
	}
	return true
}

func readMesh[M any, P interface {
	*M
	meshModel
}](ctx context.Context, l *lifecycle, k meshKind[M], req resource.ReadRequest, resp *resource.ReadResponse) {
	var state M
	resp.Diagnostics.Append(getState(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	s := P(&state).mesh()
	ctx, cancel := timeout(ctx, s.Timeouts.Read, defaultReadTimeout, &resp.Diagnostics)
	defer cancel()
	address := l.typeName + " " + s.ID.ValueString()
	uids := uidsFrom(ctx, req.Private, &resp.Diagnostics)
	var refreshed manifests
	if s.Manifests.IsNull() {
		// importLive's refresh records the uids of what it imports.
		if refreshed = k.importLive(ctx, &state, uids, &resp.Diagnostics); refreshed != nil && !resp.Diagnostics.HasError() {
			// What was imported is this resource's from now on: commit what
			// a create that died left, so that no other create takes it over.
			l.commitImported(ctx, address, refreshed, &resp.Diagnostics)
		}
	} else {
		refreshed = l.refresh(ctx, address, manifestsFrom(ctx, s.Manifests, &resp.Diagnostics), uids, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	uids.save(ctx, resp.Private, &resp.Diagnostics)
	if refreshed == nil {
		resp.State.RemoveResource(ctx) // every object was deleted out of band
		return
	}
	s.Manifests = refreshed.value()
	resp.Diagnostics.Append(setState(ctx, &resp.State, state)...)
}

func deleteMesh[M any, P interface {
	*M
	meshModel
}](ctx context.Context, l *lifecycle, k meshKind[M], req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state M
	resp.Diagnostics.Append(getState(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	s := P(&state).mesh()
	ctx, cancel := timeout(ctx, s.Timeouts.Delete, defaultApplyTimeout, &resp.Diagnostics)
	defer cancel()
	l.remove(ctx, l.typeName+" "+s.ID.ValueString(), manifestsFrom(ctx, s.Manifests, &resp.Diagnostics), k.owner(&state), uidsFrom(ctx, req.Private, &resp.Diagnostics), &resp.Diagnostics)
}

// planKind is what a mesh resource adds to plan modification.
type planKind[M any] interface {
	meshKind[M]
	checkKind[M]
	standInKind[M]
	// planRender reads the intent from the configuration (the plan's
	// computed nested defaults are still unknown there), writes the
	// normalized values and intent-derived attributes into plan, and
	// renders. known is false while values are unknown; the hook then marks
	// its own computed attributes unknown. It may add to resp (replacement,
	// private state). The checks of the values ran before it.
	planRender(ctx context.Context, cfg, plan, state *M, target mesh.Target, resp *planResponse) (r rendering, known bool)
	// unknownPlan marks the computed attributes the hook sets unknown: the
	// target is not known yet.
	unknownPlan(plan *M)
}

func modifyPlanMesh[M any, P interface {
	*M
	meshModel
}](ctx context.Context, l *lifecycle, k planKind[M], req planRequest, resp *planResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan, cfg, state M
	resp.Diagnostics.Append(getPlan(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(getConfig(ctx, req.Config, &cfg)...)
	recorded := P(&state).mesh()
	recorded.Manifests, recorded.Revision = types.MapNull(types.StringType), types.Int64Null()
	*k.targetOf(&state) = types.StringNull()
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(getState(ctx, req.State, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	planned := P(&plan).mesh()
	target, known := l.target(*k.targetOf(&cfg), k.targetAttr(), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if !known {
		// The resource's or the provider's target is not known yet: so
		// is everything rendered for it.
		*k.targetOf(&plan) = types.StringUnknown()
		k.unknownPlan(&plan)
		planned.Manifests, planned.Revision = types.MapUnknown(types.StringType), types.Int64Unknown()
		resp.Diagnostics.Append(setPlan(ctx, &resp.Plan, plan)...)
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateChecked, nil)...)
		return
	}
	*k.targetOf(&plan) = types.StringValue(string(target))
	unknowns := unknownsIn(ctx, req.Config, req.Config.Raw)
	planProblems(ctx, k, req.Config, unknowns, &cfg, target, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	r, known := k.planRender(ctx, &cfg, &plan, &state, target, resp)
	if resp.Diagnostics.HasError() {
		return
	}
	recordedManifests := manifestsFrom(ctx, recorded.Manifests, &resp.Diagnostics)
	if known {
		planned.ID = types.StringValue(r.id)
		planned.Manifests, planned.Revision = l.planned(r.objs, recordedManifests, recorded.Revision, &resp.Diagnostics)
	} else {
		var all bool
		planned.Manifests, all = partialManifests(ctx, k, req.Config, unknowns, target)
		tflog.Debug(ctx, "values unknown at plan: their checks run at apply", map[string]any{
			"unknown": unknownNames(unknowns), "manifests_known": !planned.Manifests.IsUnknown(), "all_manifests_known": all,
		})
		planned.Revision = types.Int64Unknown()
		if all {
			planned.Revision = nextRevision(recordedManifests, recorded.Revision, manifestsFrom(ctx, planned.Manifests, &resp.Diagnostics))
		}
	}
	replaceOnTarget(k.targetAttr(), *k.targetOf(&state), target, recorded.Manifests, planned.Manifests, resp)
	resp.Diagnostics.Append(setPlan(ctx, &resp.Plan, plan)...)
	switch {
	case resp.Diagnostics.HasError():
	case !known:
		// The checks need every value: they run before apply.
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateChecked, nil)...)
	case planned.Manifests.Equal(recorded.Manifests):
		// Nothing to apply: the checks would cost a plan of many
		// resources several requests each for no change. If the
		// resource is updated anyway (timeouts), they run before apply.
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateChecked, nil)...)
	default:
		l.planChecks(ctx, r.checks, recordedManifests, resp.Private, &resp.Diagnostics)
	}
}
