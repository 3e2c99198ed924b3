package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	k8stypes "k8s.io/apimachinery/pkg/types"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// privateUIDs is the private state key that records the uid of each owned
// object of a resource, as its last apply or refresh found it. The owner
// label is the same in every Terraform state that declares a resource of
// that type, namespace and name; the uid is not: an object deleted and
// created again outside this resource (another state's create after an
// out-of-band delete, say) has another. Refresh drops such an object from
// state, apply refuses to write it and destroy leaves it
// (kube.ApplyOptions.UIDs), so that nothing another state made is adopted
// or deleted by this one. A state from before uids were recorded records
// them at its next refresh.
const privateUIDs = "uids"

// objectUIDs are the recorded uids by object.
type objectUIDs map[kube.ID]k8stypes.UID

// privateGetter is a request's private state.
type privateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

// uidsFrom reads privateUIDs; none recorded is an empty map.
func uidsFrom(ctx context.Context, p privateGetter, diags *diag.Diagnostics) objectUIDs {
	uids := objectUIDs{}
	if p == nil {
		return uids
	}
	data, d := p.GetKey(ctx, privateUIDs)
	diags.Append(d...)
	if len(data) == 0 {
		return uids
	}
	var byKey map[string]string
	if err := json.Unmarshal(data, &byKey); err != nil {
		diags.AddWarning("Unreadable private state", fmt.Sprintf("The recorded uids of this resource's objects (%s) are not readable (%v): the next refresh records them again.", privateUIDs, err))
		return uids
	}
	for key, uid := range byKey {
		id, err := kube.ParseKey(key)
		if err != nil {
			continue // a key no version wrote: recorded again at refresh
		}
		uids[id] = k8stypes.UID(uid)
	}
	return uids
}

// save records u under privateUIDs (none removes the key).
func (u objectUIDs) save(ctx context.Context, p privateSetter, diags *diag.Diagnostics) {
	if len(u) == 0 {
		diags.Append(p.SetKey(ctx, privateUIDs, nil)...)
		return
	}
	byKey := make(map[string]string, len(u))
	for id, uid := range u {
		byKey[id.Key()] = string(uid)
	}
	data, err := json.Marshal(byKey) // sorted keys: the same uids, the same bytes
	if err != nil {
		diags.AddError("Recording uids failed", err.Error())
		return
	}
	diags.Append(p.SetKey(ctx, privateUIDs, data)...)
}

// keep drops every uid but those of ids.
func (u objectUIDs) keep(ids []kube.ID) {
	want := map[kube.ID]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for id := range u {
		if !want[id] {
			delete(u, id)
		}
	}
}

// replacedWarning says that refresh dropped objects from state because they
// are not the ones this resource created.
func replacedWarning(diags *diag.Diagnostics, address string, replaced []*kube.ReplacedObjectError) {
	if len(replaced) == 0 {
		return
	}
	sort.Slice(replaced, func(i, j int) bool { return replaced[i].ID.String() < replaced[j].ID.String() })
	var list string
	for _, r := range replaced {
		list += fmt.Sprintf("\n  - %s (uid %s; state recorded %s)", r.ID, r.UID, r.Recorded)
	}
	diags.AddWarning("Objects created again outside this resource",
		fmt.Sprintf("%s: these objects were deleted and created again outside this resource (by another Terraform state or workspace, or by hand) since its last apply:%s\n\nThey are not this resource's, so Terraform state no longer records them, and this resource will neither change nor delete them. The plan creates them again, which is refused while they exist. If they are this resource's, `terraform state rm` it and `terraform import` it.",
			address, list))
}

// leftWarning names the objects a destroy left because they are not the
// ones this resource created.
func leftWarning(diags *diag.Diagnostics, address string, left []kube.ID) {
	if len(left) == 0 {
		return
	}
	diags.AddWarning("Objects left in the cluster",
		fmt.Sprintf("%s: %s %s not deleted: the object of that name is not the one this resource created (it was deleted and created again outside this resource since, by another Terraform state or workspace, or by hand).",
			address, kube.JoinIDs(left), isOrAre(len(left))))
}

func isOrAre(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// commitImported clears the committed label of the imported objects a
// create that died left (kube.Manager.Commit), saying so.
func (l *lifecycle) commitImported(ctx context.Context, address string, imported manifests, diags *diag.Diagnostics) {
	mgr, err := l.manager()
	if err != nil {
		clusterUnavailable(diags, err)
		return
	}
	objs, err := imported.objects()
	if err != nil {
		diags.AddError("Unreadable state", err.Error())
		return
	}
	done, err := mgr.Commit(ctx, objs)
	if len(done) > 0 {
		diags.AddWarning("Imported what an unfinished create left",
			fmt.Sprintf("%s: %s %s marked %s=false, left by a create that did not finish. The import made %s this resource's: the label is cleared, so that another create no longer takes %s over.",
				address, kube.JoinIDs(done), isOrAre(len(done)), mesh.LabelCommitted, itOrThem(len(done)), itOrThem(len(done))))
	}
	if err != nil {
		kubeFailed(diags, "Import", err)
	}
}

func itOrThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}
