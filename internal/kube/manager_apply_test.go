package kube

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

func TestApplyCreateReapplyUpdate(t *testing.T) {
	e := newEnv(t)
	v1 := e.load("traffic_split_90_10.yaml")

	start := e.m.Requests()
	cs, err := e.m.Apply(e.ctx, v1, ApplyOptions{Owner: e.owner, Wait: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("create of 2 objects with wait: %d requests (discovery included)", e.m.Requests()-start)
	e.wantChanges(cs, "VirtualService/${NAMESPACE}/reviews Created", "DestinationRule/${NAMESPACE}/reviews Created")

	rv := e.live(v1[0]).GetResourceVersion()
	start = e.m.Requests()
	cs = e.apply(v1, v1)
	// One GET and one apply per object, with no dry run first.
	if got := e.m.Requests() - start; got != 4 {
		t.Errorf("no-op re-apply of 2 objects sent %d requests, want 4 (GET + apply each)", got)
	}
	e.wantChanges(cs, "VirtualService/${NAMESPACE}/reviews Unchanged", "DestinationRule/${NAMESPACE}/reviews Unchanged")
	if got := e.live(v1[0]).GetResourceVersion(); got != rv {
		t.Errorf("no-op re-apply wrote the object: resourceVersion %s -> %s", rv, got)
	}

	v2 := e.load("traffic_split_50_50.yaml")
	start = e.m.Requests()
	cs = e.apply(v2, v1)
	if got := e.m.Requests() - start; got != 4 {
		t.Errorf("update of 1 of 2 objects sent %d requests, want 4 (GET + apply each)", got)
	}
	e.wantChanges(cs, "VirtualService/${NAMESPACE}/reviews Configured", "DestinationRule/${NAMESPACE}/reviews Unchanged")
	e.readEquals(v2...)
}

func TestDiffChangesNothing(t *testing.T) {
	e := newEnv(t)
	v1 := e.load("traffic_split_90_10.yaml")
	cs, err := e.m.Diff(e.ctx, v1, e.opts(nil))
	if err != nil {
		t.Fatal(err)
	}
	e.wantChanges(cs, "VirtualService/${NAMESPACE}/reviews Created", "DestinationRule/${NAMESPACE}/reviews Created")
	if e.live(v1[0]) != nil {
		t.Fatal("Diff created the object")
	}

	e.apply(v1, nil)
	v2 := e.load("traffic_split_50_50.yaml")[:1] // drops the DestinationRule
	cs, err = e.m.Diff(e.ctx, v2, e.opts(v1))
	if err != nil {
		t.Fatal(err)
	}
	e.wantChanges(cs, "VirtualService/${NAMESPACE}/reviews Configured", "DestinationRule/${NAMESPACE}/reviews Deleted")
	e.readEquals(v1...)
}

func TestReapplyRevertsImperativeEdit(t *testing.T) {
	e := newEnv(t)
	v1 := e.load("traffic_split_90_10.yaml")
	e.apply(v1, nil)

	e.editAs("kubectl-edit", v1[0], func(live *unstructured.Unstructured) {
		http, _, _ := unstructured.NestedSlice(live.Object, "spec", "http")
		if err := unstructured.SetNestedSlice(live.Object, http[1:], "spec", "http"); err != nil {
			t.Fatal(err)
		}
	})
	got, err := e.m.ReadOne(e.ctx, IDOf(v1[0]))
	if err != nil {
		t.Fatal(err)
	}
	// The atomic list moved to kubectl-edit, so it is gone from our view.
	if _, found, _ := unstructured.NestedFieldNoCopy(got.Object, "spec", "http"); found {
		t.Errorf("after kubectl edit, Read still shows spec.http as ours:\n%v", got.Object["spec"])
	}
	if cmp.Equal(v1[0].Object, got.Object) {
		t.Error("Read shows no drift after an out-of-band edit")
	}

	cs := e.apply(v1, v1)
	e.wantChanges(cs, "VirtualService/${NAMESPACE}/reviews Configured", "DestinationRule/${NAMESPACE}/reviews Unchanged")
	e.readEquals(v1...)
}

func TestApplyConflictWithDeclarativeManager(t *testing.T) {
	e := newEnv(t)
	v1 := e.load("traffic_split_90_10.yaml")
	e.apply(v1, nil)

	// kubectl apply --server-side --force-conflicts takes spec.http.
	theirs := e.load("traffic_split_50_50.yaml")[0]
	data, err := json.Marshal(theirs.Object)
	if err != nil {
		t.Fatal(err)
	}
	force := true
	_, err = e.otherResource(theirs).Patch(e.ctx, theirs.GetName(), types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: "kubectl", Force: &force})
	if err != nil {
		t.Fatal(err)
	}

	_, err = e.m.Apply(e.ctx, v1, e.opts(v1))
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("Apply: %v; want a ConflictError", err)
	}
	if !slices.Contains(ce.Managers, "kubectl") || !strings.Contains(err.Error(), `"kubectl"`) || !strings.Contains(err.Error(), ".spec.http") {
		t.Errorf("ConflictError does not name manager kubectl and .spec.http: %v", err)
	}
	live := e.live(theirs)
	weights, _, _ := unstructured.NestedSlice(live.Object, "spec", "http")
	if diff := cmp.Diff(theirs.Object["spec"].(map[string]any)["http"], any(weights)); diff != "" {
		t.Errorf("the other manager's fields were overwritten (-want +got):\n%s", diff)
	}
}

