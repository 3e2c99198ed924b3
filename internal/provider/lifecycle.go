package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/render"
	"github.com/meshform/terraform-provider-mesh/internal/preflight"
)

// lifecycle is what every mesh resource shares: the provider's engine, the
// target default, the manifests and revision shown in the plan, cluster
// checks at plan time (or before apply), the atomic apply over the revision
// recorded in state, the owned-field refresh and the delete. A resource adds
// its descriptor (descriptor.go): schema, intent, renderer, checks.
type lifecycle struct {
	typeName string
	data     *providerData
}

const (
	defaultApplyTimeout = 10 * time.Minute
	defaultReadTimeout  = 5 * time.Minute
)

// privateChecked marks a plan whose cluster checks passed at plan time, so
// that an update does not repeat them.
const privateChecked = "cluster_checks"

// clusterCheck runs a resource's plan-time cluster checks; recorded lists the
// objects Terraform state already holds for it.
type clusterCheck func(ctx context.Context, m *kube.Manager, recorded []kube.ID) (mesh.Problems, error)

// privateSetter is the plan's private state.
type privateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

// planRequest and planResponse are what a plan modification reads and
// writes: the framework's ModifyPlan request and response, or what the
// protocol's fast path (fastplan.go) decoded itself. The response starts as
// the plan to modify, its private state the prior one.
type planRequest struct {
	Config tfsdk.Config
	Plan   tfsdk.Plan
	State  tfsdk.State
}

type planResponse struct {
	Plan            tfsdk.Plan
	Private         privateSetter
	RequiresReplace path.Paths
	Diagnostics     diag.Diagnostics
}

func (l *lifecycle) configure(from any, diags *diag.Diagnostics) {
	if from == nil {
		return
	}
	data, ok := from.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("got %T; this is a bug in the provider", from))
		return
	}
	l.data = data
}

func (l *lifecycle) manager() (*kube.Manager, error) {
	if l.data == nil {
		return nil, errors.New("the provider is not configured")
	}
	return l.data.Manager()
}

// target returns the resource's data-plane override (the attribute attr,
// usually "target"), else the provider's target. known is false when the
// one that applies is not known until apply; with neither set, diags say so.
func (l *lifecycle) target(cfg types.String, attr string, diags *diag.Diagnostics) (t mesh.Target, known bool) {
	switch {
	case cfg.IsUnknown():
		return "", false
	case !cfg.IsNull():
		return mesh.Target(cfg.ValueString()), true
	case l.data != nil && l.data.targetUnknown:
		return "", false
	case l.data != nil && l.data.target != "":
		return l.data.target, true
	}
	diags.AddAttributeError(path.Root(attr), "No target data plane",
		"Set "+attr+" on this resource or target on the provider to one of "+targetList()+".")
	return "", false
}

// replaceOnTarget decides whether a change of data plane forces
// replacement. A new target usually renders other kinds, which replacement
// swaps cleanly; when the rendered objects stay the same (an HTTPRoute reads
// the same for linkerd as for Istio's gateway_api, e.g. after an import that
// took the provider's target) the change is only recorded.
func replaceOnTarget(attr string, recordedTarget types.String, target mesh.Target, recorded, planned types.Map, resp *planResponse) {
	if recordedTarget.IsNull() || recordedTarget.ValueString() == string(target) {
		return
	}
	if planned.IsUnknown() || !planned.Equal(recorded) {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root(attr))
	}
}

// planned renders the manifests of objs and the revision they make: the
// recorded one when nothing changes, the next one otherwise.
func (l *lifecycle) planned(objs []*unstructured.Unstructured, recorded manifests, revision types.Int64, diags *diag.Diagnostics) (types.Map, types.Int64) {
	m, err := manifestsOf(objs)
	if err != nil {
		diags.AddError("Rendering failed", err.Error())
		return types.MapUnknown(types.StringType), types.Int64Unknown()
	}
	return m.value(), nextRevision(recorded, revision, m)
}

