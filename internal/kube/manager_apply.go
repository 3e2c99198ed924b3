package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// ApplyOptions configure Apply and Diff.
type ApplyOptions struct {
	// Owner is the owner label value this resource applies under. Owned
	// objects must carry it; live objects must carry it too, or not exist.
	Owner string
	// Previous is the last good revision recorded in Terraform state; nil on
	// create. Objects in it but not in the desired set are pruned, and a
	// failed apply rolls back to it.
	Previous []*unstructured.Unstructured
	// Wait waits for the owned objects to be ready (kstatus Current) before
	// pruning; not becoming ready is a failure that rolls the change back.
	Wait bool
	// WaitTimeout bounds the wait; 0 leaves only ctx to bound it.
	WaitTimeout time.Duration
	// UIDs are the uids the resource recorded for the owned objects of
	// Previous (Change.UID of its last apply). A live object of one of those
	// names with another uid is not the one the resource created: it was
	// deleted and created again outside it since (by another Terraform
	// state's create, say). Apply and Diff refuse it before writing
	// anything (a *ReplacedObjectError), and never prune it. A name without
	// a recorded uid is taken on its owner label alone.
	UIDs map[ID]types.UID
}

// DefaultApplyOptions waits for readiness: a mesh route that the control
// plane rejected should fail the apply, not the next request.
func DefaultApplyOptions() ApplyOptions {
	return ApplyOptions{Wait: true}
}

// Apply server-side applies desired in order, prunes what opts.Previous had
// and desired has not, and waits for readiness if asked. It is atomic: on any
// failure everything this call changed is put back and a *RollbackError is
// returned (or the bare cause, when the failure came before any change).
func (m *Manager) Apply(ctx context.Context, desired []*unstructured.Unstructured, opts ApplyOptions) (ChangeSet, error) {
	if err := m.requireOwnerLabel(); err != nil {
		return nil, err
	}
	ctx = forwardRetries(ctx)
	prune := pruned(opts.Previous, desired)
	live, err := m.getLive(ctx, idsOf(desired, prune))
	if err != nil {
		return nil, err
	}
	if err := m.checkReplaced(desired, prune, live, opts.UIDs); err != nil {
		return nil, err
	}
	tx := &applyTx{m: m, opts: opts, live: live, previous: byID(opts.Previous),
		written: map[ID]string{}, committed: map[ID]bool{}, takenOver: map[ID]bool{}}
	tx.interrupted = m.interruptedCreate(desired, live, tx.previous)
	if m.opts.CommittedLabel != "" && m.opts.CreateIDAnnotation != "" {
		tx.createID = newCreateID()
	}
	cs, err := tx.run(ctx, desired, prune)
	if err == nil {
		err = tx.commit(ctx, desired)
	}
	if err != nil {
		return cs, tx.rollback(ctx, err)
	}
	return cs, nil
}

// fresh reports whether obj is new to the resource (not in its previous
// revision) and owned, so that its first write marks it uncommitted.
func (tx *applyTx) fresh(obj *unstructured.Unstructured) bool {
	return tx.m.opts.CommittedLabel != "" && tx.previous[IDOf(obj)] == nil && !tx.m.owners().shared(obj)
}

// uncommitted is obj marked as written by an apply that has not finished
// (and by which create, with Options.CreateIDAnnotation).
func (tx *applyTx) uncommitted(obj *unstructured.Unstructured) *unstructured.Unstructured {
	c := obj.DeepCopy()
	labels := c.GetLabels()
	labels[tx.m.opts.CommittedLabel] = "false"
	c.SetLabels(labels)
	if tx.createID != "" {
		ann := c.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[tx.m.opts.CreateIDAnnotation] = tx.createID
		c.SetAnnotations(ann)
	}
	return c
}

// newCreateID is a random id for one create.
func newCreateID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand never fails on the platforms Go supports
	return hex.EncodeToString(b)
}

// commit is the apply's last write: each object it created is applied
// again as desired, which clears the committed label it set.
func (tx *applyTx) commit(ctx context.Context, desired []*unstructured.Unstructured) error {
	if tx.m.beforeCommit != nil {
		tx.m.beforeCommit()
	}
	for _, obj := range desired {
		if !tx.fresh(obj) {
			continue
		}
		if err := tx.commitOne(ctx, obj); err != nil {
			return err
		}
	}
	return nil
}