func TestApplyRefusesForeignObjects(t *testing.T) {
	for _, tc := range []struct {
		name, label, wantText string
	}{
		{"unlabelled", "", "terraform import"},
		{"other owner", "mesh_traffic_split.elsewhere.reviews", "mesh_traffic_split.elsewhere.reviews"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			vs := e.load("traffic_split_90_10.yaml")[0]
			foreign := vs.DeepCopy()
			foreign.SetLabels(map[string]string{})
			if tc.label != "" {
				foreign.SetLabels(map[string]string{"mesh.terraform.io/owner": tc.label})
			}
			if _, err := e.otherResource(foreign).Create(e.ctx, foreign, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			_, err := e.m.Apply(e.ctx, []*unstructured.Unstructured{vs}, e.opts(nil))
			var fe *ForeignObjectError
			if !errors.As(err, &fe) || fe.Owner != tc.label {
				t.Fatalf("Apply: %v; want a ForeignObjectError with owner %q", err, tc.label)
			}
			assertContains(t, err.Error(), "VirtualService/"+e.ns+"/reviews", tc.wantText)
			if got := e.live(vs).GetLabels(); !cmp.Equal(got, foreign.GetLabels(), cmpEmptyMap) {
				t.Errorf("the foreign object was changed: labels %v", got)
			}
		})
	}
}

// An object that Terraform state records (it was imported) is adopted even
// without our owner label; one owned by another resource never is.
func TestApplyAdoptsImportedObject(t *testing.T) {
	e := newEnv(t)
	vs := e.load("traffic_split_90_10.yaml")[0]
	unmanaged := vs.DeepCopy()
	unmanaged.SetLabels(nil)
	if _, err := e.otherResource(unmanaged).Create(e.ctx, unmanaged, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cs := e.apply([]*unstructured.Unstructured{vs}, []*unstructured.Unstructured{unmanaged})
	e.wantChanges(cs, "VirtualService/"+e.ns+"/reviews Configured")
	if got := e.live(vs).GetLabels()["mesh.terraform.io/owner"]; got != vs.GetLabels()["mesh.terraform.io/owner"] {
		t.Errorf("owner label after adoption = %q", got)
	}
	e.readEquals(vs)
}

var cmpEmptyMap = cmp.Comparer(func(a, b map[string]string) bool { return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b) })

