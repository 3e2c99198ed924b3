package kube

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// ratings returns n VirtualServices ratings-0..n-1 in the env's namespace.
func (e *env) ratings(n int) []*unstructured.Unstructured {
	tmpl := e.load("ratings_new.yaml")[0]
	var objs []*unstructured.Unstructured
	for i := range n {
		obj := tmpl.DeepCopy()
		obj.SetName(fmt.Sprintf("ratings-%d", i))
		objs = append(objs, obj)
	}
	return objs
}

// requestsOf runs f and returns the API requests it sent.
func (e *env) requestsOf(f func()) int64 {
	start := e.m.Requests()
	f()
	return e.m.Requests() - start
}

func TestReadCacheServesAManyResourceRefreshWithOneList(t *testing.T) {
	e := newEnvWith(t, Options{FieldManager: DefaultFieldManager, QPS: 100, Burst: 200, ReadCache: time.Minute})
	objs := e.ratings(6)
	e.apply(objs, nil)

	// Six resources refreshed one object each, four at a time, as
	// terraform's parallel walk does: one List in all.
	n := e.requestsOf(func() {
		var wg sync.WaitGroup
		for _, obj := range objs {
			wg.Go(func() { e.readEquals(obj) })
		}
		wg.Wait()
	})
	if n != 1 {
		t.Errorf("refresh of 6 one-object resources sent %d requests, want 1 List", n)
	}
	if n := e.requestsOf(func() { e.readEquals(objs[0]) }); n != 0 {
		t.Errorf("a second Read within the cache's lifetime sent %d requests, want 0", n)
	}
	got, err := e.m.List(e.ctx, mesh.GVKVirtualService, e.ns)
	if err != nil || len(got) != len(objs) {
		t.Fatalf("List from the snapshot: %d objects, err %v; want %d", len(got), err, len(objs))
	}
	for i, obj := range got { // in name order, as an uncached List returns them
		if want := fmt.Sprintf("ratings-%d", i); obj.GetName() != want {
			t.Errorf("List from the snapshot: item %d is %s, want %s", i, obj.GetName(), want)
		}
	}
	one, err := e.m.Get(e.ctx, IDOf(objs[0]))
	if err != nil {
		t.Fatal(err)
	}
	one.SetLabels(map[string]string{"mutated": "by-caller"})
	if again, _ := e.m.Get(e.ctx, IDOf(objs[0])); again.GetLabels()["mutated"] != "" {
		t.Error("a caller's change to an object from Get leaked into the snapshot")
	}
}

func TestReadCacheRecordsThisManagersWrites(t *testing.T) {
	e := newEnvWith(t, Options{FieldManager: DefaultFieldManager, QPS: 100, Burst: 200, ReadCache: time.Minute})
	objs := e.ratings(2)
	e.apply(objs, nil)
	e.readEquals(objs...) // fills the snapshot

	changed := objs[0].DeepCopy()
	route, _, _ := unstructured.NestedSlice(changed.Object, "spec", "http")
	route[0].(map[string]any)["timeout"] = "7s"
	if err := unstructured.SetNestedSlice(changed.Object, route, "spec", "http"); err != nil {
		t.Fatal(err)
	}
	e.apply([]*unstructured.Unstructured{changed}, objs[:1])
	if n := e.requestsOf(func() { e.readEquals(changed) }); n != 0 {
		t.Errorf("Read after this manager's own apply sent %d requests, want 0 (the snapshot records the write)", n)
	}

	if _, err := e.m.Delete(e.ctx, objs[1:], deleteOpts(e.owner)); err != nil {
		t.Fatal(err)
	}
	got, err := e.m.Read(e.ctx, idsOf(objs[1:]))
	if err != nil || len(got) != 0 {
		t.Errorf("Read after Delete: %d objects, err %v; want none", len(got), err)
	}
}

func TestReadCacheExpires(t *testing.T) {
	e := newEnvWith(t, Options{FieldManager: DefaultFieldManager, QPS: 100, Burst: 200, ReadCache: time.Nanosecond})
	objs := e.ratings(1)
	e.apply(objs, nil)
	e.readEquals(objs...)

	e.editAs("kubectl-edit", objs[0], func(live *unstructured.Unstructured) {
		hosts, _, _ := unstructured.NestedStringSlice(live.Object, "spec", "hosts")
		_ = unstructured.SetNestedStringSlice(live.Object, append(hosts, "extra.example.com"), "spec", "hosts")
	})
	got, err := e.m.ReadOne(e.ctx, IDOf(objs[0]))
	if err != nil {
		t.Fatal(err)
	}
	if cmp.Equal(objs[0].Object, objectOf(got)) {
		t.Error("an expired snapshot still served the object as it was before the out-of-band edit")
	}
}

func deleteOpts(owner string) DeleteOptions {
	opts := DefaultDeleteOptions()
	opts.Owner = owner
	return opts
}

func TestAnyMatchesWithAndWithoutTheReadCache(t *testing.T) {
	for _, cache := range []time.Duration{0, time.Minute} {
		t.Run(fmt.Sprint("cache=", cache), func(t *testing.T) {
			e := newEnvWith(t, Options{FieldManager: DefaultFieldManager, QPS: 100, Burst: 200, ReadCache: cache})
			objs := e.ratings(3)
			e.apply(objs, nil)
			owned := labels.SelectorFromSet(labels.Set{mesh.LabelOwner: e.owner})
			other := labels.SelectorFromSet(labels.Set{mesh.LabelOwner: "someone-else"})
			var found, notFound bool
			n := e.requestsOf(func() {
				var err error
				if found, err = e.m.AnyMatches(e.ctx, mesh.GVKVirtualService, e.ns, owned); err != nil {
					t.Fatal(err)
				}
				if notFound, err = e.m.AnyMatches(e.ctx, mesh.GVKVirtualService, e.ns, other); err != nil {
					t.Fatal(err)
				}
			})
			if !found || notFound {
				t.Errorf("AnyMatches: owner label found %v, another owner found %v; want true, false", found, notFound)
			}
			want := int64(2) // a limited List each
			if cache > 0 {
				want = 1 // one List of the namespace, shared
			}
			if n != want {
				t.Errorf("two lookups sent %d requests, want %d", n, want)
			}
		})
	}
}