// commitOne clears obj's committed label. With a create id, only while obj
// still carries this create's id: the write is conditional on the
// resourceVersion this apply last saw, and a conflict is looked into (a
// controller's status write is retried past; another create's id, or none
// at all, means that create took the object over). The commit is sent
// without the transport's repeats of a write whose reply was lost, which a
// conditional write could not tell from a takeover: the look that follows
// such a loss finds the commit landed (no id, committed) instead.
func (tx *applyTx) commitOne(ctx context.Context, obj *unstructured.Unstructured) error {
	id := IDOf(obj)
	rv, written := tx.written[id]
	if tx.createID == "" || !written {
		if _, err := tx.m.patch(ctx, obj, false, false); err != nil {
			return applyError(id, "commit", err, nil)
		}
		return nil
	}
	for range 5 {
		_, err := tx.m.patchAt(withoutRepeats(ctx), obj, rv)
		if err == nil {
			tx.committed[id] = true
			return nil
		}
		lost := mayHaveLanded(err)
		if _, fieldConflict := conflictsOf(err, nil); !lost && (fieldConflict || !apierrors.IsConflict(err)) {
			return applyError(id, "commit", err, nil)
		}
		live, err := tx.m.getLive(ctx, []ID{id})
		if err != nil {
			return applyError(id, "commit", err, nil)
		}
		l := live[id]
		if l == nil {
			return applyError(id, "commit", fmt.Errorf("deleted by someone else while the create ran"), nil)
		}
		switch other, uncommitted := l.GetAnnotations()[tx.m.opts.CreateIDAnnotation], l.GetLabels()[tx.m.opts.CommittedLabel] != ""; {
		case other == tx.createID:
			rv = l.GetResourceVersion() // another writer's change: commit past it
		case other == "" && !uncommitted && lost:
			tx.committed[id] = true // the commit landed; its reply was lost
			return nil
		default:
			tx.takenOver[id] = true
			return &TakenOverError{ID: id}
		}
	}
	return applyError(id, "commit", fmt.Errorf("five attempts found the object changed by other writers each time"), nil)
}

// takenOverBy reports whether another create of the same resource (in
// another state) adopted the object id this create wrote, taking it for
// what a create that died left: it carries that create's id, or none
// although this create never committed it (that create committed it). The
// rollback leaves such an object to that create.
func (tx *applyTx) takenOverBy(ctx context.Context, id ID) bool {
	if tx.createID == "" {
		return false
	}
	if tx.takenOver[id] {
		return true
	}
	live, err := tx.m.getLive(ctx, []ID{id})
	if err != nil || live[id] == nil {
		return false // the delete that follows retries, or has nothing to do
	}
	other := live[id].GetAnnotations()[tx.m.opts.CreateIDAnnotation]
	if tx.committed[id] {
		return other != "" && other != tx.createID
	}
	return other != tx.createID
}

// forwardRetries gives an apply's forward steps half of what is left until
// ctx's deadline to retry failed requests in: when an outage lasts longer,
// the apply fails and its rollback (with a budget of its own) still has the
// time to put everything back.
func forwardRetries(ctx context.Context) context.Context {
	deadline, ok := ctx.Deadline()
	if !ok {
		return ctx
	}
	now := time.Now()
	return WithRetryDeadline(ctx, now.Add(deadline.Sub(now)/2))
}

// applyTx is one Apply call: what it found and what it changed, for rollback.
type applyTx struct {
	m        *Manager
	opts     ApplyOptions
	live     map[ID]*unstructured.Unstructured
	previous map[ID]*unstructured.Unstructured
	undo     []undo
	// current holds the objects whose applied (or unchanged live) state is
	// already ready, which waitReady then need not watch.
	current map[ID]bool
	// interrupted: a create of this very set died before it committed
	// every object (see interruptedCreate).
	interrupted bool
	// createID is this create's id (Options.CreateIDAnnotation); written
	// holds the resourceVersions its first writes of the objects it created
	// returned, committed the objects its commit cleared, and takenOver the
	// objects another create took over meanwhile.
	createID             string
	written              map[ID]string
	committed, takenOver map[ID]bool
}