func TestApplyRollsBackMidwayFailure(t *testing.T) {
	e := newEnv(t)
	v1 := e.load("traffic_split_90_10.yaml")
	e.apply(v1, nil)

	// Updates reviews, creates ratings, then fails on the DestinationRule.
	v2 := e.load("traffic_split_50_50.yaml", "ratings_new.yaml", "destinationrule_unknown_field.yaml")
	v2 = slices.Delete(v2, 1, 2) // the valid DestinationRule of the 50/50 file
	_, err := e.m.Apply(e.ctx, v2, e.opts(v1))

	var re *RollbackError
	if !errors.As(err, &re) {
		t.Fatalf("Apply: %v; want a RollbackError", err)
	}
	assertContains(t, err.Error(), "DestinationRule/"+e.ns+"/reviews", "trafficPolicyy", "rolled back")
	if re.RollbackErr != nil {
		t.Fatalf("rollback failed: %v", re.RollbackErr)
	}
	if mayHaveLanded(re.Cause) {
		t.Errorf("the strict-validation failure was classed as a write that may have landed: %v", re.Cause)
	}
	if id, _ := ObjectOf(err); id != IDOf(v2[2]) {
		t.Errorf("ObjectOf = %v, want the failing DestinationRule", id)
	}
	e.wantIDs("Restored", re.Restored, v2[0])
	e.wantIDs("Removed", re.Removed, v2[1])
	e.readEquals(v1...)
	if e.live(v2[1]) != nil {
		t.Error("the VirtualService this apply created is still there")
	}
}

