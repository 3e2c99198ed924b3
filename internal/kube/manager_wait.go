package kube

import (
	"context"
	"errors"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// WaitReady waits until kstatus computes Current for every object, or one
// of them is Failed, or ctx is done. The error names each object that is not
// ready with its kstatus message.
func (m *Manager) WaitReady(ctx context.Context, objs []*unstructured.Unstructured) error {
	return m.waitFor(ctx, idsOf(objs), "ready", readiness)
}

// WaitGone waits until every object is deleted, or ctx is done.
func (m *Manager) WaitGone(ctx context.Context, objs []*unstructured.Unstructured) error {
	return m.waitGone(ctx, idsOf(objs))
}

func (m *Manager) waitGone(ctx context.Context, ids []ID) error {
	return m.waitFor(ctx, ids, "deleted", absence)
}

type verdict int

const (
	pending verdict = iota
	reached
	failed // no point waiting longer
)

// checkFunc judges one object; obj is nil when it does not exist.
type checkFunc func(obj *unstructured.Unstructured) (v verdict, status, message string)

func readiness(obj *unstructured.Unstructured) (verdict, string, string) {
	if obj == nil {
		return pending, "NotFound", "the object does not exist"
	}
	res, err := status.Compute(obj)
	if err != nil {
		return pending, string(status.UnknownStatus), err.Error()
	}
	switch res.Status {
	case status.CurrentStatus:
		return reached, string(res.Status), res.Message
	case status.FailedStatus:
		return failed, string(res.Status), res.Message
	}
	return pending, string(res.Status), res.Message
}

func absence(obj *unstructured.Unstructured) (verdict, string, string) {
	switch {
	case obj == nil:
		return reached, "", ""
	case obj.GetDeletionTimestamp() != nil:
		return pending, "Terminating", fmt.Sprintf("waiting for finalizers %v", obj.GetFinalizers())
	}
	return pending, "Present", "the object still exists"
}

var errObjectFailed = errors.New("an object failed, so waiting longer is pointless")

// waitFor watches every object until check reaches, concurrently per
// watch. Up to listThreshold objects of one kind and namespace get one
// watch each (field selector metadata.name); more share one watch of the
// namespace, so that a wait costs about one List and one Watch per kind.
func (m *Manager) waitFor(ctx context.Context, ids []ID, want string, check checkFunc) error {
	units := watchUnits(ids)
	if len(units) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pendings := make([][]ObjectStatus, len(units))
	errs := make([]error, len(units))
	var wg sync.WaitGroup
	for i, unit := range units {
		wg.Go(func() {
			pendings[i], errs[i] = m.waitUnit(ctx, unit, check)
			if errors.Is(errs[i], errObjectFailed) {
				cancel() // the whole wait fails now; stop the others
			}
		})
	}
	wg.Wait()
	return waitResult(want, pendings, errs)
}

func waitResult(want string, pendings [][]ObjectStatus, errs []error) error {
	we := &WaitError{For: want}
	for i := range pendings {
		we.Pending = append(we.Pending, pendings[i]...)
		if errs[i] != nil && (we.Err == nil || errors.Is(errs[i], errObjectFailed)) {
			we.Err = errs[i]
		}
	}
	switch {
	case len(we.Pending) > 0:
		if we.Err == nil {
			we.Err = errors.New("stopped")
		}
		return we
	case we.Err != nil:
		return we.Err
	}
	return nil
}

func watchUnits(ids []ID) [][]ID {
	var units [][]ID
	order, groups := groupByScope(ids)
	for _, s := range order {
		if g := groups[s]; len(g) > listThreshold {
			units = append(units, g)
			continue
		}
		for _, id := range groups[s] {
			units = append(units, []ID{id})
		}
	}
	return units
}

// waitUnit runs one List+Watch over ids (one kind, one namespace) and
// returns the objects that did not reach the wanted state.
func (m *Manager) waitUnit(ctx context.Context, ids []ID, check checkFunc) ([]ObjectStatus, error) {
	res, err := m.resourceFor(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	w := &unitWatch{check: check, pending: map[string]ObjectStatus{}}
	for _, id := range ids {
		w.pending[id.Name] = ObjectStatus{ID: id, Status: "Unknown", Message: "not observed yet"}
	}
	_, err = watchtools.UntilWithSync(ctx, listWatch(res, ids), &unstructured.Unstructured{}, w.fromStore, w.onEvent)
	return w.remaining(ids), err
}

// listWatch lists and watches ids' namespace, narrowed to the one name when
// there is one.
func listWatch(res dynamic.ResourceInterface, ids []ID) *cache.ListWatch {
	selector := ""
	if len(ids) == 1 {
		selector = fields.OneTermEqualSelector("metadata.name", ids[0].Name).String()
	}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = selector
			return res.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = selector
			return res.Watch(ctx, o)
		},
	}
}

// unitWatch tracks the objects of one watch. UntilWithSync calls fromStore
// and onEvent from one goroutine, so it needs no lock.
type unitWatch struct {
	check   checkFunc
	pending map[string]ObjectStatus // by name
}

func (w *unitWatch) observe(name string, obj *unstructured.Unstructured) (bool, error) {
	st, ok := w.pending[name]
	if !ok {
		return len(w.pending) == 0, nil
	}
	v, s, msg := w.check(obj)
	if v == reached {
		delete(w.pending, name)
		return len(w.pending) == 0, nil
	}
	st.Status, st.Message = s, msg
	w.pending[name] = st
	if v == failed {
		return false, errObjectFailed
	}
	return false, nil
}

func (w *unitWatch) fromStore(store cache.Store) (bool, error) {
	for name, st := range w.pending {
		item, exists, err := store.GetByKey(storeKey(st.ID))
		if err != nil {
			return false, err
		}
		obj, _ := item.(*unstructured.Unstructured)
		if !exists {
			obj = nil
		}
		if done, err := w.observe(name, obj); done || err != nil {
			return done, err
		}
	}
	return len(w.pending) == 0, nil
}

func (w *unitWatch) onEvent(ev watch.Event) (bool, error) {
	obj, ok := ev.Object.(*unstructured.Unstructured)
	if !ok {
		return false, nil
	}
	if ev.Type == watch.Deleted {
		return w.observe(obj.GetName(), nil)
	}
	return w.observe(obj.GetName(), obj)
}

// remaining lists the pending objects in the order they were asked for.
func (w *unitWatch) remaining(ids []ID) []ObjectStatus {
	var out []ObjectStatus
	for _, id := range ids {
		if st, ok := w.pending[id.Name]; ok {
			out = append(out, st)
		}
	}
	return out
}

func storeKey(id ID) string {
	if id.Namespace == "" {
		return id.Name
	}
	return id.Namespace + "/" + id.Name
}