func (tx *applyTx) run(ctx context.Context, desired, prune []*unstructured.Unstructured) (ChangeSet, error) {
	var cs ChangeSet
	for _, obj := range desired {
		c, err := tx.applyOne(ctx, obj)
		if err != nil {
			return cs, err
		}
		cs = append(cs, c)
	}
	if tx.opts.Wait {
		// Before pruning, so that traffic moves to the new objects only once
		// they are ready and the old ones are still there on failure.
		if err := tx.waitReady(ctx, desired); err != nil {
			return cs, err
		}
	}
	for _, obj := range prune {
		c, ok, err := tx.pruneOne(ctx, obj)
		if err != nil {
			return cs, err
		}
		if ok {
			cs = append(cs, c)
		}
	}
	return cs, nil
}

func (tx *applyTx) applyOne(ctx context.Context, obj *unstructured.Unstructured) (Change, error) {
	id := IDOf(obj)
	live := tx.live[id]
	if err := tx.m.owners().check(obj, live, tx.opts.Owner, tx.previous[id] != nil); err != nil {
		return Change{}, err
	}
	if err := tx.m.checkCommitted(obj, live, tx.previous[id] != nil || tx.interrupted); err != nil {
		return Change{}, err
	}
	write := obj
	if tx.fresh(obj) {
		write = tx.uncommitted(obj)
	}
	applied, err := tx.m.applyPastImperativeEdits(ctx, write, live, false)
	if err != nil {
		if mayHaveLanded(err) {
			// The connection broke after the write went out: the
			// rollback looks before it undoes.
			tx.mayHaveChanged(id, live)
		}
		return Change{}, err
	}
	action := actionOf(live, applied)
	if action != Unchanged {
		tx.changed(id, live)
	}
	if write != obj {
		tx.written[id] = applied.GetResourceVersion()
	}
	tx.markReady(id, applied)
	c := Change{ID: id, Action: action}
	if !tx.m.owners().shared(obj) {
		c.UID = applied.GetUID()
	}
	return c, nil
}

// checkReplaced refuses the first object of desired and prune whose live
// uid differs from the one recorded for it (ApplyOptions.UIDs).
func (m *Manager) checkReplaced(desired, prune []*unstructured.Unstructured, live map[ID]*unstructured.Unstructured, uids map[ID]types.UID) error {
	for _, set := range [][]*unstructured.Unstructured{desired, prune} {
		for _, obj := range set {
			if err := m.replaced(obj, live[IDOf(obj)], uids); err != nil {
				return err
			}
		}
	}
	return nil
}

// replaced is a *ReplacedObjectError when live is an owned object of obj's
// name that is not the one recorded in uids.
func (m *Manager) replaced(obj, live *unstructured.Unstructured, uids map[ID]types.UID) error {
	id := IDOf(obj)
	recorded := uids[id]
	if recorded == "" || live == nil || live.GetUID() == recorded || m.owners().shared(obj) {
		return nil
	}
	return &ReplacedObjectError{ID: id, UID: live.GetUID(), Recorded: recorded}
}

// applyPastImperativeEdits applies obj (with DryRun=All when dryRun),
// forcing past imperative edits only. The engine's apply sends no dry run
// first: an apply that conflicts changes nothing, and one that changes
// nothing leaves the object as it was, so a dry run would only add a request
// per object to every update (BENCHMARKS.md).
func (m *Manager) applyPastImperativeEdits(ctx context.Context, obj, live *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	id, op := IDOf(obj), "apply"
	if dryRun {
		op = "dry-run apply"
	}
	applied, err := m.patch(ctx, obj, false, dryRun)
	if err == nil {
		return applied, nil
	}
	conflicts, ok := conflictsOf(err, live)
	if !ok {
		return nil, applyError(id, op, err, live)
	}
	if ce := declarativeConflict(id, conflicts, err); ce != nil {
		return nil, ce
	}
	if applied, err = m.patch(ctx, obj, true, dryRun); err != nil {
		return nil, applyError(id, op, err, live)
	}
	return applied, nil
}