func (e *env) wantIDs(what string, got []ID, want ...*unstructured.Unstructured) {
	e.t.Helper()
	if diff := cmp.Diff(idsOf(want), got); diff != "" {
		e.t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

func TestApplyRollsBackReadinessTimeout(t *testing.T) {
	e := newEnv(t)
	v1 := e.load("traffic_split_90_10.yaml")
	e.apply(v1, nil)

	v2 := e.load("traffic_split_50_50.yaml", "deployment_unschedulable.yaml")
	opts := e.opts(v1)
	opts.Wait, opts.WaitTimeout = true, 5*time.Second
	_, err := e.m.Apply(e.ctx, v2, opts)

	var re *RollbackError
	var we *WaitError
	if !errors.As(err, &re) || !errors.As(err, &we) {
		t.Fatalf("Apply: %v; want a RollbackError caused by a WaitError", err)
	}
	assertContains(t, err.Error(), "Deployment/"+e.ns+"/reviews-waypoint is InProgress", "rolled back")
	if re.RollbackErr != nil {
		t.Fatalf("rollback failed: %v", re.RollbackErr)
	}
	e.readEquals(v1...)
	if e.live(v2[2]) != nil {
		t.Error("the Deployment this apply created is still there")
	}
}

func TestApplyPrunesDroppedObjects(t *testing.T) {
	e := newEnv(t)
	v1 := e.load("traffic_split_90_10.yaml")
	e.apply(v1, nil)

	cs := e.apply(v1[:1], v1)
	e.wantChanges(cs, "VirtualService/${NAMESPACE}/reviews Unchanged", "DestinationRule/${NAMESPACE}/reviews Deleted")
	if e.live(v1[1]) != nil {
		t.Error("the dropped DestinationRule is still there")
	}
}

func TestApplyUnknownKind(t *testing.T) {
	e := newEnv(t)
	_, err := e.m.Apply(e.ctx, e.load("unknown_kind.yaml"), e.opts(nil))
	var ue *UnknownKindError
	if !errors.As(err, &ue) {
		t.Fatalf("Apply: %v; want an UnknownKindError", err)
	}
	assertContains(t, err.Error(), "TrafficSplit", "split.smi-spec.io/v1alpha4", "CustomResourceDefinition is missing")
}

// A new object needs no dry run (nothing to compare, nobody to conflict
// with), and an object ready on arrival (no status to wait for) no watch:
// a GET, the apply (marked uncommitted) and the commit each.
func TestCreateSendsAGetAnApplyAndACommitPerObject(t *testing.T) {
	e := newEnv(t)
	e.apply(e.load("traffic_split_90_10.yaml"), nil) // warms discovery
	objs := e.ratings(2)
	if n := e.requestsOf(func() {
		if _, err := e.m.Apply(e.ctx, objs, ApplyOptions{Owner: e.owner, Wait: true}); err != nil {
			t.Fatal(err)
		}
	}); n != 6 {
		t.Errorf("create of 2 objects with wait sent %d requests, want 6 (GET, apply and commit each)", n)
	}
	e.readEquals(objs...)
	for _, obj := range objs {
		if _, ok := e.live(obj).GetLabels()[mesh.LabelCommitted]; ok {
			t.Errorf("%s still carries %s after the create", IDOf(obj), mesh.LabelCommitted)
		}
	}
}

// leftByDeadCreate writes obj as a create that died wrote it: a server-side
// apply as the provider, marked uncommitted unless committed.
func (e *env) leftByDeadCreate(obj *unstructured.Unstructured, committed bool) {
	e.t.Helper()
	left := obj.DeepCopy()
	if !committed {
		labels := left.GetLabels()
		labels[mesh.LabelCommitted] = "false"
		left.SetLabels(labels)
	}
	data, err := json.Marshal(left.Object)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.otherResource(left).Patch(e.ctx, left.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: DefaultFieldManager}); err != nil {
		e.t.Fatal(err)
	}
}

// What a create that died left (its objects marked uncommitted) is adopted
// by the same create run again, which then commits it.
func TestCreateAdoptsWhatADeadCreateLeft(t *testing.T) {
	e := newEnv(t)
	objs := e.ratings(2)
	for _, obj := range objs {
		e.leftByDeadCreate(obj, false)
	}
	if _, err := e.m.Apply(e.ctx, objs, e.opts(nil)); err != nil {
		t.Fatalf("Apply over a dead create's objects: %v", err)
	}
	for _, obj := range objs {
		if got := e.live(obj).GetLabels()[mesh.LabelCommitted]; got != "" {
			t.Errorf("%s: %s=%q after the create", IDOf(obj), mesh.LabelCommitted, got)
		}
	}
}

// A create killed during its commit step leaves some objects committed and
// others not: running it again adopts the whole set (no state recorded
// any of it), and Diff, at plan, agrees.
func TestCreateAdoptsAPartlyCommittedSet(t *testing.T) {
	e := newEnv(t)
	objs := e.ratings(2)
	e.leftByDeadCreate(objs[0], true)  // committed
	e.leftByDeadCreate(objs[1], false) // not yet
	if _, err := e.m.Diff(e.ctx, objs, e.opts(nil)); err != nil {
		t.Fatalf("Diff over a partly committed set: %v", err)
	}
	if _, err := e.m.Apply(e.ctx, objs, e.opts(nil)); err != nil {
		t.Fatalf("Apply over a partly committed set: %v", err)
	}
	for _, obj := range objs {
		if got := e.live(obj).GetLabels()[mesh.LabelCommitted]; got != "" {
			t.Errorf("%s: %s=%q after the create", IDOf(obj), mesh.LabelCommitted, got)
		}
	}
	// Once committed, the same set created again (another state) is refused.
	var fe *ForeignObjectError
	if _, err := e.m.Apply(e.ctx, objs, e.opts(nil)); !errors.As(err, &fe) || !fe.Committed {
		t.Errorf("a second create of the committed set: %v; want it refused", err)
	}
}

// A committed object with this resource's owner label that its state does
// not record belongs to another resource instance (another Terraform state
// declaring the same resource): a create refuses it and changes nothing.
func TestCreateRefusesAnotherStatesObjects(t *testing.T) {
	e := newEnv(t)
	v1 := e.load("traffic_split_90_10.yaml")
	e.apply(v1, nil) // state A
	before := e.live(v1[0]).GetResourceVersion()
	v2 := e.load("traffic_split_50_50.yaml")
	_, err := e.m.Apply(e.ctx, v2, e.opts(nil)) // state B: a create of the same resource
	var fe *ForeignObjectError
	if !errors.As(err, &fe) || !fe.Committed {
		t.Fatalf("Apply: %v; want a ForeignObjectError for a committed object", err)
	}
	assertContains(t, err.Error(), "VirtualService/"+e.ns+"/reviews", "another resource instance", "terraform import")
	if got := e.live(v1[0]).GetResourceVersion(); got != before {
		t.Error("the other state's VirtualService was changed")
	}
	// With the objects in its state (an update, or after an import) it is
	// this resource's own.
	e.apply(v2, v1)
}

// Two states create the same resource at once: the second, finding the
// first's objects uncommitted, takes them for what a create that died left
// and adopts them. The first create then fails at its commit, naming the
// object, deletes nothing the second now holds, and leaves it out of what
// its state may record; the second's set stays whole and committed.
func TestCreateTakenOverMeanwhileFailsAtItsCommit(t *testing.T) {
	e := newEnv(t)
	objs := append(e.load("traffic_split_90_10.yaml"), e.ratings(1)...)
	other, err := New(cluster.Config, e.m.opts)
	if err != nil {
		t.Fatal(err)
	}
	e.m.beforeCommit = func() {
		if _, err := other.Apply(e.ctx, objs, e.opts(nil)); err != nil {
			t.Errorf("the second create, over the first's uncommitted objects: %v", err)
		}
	}
	_, err = e.m.Apply(e.ctx, objs, e.opts(nil))
	var te *TakenOverError
	if !errors.As(err, &te) || te.ID != IDOf(objs[0]) {
		t.Fatalf("Apply: %v; want a TakenOverError for the first object", err)
	}
	assertContains(t, err.Error(), "taken over", "another Terraform state", "terraform import")
	// The second create adopted the whole set, so nothing is this create's
	// to roll back: the error claims no rollback.
	var re *RollbackError
	if errors.As(err, &re) || strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("Apply: %v; want no rollback claimed, every object being the second create's", err)
	}
	e.readEquals(objs...)
	e.wantCommitted(objs...)
}

