package kube

import (
	"context"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"golang.org/x/sync/singleflight"
)

// snapshots is the shared read cache of a run: one List per kind and
// namespace serves every Read, Get and List of that scope for a short while,
// instead of a GET per object. A refresh of N resources spread over a few
// namespaces then costs a few Lists, not N round trips.
//
// A snapshot never outlives Options.ReadCache, and every write this manager
// makes (apply, delete) is recorded in its scope's snapshot, so a run reads
// back its own changes. Apply and Delete themselves never read from
// it: they decide ownership and preconditions on fresh objects.
type snapshots struct {
	ttl    time.Duration
	flight singleflight.Group

	mu      sync.Mutex
	entries map[scope]snapshot
	// gens counts the writes to each scope, so that a List that was in
	// flight during a write is not stored.
	gens map[scope]uint64
}

type snapshot struct {
	at   time.Time
	objs map[string]*unstructured.Unstructured
}

func newSnapshots(ttl time.Duration) *snapshots {
	if ttl <= 0 {
		return nil
	}
	return &snapshots{ttl: ttl, entries: map[scope]snapshot{}, gens: map[scope]uint64{}}
}

func (c *snapshots) fresh(s scope) (map[string]*unstructured.Unstructured, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[s]
	if ok && time.Since(e.at) < c.ttl {
		return e.objs, 0, true
	}
	return nil, c.gens[s], false
}

func (c *snapshots) store(s scope, gen uint64, at time.Time, objs map[string]*unstructured.Unstructured) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens[s] == gen {
		c.entries[s] = snapshot{at: at, objs: objs}
	}
}

// wrote records a write of this manager to id: the object as the API
// server returned it, or nil when it was deleted. A snapshot of the scope is
// updated in place (copy on write: readers may hold the old map), so that
// applying many resources of one namespace does not List the namespace again
// after every write. A nil cache ignores it.
func (c *snapshots) wrote(id ID, obj *unstructured.Unstructured) {
	if c == nil {
		return
	}
	s := scope{GVK: id.GroupVersionKind(), Namespace: id.Namespace}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gens[s]++ // a List in flight may predate the write: do not store it
	e, ok := c.entries[s]
	if !ok {
		return
	}
	objs := make(map[string]*unstructured.Unstructured, len(e.objs)+1)
	for name, o := range e.objs {
		objs[name] = o
	}
	delete(objs, id.Name)
	if obj != nil {
		obj = obj.DeepCopy()
		obj.SetGroupVersionKind(s.GVK)
		objs[id.Name] = obj
	}
	c.entries[s] = snapshot{at: e.at, objs: objs}
}

// snapshot returns the objects of the namespaced scope s by name, from the
// cache or from one (paged) List shared by concurrent callers. The objects
// are shared: callers must not modify them.
func (m *Manager) snapshot(ctx context.Context, s scope, res dynamic.ResourceInterface) (map[string]*unstructured.Unstructured, error) {
	if objs, _, ok := m.cache.fresh(s); ok {
		return objs, nil
	}
	key := s.GVK.String() + "/" + s.Namespace
	v, err, _ := m.cache.flight.Do(key, func() (any, error) {
		objs, gen, ok := m.cache.fresh(s)
		if ok {
			return objs, nil
		}
		started := time.Now()
		objs, err := m.listAll(ctx, res, s)
		if err != nil {
			return nil, err
		}
		m.cache.store(s, gen, started, objs)
		return objs, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(map[string]*unstructured.Unstructured), nil
}

func (m *Manager) listAll(ctx context.Context, res dynamic.ResourceInterface, s scope) (map[string]*unstructured.Unstructured, error) {
	objs := map[string]*unstructured.Unstructured{}
	opts := metav1.ListOptions{Limit: listPageSize}
	for {
		list, err := res.List(ctx, opts)
		if err != nil {
			return nil, &ObjectError{ID: ID{Group: s.GVK.Group, Version: s.GVK.Version, Kind: s.GVK.Kind, Namespace: s.Namespace}, Op: "list", Err: err}
		}
		for i := range list.Items {
			obj := &list.Items[i]
			// List items carry no apiVersion/kind of their own.
			obj.SetGroupVersionKind(s.GVK)
			objs[obj.GetName()] = obj
		}
		if opts.Continue = list.GetContinue(); opts.Continue == "" {
			return objs, nil
		}
	}
}

// forget drops the snapshot of id's scope, after a write whose outcome is
// unknown (it failed, perhaps after landing). A nil cache ignores it.
func (c *snapshots) forget(id ID) {
	if c == nil {
		return
	}
	s := scope{GVK: id.GroupVersionKind(), Namespace: id.Namespace}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gens[s]++
	delete(c.entries, s)
}