// actionOf tells what an apply did from the object before and after it: the
// API server keeps the resourceVersion of an object an apply left as it was.
func actionOf(live, applied *unstructured.Unstructured) Action {
	switch {
	case live == nil:
		return Created
	case live.GetResourceVersion() == applied.GetResourceVersion():
		return Unchanged
	}
	return Configured
}

// markReady records obj's state as ready when kstatus already says so (most
// mesh objects have no status to wait for), saving its watch.
func (tx *applyTx) markReady(id ID, obj *unstructured.Unstructured) {
	if obj == nil {
		return
	}
	if v, _, _ := readiness(obj); v == reached {
		if tx.current == nil {
			tx.current = map[ID]bool{}
		}
		tx.current[id] = true
	}
}

func (tx *applyTx) waitReady(ctx context.Context, desired []*unstructured.Unstructured) error {
	if tx.opts.WaitTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, tx.opts.WaitTimeout)
		defer cancel()
	}
	var owned []*unstructured.Unstructured
	for _, obj := range desired {
		if !tx.m.owners().shared(obj) && !tx.current[IDOf(obj)] { // a user's Service is not ours to wait for
			owned = append(owned, obj)
		}
	}
	return tx.m.WaitReady(ctx, owned)
}

// pruneOne deletes (owned) or releases (shared) an object the desired set
// dropped. An owned object that lost our owner label is no longer ours to
// delete and is left alone.
func (tx *applyTx) pruneOne(ctx context.Context, obj *unstructured.Unstructured) (Change, bool, error) {
	id := IDOf(obj)
	live := tx.live[id]
	if !tx.m.owners().prunable(obj, live, tx.opts.Owner) {
		return Change{}, false, nil
	}
	var err error
	if tx.m.owners().shared(obj) {
		err = tx.m.release(ctx, id)
	} else {
		err = tx.m.deleteObject(ctx, id, metav1.DeletePropagationBackground, live)
	}
	if err != nil {
		if mayHaveLanded(err) {
			tx.mayHaveChanged(id, live)
		}
		return Change{}, false, err
	}
	tx.changed(id, live)
	return Change{ID: id, Action: Deleted}, true, nil
}

// checkCommitted refuses an object that carries obj's owner label, is not
// in the resource's previous revision (inState) and is committed: another
// resource instance with the same owner label (another Terraform state or
// workspace) created it. One left uncommitted by a create that died is
// this resource's to adopt.
func (m *Manager) checkCommitted(obj, live *unstructured.Unstructured, inState bool) error {
	key := m.opts.CommittedLabel
	if key == "" || inState || live == nil || m.owners().shared(obj) {
		return nil
	}
	want := obj.GetLabels()[m.opts.OwnerLabel]
	labels := live.GetLabels()
	if labels[m.opts.OwnerLabel] != want || labels[key] == "false" {
		return nil
	}
	return &ForeignObjectError{ID: IDOf(obj), Label: m.opts.OwnerLabel, Owner: want, Want: want, Committed: true}
}

// interruptedCreate reports whether a create of this set died before its
// commit finished: some object of desired that is not in the resource's
// previous revision is live, carries its owner label and is still
// uncommitted. A process killed while committing leaves some objects of
// the set committed and others not; the whole set is then this resource's
// to adopt, since no state ever recorded it. (A create that finished
// committed every object, so another instance's set is never taken this
// way.)
func (m *Manager) interruptedCreate(desired []*unstructured.Unstructured, live, previous map[ID]*unstructured.Unstructured) bool {
	key := m.opts.CommittedLabel
	if key == "" {
		return false
	}
	for _, obj := range desired {
		id := IDOf(obj)
		l := live[id]
		if l == nil || previous[id] != nil || m.owners().shared(obj) {
			continue
		}
		labels := l.GetLabels()
		if labels[m.opts.OwnerLabel] == obj.GetLabels()[m.opts.OwnerLabel] && labels[key] == "false" {
			return true
		}
	}
	return false
}