// Another writer changing an object between the create's write and its
// commit (a controller's status, a label) is not a takeover: the commit's
// conditional write looks, finds its own create id, and retries.
func TestCreateCommitsPastAnotherWritersChange(t *testing.T) {
	e := newEnv(t)
	objs := e.ratings(2)
	e.m.beforeCommit = func() {
		e.editAs("kubectl-label", objs[0], func(live *unstructured.Unstructured) {
			labels := live.GetLabels()
			labels["team"] = "ratings"
			live.SetLabels(labels)
		})
	}
	if _, err := e.m.Apply(e.ctx, objs, e.opts(nil)); err != nil {
		t.Fatalf("Apply with an edit before its commit: %v", err)
	}
	e.wantCommitted(objs...)
	if got := e.live(objs[0]).GetLabels()["team"]; got != "ratings" {
		t.Errorf("the other writer's label is %q after the commit", got)
	}
}

// wantCommitted fails unless every object is live and committed: neither
// the committed label nor a create id left on it.
func (e *env) wantCommitted(objs ...*unstructured.Unstructured) {
	e.t.Helper()
	for _, obj := range objs {
		live := e.live(obj)
		if live == nil {
			e.t.Errorf("%s is gone", IDOf(obj))
			continue
		}
		if v, ok := live.GetLabels()[mesh.LabelCommitted]; ok {
			e.t.Errorf("%s is not committed (%s=%q)", IDOf(obj), mesh.LabelCommitted, v)
		}
		if id, ok := live.GetAnnotations()[mesh.AnnotationCreateID]; ok {
			e.t.Errorf("%s still carries %s=%s", IDOf(obj), mesh.AnnotationCreateID, id)
		}
	}
}

// uidsOf are the uids an apply reported, as ApplyOptions.UIDs takes them.
func uidsOf(t *testing.T, cs ChangeSet) map[ID]types.UID {
	t.Helper()
	uids := map[ID]types.UID{}
	for _, c := range cs {
		if c.UID != "" {
			uids[c.ID] = c.UID
		}
	}
	return uids
}

