package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

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
	_ resource.ResourceWithConfigure      = (*trafficSplitResource)(nil)
	_ resource.ResourceWithValidateConfig = (*trafficSplitResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*trafficSplitResource)(nil)
	_ resource.ResourceWithImportState    = (*trafficSplitResource)(nil)
)

const trafficSplitType = "mesh_traffic_split"

// NewTrafficSplitResource is the mesh_traffic_split resource.
func NewTrafficSplitResource() resource.Resource { return &trafficSplitResource{} }

type trafficSplitResource struct {
	data *providerData
}

const (
	defaultApplyTimeout = 10 * time.Minute
	defaultReadTimeout  = 5 * time.Minute
)

// privateChecked marks a plan whose cluster checks passed at plan time, so
// that an update does not repeat them.
const privateChecked = "cluster_checks"

func (r *trafficSplitResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_traffic_split"
}

func (r *trafficSplitResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	data, ok := req.ProviderData.(*providerData)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("got %T; this is a bug in the provider", req.ProviderData))
		return
	}
	r.data = data
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
	if resp.Diagnostics.HasError() {
		return
	}
	var state *trafficSplitModel
	if !req.State.Raw.IsNull() {
		state = &trafficSplitModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	target, ok := r.resolveTarget(cfg, &resp.Diagnostics)
	if !ok {
		return
	}
	plan.Target = types.StringValue(string(target))
	if state != nil && !state.Target.IsNull() && state.Target.ValueString() != string(target) {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("target"))
	}
	if !plan.Namespace.IsUnknown() && !plan.Name.IsUnknown() {
		plan.ID = types.StringValue(plan.Namespace.ValueString() + "/" + plan.Name.ValueString())
	}

	ts, known := r.planIntent(ctx, cfg, target, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if !known {
		plan.Manifests = types.MapUnknown(types.StringType)
		plan.Revision = types.Int64Unknown()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
		return
	}
	resp.Diagnostics.Append(plan.setIntent(ts)...)
	objs, err := render.TrafficSplit(ts)
	if err != nil {
		resp.Diagnostics.AddError("Rendering failed", err.Error())
		return
	}
	planned, err := manifestsOf(objs)
	if err != nil {
		resp.Diagnostics.AddError("Rendering failed", err.Error())
		return
	}
	plan.Manifests = planned.value(&resp.Diagnostics)
	plan.Revision = nextRevision(ctx, state, planned, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Always overwrite the marker: the response starts from the prior state's.
	var checked []byte
	var recorded manifests
	if state != nil {
		recorded = manifestsFrom(ctx, state.Manifests, &resp.Diagnostics)
	}
	if r.checkCluster(ctx, ts, recordedIDs(recorded, &resp.Diagnostics), &resp.Diagnostics, true) {
		checked = []byte(`true`)
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateChecked, checked)...)
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

// resolveTarget returns the resource's target, else the provider's.
func (r *trafficSplitResource) resolveTarget(cfg trafficSplitModel, diags *diag.Diagnostics) (mesh.Target, bool) {
	if !cfg.Target.IsNull() && !cfg.Target.IsUnknown() {
		return mesh.Target(cfg.Target.ValueString()), true
	}
	if r.data != nil && r.data.target != "" {
		return r.data.target, true
	}
	diags.AddAttributeError(path.Root("target"), "No target data plane",
		"Set target on this resource or on the provider to one of "+targetList()+".")
	return "", false
}

// nextRevision keeps the recorded revision when the manifests do not change,
// and increments it when they do.
func nextRevision(ctx context.Context, state *trafficSplitModel, planned manifests, diags *diag.Diagnostics) types.Int64 {
	if state == nil || state.Revision.IsNull() {
		return types.Int64Value(1)
	}
	if equalManifests(manifestsFrom(ctx, state.Manifests, diags), planned) {
		return state.Revision
	}
	return types.Int64Value(state.Revision.ValueInt64() + 1)
}

func equalManifests(a, b manifests) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// checkCluster runs the cluster checks. At plan time (atPlan) a cluster that
// cannot be asked yields a warning and the checks run again before apply; at
// apply it is an error. It reports whether the checks ran and passed.
func (r *trafficSplitResource) checkCluster(ctx context.Context, ts mesh.TrafficSplit, recorded []kube.ID, diags *diag.Diagnostics, atPlan bool) bool {
	mgr, err := r.manager()
	if err == nil {
		var problems mesh.Problems
		problems, err = preflight.TrafficSplit(ctx, mgr, ts, recorded)
		if err == nil {
			addProblems(diags, problems)
			return !problems.HasErrors()
		}
	}
	var missing *preflight.MissingAPIError
	switch {
	case atPlan:
		clusterChecksSkipped(diags, err)
	case errors.As(err, &missing):
		missingAPI(diags, missing)
	default:
		clusterUnavailable(diags, err)
	}
	return false
}

// recordedIDs are the objects state holds for the resource.
func recordedIDs(m manifests, diags *diag.Diagnostics) []kube.ID {
	ids, err := m.ids()
	if err != nil {
		diags.AddError("Unreadable state", err.Error())
	}
	return ids
}

func (r *trafficSplitResource) manager() (*kube.Manager, error) {
	if r.data == nil {
		return nil, fmt.Errorf("the provider is not configured")
	}
	return r.data.Manager()
}

func (r *trafficSplitResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan trafficSplitModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, defaultApplyTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Create gets no planned private state, so the cluster checks run again.
	if r.apply(ctx, &plan, nil, false, &resp.Diagnostics) {
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
	timeout, d := plan.Timeouts.Update(ctx, defaultApplyTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	checked, d := req.Private.GetKey(ctx, privateChecked)
	resp.Diagnostics.Append(d...)

	if r.apply(ctx, &plan, &state, checked != nil, &resp.Diagnostics) {
		resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
		return
	}
	// The engine rolled the cluster back to the state's revision: keep it.
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// apply renders the plan and applies it atomically over the previous
// revision recorded in state (nil on create).
func (r *trafficSplitResource) apply(ctx context.Context, plan, state *trafficSplitModel, checked bool, diags *diag.Diagnostics) bool {
	owner := ownerOf(*plan)
	ts, _, d := plan.intent(ctx, mesh.Target(plan.Target.ValueString()), owner)
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
	if !checked && !r.checkCluster(ctx, ts, recordedIDs(previous, diags), diags, false) {
		return false
	}
	objs, err := render.TrafficSplit(ts)
	if err != nil {
		diags.AddError("Rendering failed", err.Error())
		return false
	}
	mgr, err := r.manager()
	if err != nil {
		clusterUnavailable(diags, err)
		return false
	}
	opts := kube.DefaultApplyOptions()
	opts.Owner = owner
	if opts.Previous, err = previous.objects(); err != nil {
		diags.AddError("Unreadable state", err.Error())
		return false
	}
	if _, err := mgr.Apply(ctx, objs, opts); err != nil {
		applyFailed(diags, resourceAddress(ts), err)
		return false
	}
	planned, err := manifestsOf(objs)
	if err != nil {
		diags.AddError("Rendering failed", err.Error())
		return false
	}
	plan.Manifests = planned.value(diags)
	plan.ID = types.StringValue(ts.Namespace + "/" + ts.Name)
	if plan.Revision.IsUnknown() {
		plan.Revision = nextRevision(ctx, state, planned, diags)
	}
	return !diags.HasError()
}

// ownerOf is the owner label value of the split's objects.
func ownerOf(m trafficSplitModel) string {
	return mesh.Owner(trafficSplitType, m.Namespace.ValueString(), m.Name.ValueString())
}

func resourceAddress(ts mesh.TrafficSplit) string {
	return fmt.Sprintf("%s %s/%s", trafficSplitType, ts.Namespace, ts.Name)
}

func (r *trafficSplitResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state trafficSplitModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := state.Timeouts.Read(ctx, defaultReadTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	mgr, err := r.manager()
	if err != nil {
		clusterUnavailable(&resp.Diagnostics, err)
		return
	}
	if state.Manifests.IsNull() {
		r.importLive(ctx, mgr, &state, &resp.Diagnostics)
	} else {
		r.refresh(ctx, mgr, &state, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if state.Manifests.IsNull() {
		resp.State.RemoveResource(ctx) // every object was deleted out of band
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// refresh replaces each manifest with the fields this provider owns on the
// live object, unless those still cover the recorded manifest. Objects that
// are gone drop out; when all are gone the manifests become null.
func (r *trafficSplitResource) refresh(ctx context.Context, mgr *kube.Manager, state *trafficSplitModel, diags *diag.Diagnostics) {
	recorded := manifestsFrom(ctx, state.Manifests, diags)
	ids, err := recorded.ids()
	if err != nil {
		diags.AddError("Unreadable state", err.Error())
		return
	}
	live, err := mgr.Read(ctx, ids)
	if err != nil {
		kubeFailed(diags, "Refresh", err)
		return
	}
	refreshed := manifests{}
	for _, id := range ids {
		obj, ok := live[id]
		if !ok {
			continue
		}
		y, err := refreshedManifest(recorded[id.Key()], obj)
		if err != nil {
			diags.AddError("Refresh failed", fmt.Sprintf("%s: %v", id, err))
			return
		}
		refreshed[id.Key()] = y
	}
	if len(refreshed) == 0 {
		state.Manifests = types.MapNull(types.StringType)
		return
	}
	state.Manifests = refreshed.value(diags)
}

// refreshedManifest keeps the recorded YAML when the live owned fields still
// hold every recorded value (the API server may add defaults inside lists we
// own), and otherwise shows the live owned fields, which is the drift.
func refreshedManifest(recorded string, live *unstructured.Unstructured) (string, error) {
	want, err := decodeYAML(recorded)
	if err != nil {
		return "", err
	}
	if kube.Covers(live.Object, want.Object) {
		return recorded, nil
	}
	return render.YAML(live)
}

func (r *trafficSplitResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state trafficSplitModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, defaultApplyTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	mgr, err := r.manager()
	if err != nil {
		clusterUnavailable(&resp.Diagnostics, err)
		return
	}
	objs, err := manifestsFrom(ctx, state.Manifests, &resp.Diagnostics).objects()
	if err != nil {
		resp.Diagnostics.AddError("Unreadable state", err.Error())
		return
	}
	opts := kube.DefaultDeleteOptions()
	opts.Owner = ownerOf(state)
	if _, err := mgr.Delete(ctx, objs, opts); err != nil {
		kubeFailed(&resp.Diagnostics, "Delete", err)
	}
}

func (r *trafficSplitResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ns, name, ok := strings.Cut(req.ID, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("%q is not namespace/name. Import a traffic split with `terraform import mesh_traffic_split.NAME <namespace>/<name>`.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("namespace"), ns)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
}