// plan checks ownership and dry-runs obj to learn what applying it would
// do, for Diff.
func (m *Manager) plan(ctx context.Context, obj, live *unstructured.Unstructured, owner string, adopt, interrupted bool) (Action, error) {
	if err := m.owners().check(obj, live, owner, adopt); err != nil {
		return "", err
	}
	if err := m.checkCommitted(obj, live, adopt || interrupted); err != nil {
		return "", err
	}
	if live == nil {
		// A new object has no other field manager to conflict with and no
		// state to compare: a dry run would only repeat the real apply.
		return Created, nil
	}
	dry, err := m.applyPastImperativeEdits(ctx, obj, live, true)
	switch {
	case err != nil:
		return "", err
	case sameState(live, dry):
		return Unchanged, nil
	}
	return Configured, nil
}

// patch server-side applies obj as m's field manager with strict field
// validation, so that a misspelt field fails instead of vanishing.
func (m *Manager) patch(ctx context.Context, obj *unstructured.Unstructured, force, dryRun bool) (*unstructured.Unstructured, error) {
	c := obj.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata", "resourceVersion")
	return m.patchRaw(ctx, c, force, dryRun)
}

// patchRaw is patch keeping obj's resourceVersion, if any: the apply is
// then conditional on it.
func (m *Manager) patchRaw(ctx context.Context, obj *unstructured.Unstructured, force, dryRun bool) (*unstructured.Unstructured, error) {
	id := IDOf(obj)
	res, err := m.resourceFor(ctx, id)
	if err != nil {
		return nil, err
	}
	data, err := applyPayload(obj)
	if err != nil {
		return nil, &ObjectError{ID: id, Op: "encode", Err: err}
	}
	opts := metav1.PatchOptions{FieldManager: m.FieldManager(), FieldValidation: "Strict", Force: &force}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	out, err := res.Patch(ctx, id.Name, types.ApplyPatchType, data, opts)
	switch {
	case dryRun:
	case err != nil:
		m.cache.forget(id)
	default:
		m.cache.wrote(id, out)
	}
	return out, err
}

// release gives up every field m owns on an object it never created, by
// applying nothing but the object's identity.
func (m *Manager) release(ctx context.Context, id ID) error {
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(id.GroupVersionKind())
	obj.SetName(id.Name)
	obj.SetNamespace(id.Namespace)
	_, err := m.patch(ctx, obj, false, false)
	if err != nil {
		return applyError(id, "release fields of", err, nil)
	}
	return nil
}

// patchAt applies obj as patch does, on the condition that the object is
// still at resourceVersion rv (a Conflict otherwise).
func (m *Manager) patchAt(ctx context.Context, obj *unstructured.Unstructured, rv string) (*unstructured.Unstructured, error) {
	c := obj.DeepCopy()
	c.SetResourceVersion(rv)
	return m.patchRaw(ctx, c, false, false)
}