// State A's objects are deleted out of band and state B creates the same
// resource: B's objects carry A's owner label, but not the uids A recorded.
// A's update and its plan refuse them, changing nothing, and A's destroy
// leaves them to B; B updates its own.
func TestApplyAndDeleteLeaveAnObjectCreatedAgainElsewhere(t *testing.T) {
	e := newEnv(t)
	v1 := append(e.load("traffic_split_90_10.yaml"), e.ratings(1)...)
	v2 := append(e.load("traffic_split_50_50.yaml"), e.ratings(1)...)
	a := uidsOf(t, e.apply(v1, nil))
	if len(a) != len(v1) {
		t.Fatalf("the create reported %d uids for %d objects: %v", len(a), len(v1), a)
	}
	for _, obj := range v1 {
		if got := e.live(obj).GetUID(); a[IDOf(obj)] != got {
			t.Errorf("%s: reported uid %s, live %s", IDOf(obj), a[IDOf(obj)], got)
		}
		if err := e.otherResource(obj).Delete(e.ctx, obj.GetName(), metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.m.waitGone(e.ctx, idsOf(v1)); err != nil {
		t.Fatal(err)
	}
	b := uidsOf(t, e.apply(v1, nil)) // state B's create
	versions := map[ID]string{}
	for _, obj := range v1 {
		versions[IDOf(obj)] = e.live(obj).GetResourceVersion()
	}
	optsA := e.opts(v1)
	optsA.UIDs = a
	for name, call := range map[string]func() (ChangeSet, error){
		"Diff":  func() (ChangeSet, error) { return e.m.Diff(e.ctx, v2, optsA) },
		"Apply": func() (ChangeSet, error) { return e.m.Apply(e.ctx, v2, optsA) },
	} {
		_, err := call()
		var re *ReplacedObjectError
		if !errors.As(err, &re) || re.Recorded != a[re.ID] || re.UID != b[re.ID] {
			t.Fatalf("A's %s over B's objects: %v; want a ReplacedObjectError", name, err)
		}
		assertContains(t, err.Error(), re.ID.String(), "is not the object this resource created", string(re.UID), string(re.Recorded), "terraform import")
	}
	del := DefaultDeleteOptions()
	del.UIDs = a
	cs, err := e.m.Delete(e.ctx, v1, del)
	if err != nil {
		t.Fatalf("A's destroy: %v", err)
	}
	for _, c := range cs {
		if !c.Replaced || c.Action != Unchanged {
			t.Errorf("A's destroy: %s %s (replaced %v); want B's object left alone", c.ID, c.Action, c.Replaced)
		}
	}
	for _, obj := range v1 {
		if live := e.live(obj); live == nil || live.GetResourceVersion() != versions[IDOf(obj)] {
			t.Errorf("%s: B's object was changed or deleted by A", IDOf(obj))
		}
	}
	optsB := e.opts(v1)
	optsB.UIDs = b
	cs, err = e.m.Apply(e.ctx, v2, optsB)
	if err != nil {
		t.Fatalf("B's update of its own objects: %v", err)
	}
	if got := uidsOf(t, cs); !cmp.Equal(got, b) {
		t.Errorf("B's update reported uids %v; want its create's %v", got, b)
	}
	del.UIDs = b
	if cs, err := e.m.Delete(e.ctx, v2, del); err != nil || cs.Changed() == false {
		t.Errorf("B's destroy: %v %v", cs, err)
	}
}

// An import adopts what a create that died left: Commit clears the
// committed label (and the create id) of the uncommitted objects only,
// changing nothing else, and a create of the same set then refuses them.
func TestCommitAdoptsWhatADeadCreateLeft(t *testing.T) {
	e := newEnv(t)
	objs := e.ratings(2)
	e.leftByDeadCreate(objs[0], false)
	e.leftByDeadCreate(objs[1], true)
	committedBefore := e.live(objs[1]).GetResourceVersion()
	done, err := e.m.Commit(e.ctx, objs)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if !cmp.Equal(done, []ID{IDOf(objs[0])}) {
		t.Errorf("Commit committed %v; want only the uncommitted %s", done, IDOf(objs[0]))
	}
	for _, obj := range objs {
		live := e.live(obj)
		if _, marked := live.GetLabels()[mesh.LabelCommitted]; marked {
			t.Errorf("%s still carries %s", IDOf(obj), mesh.LabelCommitted)
		}
		if !Covers(live.Object, obj.Object) {
			t.Errorf("%s changed: %v", IDOf(obj), live.Object)
		}
	}
	if got := e.live(objs[1]).GetResourceVersion(); got != committedBefore {
		t.Errorf("the committed %s was written again", IDOf(objs[1]))
	}
	var fe *ForeignObjectError
	if _, err := e.m.Apply(e.ctx, objs, e.opts(nil)); !errors.As(err, &fe) || !fe.Committed {
		t.Errorf("a create over the imported set: %v; want it refused", err)
	}
}