// nextRevision keeps the recorded revision when the manifests do not change,
// and increments it when they do.
func nextRevision(recorded manifests, revision types.Int64, planned manifests) types.Int64 {
	switch {
	case revision.IsNull() || revision.IsUnknown():
		return types.Int64Value(1)
	case equalManifests(recorded, planned):
		return revision
	}
	return types.Int64Value(revision.ValueInt64() + 1)
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

// planChecks runs the cluster checks at plan time and records in the plan's
// private state whether they passed; the marker is always overwritten, since
// the plan starts from the prior state's.
func (l *lifecycle) planChecks(ctx context.Context, check clusterCheck, recorded manifests, private privateSetter, diags *diag.Diagnostics) {
	var passed []byte
	if l.checkCluster(ctx, check, recorded, diags, true) {
		passed = []byte(`true`)
	}
	diags.Append(private.SetKey(ctx, privateChecked, passed)...)
}

// checkCluster runs the cluster checks. At plan time (atPlan) a cluster that
// cannot be asked yields a warning and the checks run again before apply; at
// apply it is an error. It reports whether the checks ran and passed.
func (l *lifecycle) checkCluster(ctx context.Context, check clusterCheck, recorded manifests, diags *diag.Diagnostics, atPlan bool) bool {
	ids, err := recorded.ids()
	if err != nil {
		diags.AddError("Unreadable state", err.Error())
		return false
	}
	mgr, err := l.manager()
	if err == nil {
		var problems mesh.Problems
		if problems, err = check(ctx, mgr, ids); err == nil {
			addProblems(diags, problems)
			return !problems.HasErrors()
		}
	}
	var missing *preflight.MissingAPIError
	switch {
	case atPlan:
		tflog.Debug(ctx, "cluster checks deferred to apply", map[string]any{"reason": err.Error()})
		clusterChecksSkipped(diags, err)
	case errors.As(err, &missing):
		missingAPI(diags, missing)
	default:
		clusterUnavailable(diags, err)
	}
	return false
}

// applyObjects applies objs atomically over the previous revision (nil on
// create). On failure the engine has rolled the cluster back to previous,
// and diags say so; left lists the objects its rollback could not put
// back.
func (l *lifecycle) applyObjects(ctx context.Context, objs []*unstructured.Unstructured, owner, address string, previous manifests, uids objectUIDs, diags *diag.Diagnostics) (left []kube.ID, ok bool) {
	mgr, err := l.manager()
	if err != nil {
		clusterUnavailable(diags, err)
		return nil, false
	}
	opts := kube.DefaultApplyOptions()
	opts.Owner, opts.UIDs = owner, uids
	if opts.Previous, err = previous.objects(); err != nil {
		diags.AddError("Unreadable state", err.Error())
		return nil, false
	}
	tflog.Debug(ctx, "apply start", map[string]any{"resource": address, "objects": len(objs), "previous_revision_objects": len(previous)})
	changes, err := mgr.Apply(ctx, objs, opts)
	if err != nil {
		tflog.Warn(ctx, "apply failed", map[string]any{"resource": address, "error": err.Error()})
		applyFailed(diags, address, err)
		var rb *kube.RollbackError
		if errors.As(err, &rb) {
			left = rb.LeftChanged
			// State keeps the previous revision and what is left changed:
			// the uids of what the rollback put back, and of what it left.
			for id, uid := range rb.UIDs {
				uids[id] = uid
			}
			for _, c := range changes {
				if c.UID != "" && slices.Contains(left, c.ID) {
					uids[c.ID] = c.UID
				}
			}
		}
		return left, false
	}
	tflog.Debug(ctx, "apply end", map[string]any{"resource": address, "changes": changeList(changes)})
	clear(uids)
	for _, c := range changes {
		if c.UID != "" {
			uids[c.ID] = c.UID
		}
	}
	return nil, true
}

// changeList is a change set as log lines: "Kind/namespace/name Action".
func changeList(changes kube.ChangeSet) []string {
	out := make([]string, len(changes))
	for i, c := range changes {
		out[i] = c.String()
	}
	return out
}

// refresh replaces each recorded manifest with the fields this provider owns
// on the live object, unless those still cover it (the API server may add
// defaults inside lists we own). Objects that are gone drop out, and so do
// owned objects whose uid is not the recorded one (created again outside
// this resource: a warning names them); nil means all are gone. uids ends
// as the live uids of the owned objects kept.
func (l *lifecycle) refresh(ctx context.Context, address string, recorded manifests, uids objectUIDs, diags *diag.Diagnostics) manifests {
	mgr, err := l.manager()
	if err != nil {
		clusterUnavailable(diags, err)
		return nil
	}
	ids, err := recorded.ids()
	if err != nil {
		diags.AddError("Unreadable state", err.Error())
		return nil
	}
	live, liveUIDs, err := mgr.ReadWithUIDs(ctx, ids)
	if err != nil {
		kubeFailed(diags, "Refresh", err)
		return nil
	}
	refreshed := manifests{}
	var replaced []*kube.ReplacedObjectError
	var kept []kube.ID
	for _, id := range ids {
		obj, ok := live[id]
		if !ok {
			continue
		}
		want, err := decodeYAML(recorded[id.Key()])
		if err != nil {
			diags.AddError("Refresh failed", fmt.Sprintf("%s: %v", id, err))
			return nil
		}
		if mgr.Owned(want) {
			if rec := uids[id]; rec != "" && rec != liveUIDs[id] {
				replaced = append(replaced, &kube.ReplacedObjectError{ID: id, UID: liveUIDs[id], Recorded: rec})
				continue
			}
			uids[id] = liveUIDs[id]
		}
		y, err := refreshedManifest(recorded[id.Key()], want, obj)
		if err != nil {
			diags.AddError("Refresh failed", fmt.Sprintf("%s: %v", id, err))
			return nil
		}
		refreshed[id.Key()] = y
		kept = append(kept, id)
	}
	uids.keep(kept)
	replacedWarning(diags, address, replaced)
	if len(refreshed) == 0 {
		return nil
	}
	return refreshed
}

// refreshedManifest keeps the recorded YAML when the live owned fields still
// hold every recorded value, and otherwise shows them: that is the drift.
func refreshedManifest(recorded string, want, live *unstructured.Unstructured) (string, error) {
	if kube.Covers(live.Object, want.Object) {
		return recorded, nil
	}
	return render.YAML(live)
}

// remove deletes the recorded objects and waits until they are gone.
func (l *lifecycle) remove(ctx context.Context, address string, recorded manifests, owner string, uids objectUIDs, diags *diag.Diagnostics) {
	mgr, err := l.manager()
	if err != nil {
		clusterUnavailable(diags, err)
		return
	}
	objs, err := recorded.objects()
	if err != nil {
		diags.AddError("Unreadable state", err.Error())
		return
	}
	opts := kube.DefaultDeleteOptions()
	opts.Owner, opts.UIDs = owner, uids
	changes, err := mgr.Delete(ctx, objs, opts)
	if err != nil {
		kubeFailed(diags, "Delete", err)
	}
	var left []kube.ID
	for _, c := range changes {
		if c.Replaced {
			left = append(left, c.ID)
		}
	}
	leftWarning(diags, address, left)
}

// timeout bounds ctx by a timeouts value, or by def.
func timeout(ctx context.Context, get func(context.Context, time.Duration) (time.Duration, diag.Diagnostics), def time.Duration, diags *diag.Diagnostics) (context.Context, context.CancelFunc) {
	d, dd := get(ctx, def)
	diags.Append(dd...)
	return context.WithTimeout(ctx, d)
}

// importByNamespacedName starts an import by "namespace/name": the resource's
// Read then rebuilds everything else from the live objects.
func importByNamespacedName(ctx context.Context, typeName string, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ns, name, ok := strings.Cut(req.ID, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("%q is not namespace/name. Import with `terraform import %s.NAME <namespace>/<name>`.", req.ID, typeName))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("namespace"), ns)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
}