// applyPayload drops the server-owned metadata a caller may have carried
// over from a read (managedFields is rejected). A resourceVersion stays and
// makes the apply a compare-and-swap: patch drops it first, patchAt sets it.
func applyPayload(obj *unstructured.Unstructured) ([]byte, error) {
	c := obj.DeepCopy()
	for _, f := range []string{"managedFields", "uid", "creationTimestamp", "generation"} {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	return json.Marshal(c.Object)
}

// sameState compares a live object with its dry-run result, ignoring what
// every write changes on its own.
func sameState(live, dry *unstructured.Unstructured) bool {
	return equality.Semantic.DeepEqual(withoutWriteNoise(live), withoutWriteNoise(dry))
}

func withoutWriteNoise(obj *unstructured.Unstructured) map[string]any {
	c := obj.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "status")
	for _, f := range []string{"managedFields", "resourceVersion", "generation"} {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	return c.Object
}

// ownerLabel is Options.OwnerLabel: the label that names an object's
// owner.
type ownerLabel string

func (m *Manager) owners() ownerLabel { return ownerLabel(m.opts.OwnerLabel) }

// requireOwnerLabel refuses to write without an owner label: every object
// would count as someone else's.
func (m *Manager) requireOwnerLabel() error {
	if m.opts.OwnerLabel == "" {
		return errors.New("kube: Options.OwnerLabel is not set; the engine cannot tell owned objects from others'")
	}
	return nil
}

// shared reports whether obj is someone else's object we add fields to.
func (l ownerLabel) shared(obj *unstructured.Unstructured) bool {
	_, owned := obj.GetLabels()[string(l)]
	return !owned
}

// check refuses to adopt an object that exists without our owner label,
// unless adopt says state already records it (it was imported), and requires
// the objects we only add fields to to exist.
func (l ownerLabel) check(obj, live *unstructured.Unstructured, owner string, adopt bool) error {
	id := IDOf(obj)
	if l.shared(obj) {
		if live == nil {
			return &MissingObjectError{ID: id}
		}
		return nil
	}
	want, err := l.want(obj, owner)
	if err != nil || live == nil {
		return err
	}
	got := live.GetLabels()[string(l)]
	if got == want || (adopt && got == "") {
		return nil
	}
	return &ForeignObjectError{ID: id, Label: string(l), Owner: got, Want: want}
}

// want is the owner label an owned object must carry in the cluster.
func (l ownerLabel) want(obj *unstructured.Unstructured, owner string) (string, error) {
	label := obj.GetLabels()[string(l)]
	if owner != "" && label != owner {
		return "", &ObjectError{ID: IDOf(obj), Op: "apply", Err: fmt.Errorf("rendered with %s=%q but applied for owner %q", string(l), label, owner)}
	}
	return label, nil
}

// prunable reports whether a dropped object is still there and still ours.
func (l ownerLabel) prunable(obj, live *unstructured.Unstructured, owner string) bool {
	if live == nil {
		return false
	}
	if l.shared(obj) {
		return true
	}
	want, err := l.want(obj, owner)
	return err == nil && live.GetLabels()[string(l)] == want
}

// applyError turns an API error into the typed error that names the object:
// a ConflictError for declarative conflicts, else an ObjectError. Errors that
// already name an object pass through.
func applyError(id ID, op string, err error, live *unstructured.Unstructured) error {
	if _, ok := ObjectOf(err); ok {
		return err
	}
	if conflicts, ok := conflictsOf(err, live); ok {
		if ce := declarativeConflict(id, conflicts, err); ce != nil {
			return ce
		}
	}
	return &ObjectError{ID: id, Op: op, Err: err}
}

// pruned lists the objects of previous that desired dropped, last first, so
// that dependents go before what they depend on.
func pruned(previous, desired []*unstructured.Unstructured) []*unstructured.Unstructured {
	keep := byID(desired)
	var out []*unstructured.Unstructured
	for i := len(previous) - 1; i >= 0; i-- {
		if _, ok := keep[IDOf(previous[i])]; !ok {
			out = append(out, previous[i])
		}
	}
	return out
}

func byID(objs []*unstructured.Unstructured) map[ID]*unstructured.Unstructured {
	out := make(map[ID]*unstructured.Unstructured, len(objs))
	for _, obj := range objs {
		out[IDOf(obj)] = obj
	}
	return out
}

func idsOf(sets ...[]*unstructured.Unstructured) []ID {
	var ids []ID
	for _, objs := range sets {
		for _, obj := range objs {
			ids = append(ids, IDOf(obj))
		}
	}
	return ids
}

// Owned reports whether obj is one of ours (it carries the owner label),
// not someone else's object we only add fields to.
func (m *Manager) Owned(obj *unstructured.Unstructured) bool { return !m.owners().shared(obj) }

// Commit clears the committed label (Options.CommittedLabel) of each object
// of objs that still carries it, applying the object as given: an import
// adopts what a create that died left, which is the importing resource's
// from then on, so that another create no longer takes it for its own. It
// returns the objects it committed.
func (m *Manager) Commit(ctx context.Context, objs []*unstructured.Unstructured) ([]ID, error) {
	if m.opts.CommittedLabel == "" {
		return nil, nil
	}
	live, err := m.getLive(ctx, idsOf(objs))
	if err != nil {
		return nil, err
	}
	var done []ID
	for _, obj := range objs {
		id := IDOf(obj)
		l := live[id]
		if l == nil || m.owners().shared(obj) {
			continue
		}
		if _, marked := l.GetLabels()[m.opts.CommittedLabel]; !marked {
			continue
		}
		if _, err := m.patch(ctx, obj, false, false); err != nil {
			return done, applyError(id, "commit", err, l)
		}
		done = append(done, id)
	}
	return done, nil
}
