package kube

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/faultproxy"
)

// The engine under injected faults, through a proxy in front of the test
// API server (internal/faultproxy). Every test applies a revision v1 of a
// set (a VirtualService and a DestinationRule that both change, and three
// more VirtualServices), then v2 with a fault armed on an object of the
// set, and checks the oracle: every live object is at v1 or every one at
// v2 (read past the proxy), never a mix, and what the error says is true.

// faultEnv is env with its Manager talking through a fault proxy.
func newFaultEnv(t *testing.T) (*env, *faultproxy.Proxy) {
	t.Helper()
	e := newEnv(t)
	p, err := faultproxy.Start(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	opts := DefaultOptions()
	opts.OwnerLabel, opts.CommittedLabel, opts.CreateIDAnnotation = e.m.opts.OwnerLabel, e.m.opts.CommittedLabel, e.m.opts.CreateIDAnnotation
	if e.m, err = New(p.Config(cluster.Config), opts); err != nil {
		t.Fatal(err)
	}
	return e, p
}

// revisions are v1 and v2 of the set: v2 changes every object.
func (e *env) revisions() (v1, v2 []*unstructured.Unstructured) {
	v1 = append(e.load("traffic_split_90_10.yaml"), e.ratings(3)...)
	v2 = append(e.load("traffic_split_50_50.yaml"), e.ratings(3)...)
	for _, obj := range v2 {
		ann := obj.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann["mesh.terraform.io/test-revision"] = "2"
		obj.SetAnnotations(ann)
	}
	return v1, v2
}

// at reports whether every object of objs is live with all its fields
// (read past the proxy).
func (e *env) at(objs []*unstructured.Unstructured) bool {
	e.t.Helper()
	for _, obj := range objs {
		live, err := e.otherResource(obj).Get(context.Background(), obj.GetName(), metav1.GetOptions{})
		if err != nil || !Covers(live.Object, obj.Object) {
			return false
		}
	}
	return true
}

// wantAt fails unless the set is wholly at want (and so not at other).
func (e *env) wantAt(name string, want, other []*unstructured.Unstructured) {
	e.t.Helper()
	if !e.at(want) {
		if e.at(other) {
			e.t.Fatalf("the set is at the other revision; want %s", name)
		}
		e.t.Fatalf("half-applied set: not every object is at %s, nor at the other revision", name)
	}
}

// faultPoints are the indexes in v2 of the objects the faults hit: the
// DestinationRule (a canary's VirtualService and DestinationRule both
// change), and with MESH_FAULT_POINTS=all (make faults) the first, the
// middle and the last object of the set too.
func faultPoints() []int {
	if os.Getenv("MESH_FAULT_POINTS") == "all" {
		return []int{0, 1, 2, 4}
	}
	return []int{1}
}

// eachPoint runs f as a subtest per fault point, with a fresh namespace.
func eachPoint(t *testing.T, f func(t *testing.T, e *env, p *faultproxy.Proxy, point int)) {
	for _, point := range faultPoints() {
		t.Run(fmt.Sprintf("object%d", point), func(t *testing.T) {
			e, p := newFaultEnv(t)
			f(t, e, p, point)
		})
	}
}

// writeOf matches the writes of obj.
func writeOf(obj *unstructured.Unstructured) func(*http.Request) bool {
	return faultproxy.WriteOf(strings.ToLower(obj.GetKind())+"s", obj.GetName())
}

// faultApply applies v1 cleanly, then v2 with ctx bounded by timeout, after
// arm(the object at point).
func (e *env) faultApply(point int, timeout time.Duration, arm func(target *unstructured.Unstructured)) (v1, v2 []*unstructured.Unstructured, took time.Duration, err error) {
	e.t.Helper()
	v1, v2 = e.revisions()
	e.apply(v1, nil)
	arm(v2[point])
	ctx, cancel := context.WithTimeout(e.ctx, timeout)
	defer cancel()
	start := time.Now()
	_, err = e.m.Apply(ctx, v2, e.opts(v1))
	took = time.Since(start)
	return v1, v2, took, err
}

// wantRolledBack checks a failed apply: the set is wholly at v1, and the
// error says "rolled back" exactly when something was (a failure on the
// first object changes nothing).
func (e *env) wantRolledBack(err error, v1, v2 []*unstructured.Unstructured) *RollbackError {
	e.t.Helper()
	if err == nil {
		e.t.Fatal("Apply succeeded; want it to fail")
	}
	var re *RollbackError
	if errors.As(err, &re) {
		if re.RollbackErr != nil {
			e.t.Fatalf("the rollback failed: %v", err)
		}
		assertContains(e.t, err.Error(), "The change was rolled back")
	} else if strings.Contains(err.Error(), "rolled back") {
		e.t.Errorf("nothing was rolled back, yet the error says so: %v", err)
	}
	e.wantAt("v1", v1, v2)
	return re
}

func undone(re *RollbackError, obj *unstructured.Unstructured) bool {
	if re == nil {
		return false
	}
	return slices.Contains(re.Restored, IDOf(obj)) || slices.Contains(re.Removed, IDOf(obj))
}

// An API server that goes away for a few seconds in the middle of an apply
// delays it; the apply completes.
func TestFaultOutageMidApplyIsRetried(t *testing.T) {
	eachPoint(t, func(t *testing.T, e *env, p *faultproxy.Proxy, point int) {
		v1, v2, _, err := e.faultApply(point, time.Minute, func(target *unstructured.Unstructured) {
			p.Arm(faultproxy.Fault{Kind: faultproxy.Reset, Match: writeOf(target), Times: 1, OnFire: func() { p.DownFor(3 * time.Second) }})
		})
		if err != nil {
			t.Fatalf("Apply through a 3 s outage: %v", err)
		}
		if p.Fired(faultproxy.Reset) != 1 {
			t.Fatal("the fault never fired")
		}
		e.wantAt("v2", v2, v1)
	})
}

// An outage longer than the apply's forward budget (half its timeout)
// fails it; the rollback, with its own budget, waits the outage out and
// puts everything back, and says so truthfully, within the timeout plus
// the rollback's budget and 30 s.
func TestFaultOutageLongerThanTheForwardBudgetRollsBack(t *testing.T) {
	eachPoint(t, func(t *testing.T, e *env, p *faultproxy.Proxy, point int) {
		timeout := 6 * time.Second
		v1, v2, took, err := e.faultApply(point, timeout, func(target *unstructured.Unstructured) {
			p.Arm(faultproxy.Fault{Kind: faultproxy.Reset, Match: writeOf(target), Times: 1, OnFire: func() { p.DownFor(8 * time.Second) }})
		})
		var outage *OutageError
		if !errors.As(err, &outage) {
			t.Fatalf("Apply: %v; want it to fail on the outage", err)
		}
		assertContains(t, err.Error(), "did not answer PATCH")
		re := e.wantRolledBack(err, v1, v2)
		if point > 0 && !undone(re, v2[0]) {
			t.Errorf("the first object, changed before the outage, was not restored: %v", err)
		}
		if took > timeout+RollbackBudget+30*time.Second {
			t.Errorf("the failed apply took %s", took)
		}
	})
}

// A persistent 500 on one object (its validating webhook is down) is an
// answer: that object did not change, so the rollback leaves it alone and
// puts back only the others, and succeeds.
func TestFaultPersistent500IsNotAWriteThatLanded(t *testing.T) {
	eachPoint(t, func(t *testing.T, e *env, p *faultproxy.Proxy, point int) {
		v1, v2, _, err := e.faultApply(point, 3*time.Second, func(target *unstructured.Unstructured) {
			p.Arm(faultproxy.Fault{Kind: faultproxy.Status, Code: http.StatusInternalServerError, Match: writeOf(target)})
		})
		if !apierrors.IsInternalError(err) {
			t.Fatalf("Apply: %v; want it to fail with the 500", err)
		}
		assertContains(t, err.Error(), "injected 500")
		if re := e.wantRolledBack(err, v1, v2); undone(re, v2[point]) {
			t.Errorf("the rollback wrote the object the 500 never let change: %v", err)
		}
	})
}

// A write that lands but whose reply is lost is sent again (a server-side
// apply is safe to repeat), and the apply completes.
func TestFaultLostReplyIsRetried(t *testing.T) {
	eachPoint(t, func(t *testing.T, e *env, p *faultproxy.Proxy, point int) {
		v1, v2, _, err := e.faultApply(point, time.Minute, func(target *unstructured.Unstructured) {
			p.Arm(faultproxy.Fault{Kind: faultproxy.ForwardThenDrop, Match: writeOf(target), Times: 2})
		})
		if err != nil {
			t.Fatalf("Apply with two lost replies: %v", err)
		}
		e.wantAt("v2", v2, v1)
	})
}

// When every reply to a write is lost for as long as the apply may retry,
// the write may have landed (it did): the rollback looks, and puts it back.
// The replies are lost until the rollback reads the object.
func TestFaultLostRepliesUntilTheBudgetRollBackWhatLanded(t *testing.T) {
	eachPoint(t, func(t *testing.T, e *env, p *faultproxy.Proxy, point int) {
		var dropped, looked atomic.Bool
		v1, v2, _, err := e.faultApply(point, 4*time.Second, func(target *unstructured.Unstructured) {
			write := writeOf(target)
			path := "/" + strings.ToLower(target.GetKind()) + "s/" + target.GetName()
			p.Arm(faultproxy.Fault{Kind: faultproxy.ForwardThenDrop, Match: func(r *http.Request) bool {
				if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, path) && dropped.Load() {
					looked.Store(true) // the rollback reads it: the apply gave up
				}
				if !write(r) || looked.Load() {
					return false
				}
				dropped.Store(true)
				return true
			}})
		})
		re := e.wantRolledBack(err, v1, v2)
		if re == nil || !mayHaveLanded(re.Cause) {
			t.Fatalf("Apply: %v; want the lost reply taken for a write that may have landed, and rolled back", err)
		}
		if !undone(re, v2[point]) {
			t.Errorf("the object whose write landed was not restored: %v", err)
		}
	})
}

// 429s with Retry-After (priority and fairness) are waited out.
func TestFaultTooManyRequestsIsWaitedOut(t *testing.T) {
	eachPoint(t, func(t *testing.T, e *env, p *faultproxy.Proxy, point int) {
		v1, v2, took, err := e.faultApply(point, time.Minute, func(target *unstructured.Unstructured) {
			p.Arm(faultproxy.Fault{Kind: faultproxy.Status, Code: http.StatusTooManyRequests, RetryAfter: time.Second, Match: writeOf(target), Times: 2})
		})
		if err != nil {
			t.Fatalf("Apply through two 429s: %v", err)
		}
		if took < 1500*time.Millisecond {
			t.Errorf("the apply took %s: Retry-After was not honoured", took)
		}
		e.wantAt("v2", v2, v1)
	})
}

// An interrupt (Ctrl-C) stops forward progress at once; the rollback still
// runs, looks at the write that was in flight, and restores the set.
func TestFaultInterruptRollsBack(t *testing.T) {
	eachPoint(t, func(t *testing.T, e *env, p *faultproxy.Proxy, point int) {
		v1, v2 := e.revisions()
		e.apply(v1, nil)
		ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
		defer cancel()
		p.Arm(faultproxy.Fault{Kind: faultproxy.Latency, Delay: 2 * time.Second, Match: writeOf(v2[point]), Times: 1, OnFire: cancel})
		start := time.Now()
		_, err := e.m.Apply(ctx, v2, e.opts(v1))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Apply: %v; want it to stop on the cancellation", err)
		}
		_ = e.wantRolledBack(err, v1, v2)
		if took := time.Since(start); took > 30*time.Second {
			t.Errorf("the interrupted apply took %s", took)
		}
	})
}

// Lookups (the plan-time checks' reads) go through the same retries: an
// outage of a second or two is waited out, a longer one is reported as an
// outage with how long it was retried.
func TestFaultLookupsAreRetried(t *testing.T) {
	e, p := newFaultEnv(t)
	p.DownFor(2 * time.Second)
	if _, err := e.m.Clientset().CoreV1().Namespaces().Get(e.ctx, e.ns, metav1.GetOptions{}); err != nil {
		t.Fatalf("a lookup through a 2 s outage: %v", err)
	}
	p.Down()
	ctx, cancel := context.WithTimeout(e.ctx, time.Second)
	defer cancel()
	_, err := e.m.Clientset().CoreV1().Namespaces().Get(ctx, e.ns, metav1.GetOptions{})
	var outage *OutageError
	if !errors.As(err, &outage) || outage.Attempts < 2 || !outage.Reached || !strings.Contains(err.Error(), "did not answer GET") {
		t.Fatalf("a lookup during an outage: %v; want an OutageError after retries", err)
	}
	if err := p.Up(); err != nil {
		t.Fatal(err)
	}
}

// A create's commit whose reply is lost (the write landed): the commit is
// conditional on the resourceVersion, so sending it again would conflict
// with its own landed write and read as a takeover. It is not sent again;
// the look that follows finds it landed, and the create succeeds.
func TestFaultLostCommitReplyIsNotATakeover(t *testing.T) {
	e, p := newFaultEnv(t)
	objs := e.ratings(2)
	p.Arm(faultproxy.Fault{Kind: faultproxy.ForwardThenDrop, Match: writeOf(objs[1]), Skip: 1, Times: 1}) // its commit
	if _, err := e.m.Apply(e.ctx, objs, e.opts(nil)); err != nil {
		t.Fatalf("Apply whose commit reply was lost: %v", err)
	}
	e.wantCommitted(objs...)
	if fired := p.Fired(faultproxy.ForwardThenDrop); fired != 1 {
		t.Errorf("the fault fired %d times; want once, on the commit", fired)
	}
}

// An apply that prunes two objects fails deleting the second (a persistent
// 500); its rollback creates the first again, which then has a new uid.
// The RollbackError reports the uids of what it put back, so that state
// records the new object as its own (ApplyOptions.UIDs) rather than as one
// created again elsewhere.
func TestFaultRollbackReportsTheUIDsOfWhatItPutBack(t *testing.T) {
	e, p := newFaultEnv(t)
	v1 := append(e.load("traffic_split_90_10.yaml"), e.ratings(2)...)
	v2 := e.load("traffic_split_50_50.yaml")
	before := uidsOf(t, e.apply(v1, nil))
	// The engine prunes in reverse order: the last object goes first, and
	// the delete of the one before it fails.
	first, failing := v1[len(v1)-1], v1[len(v1)-2]
	p.Arm(faultproxy.Fault{Kind: faultproxy.Status, Code: http.StatusInternalServerError, Match: func(r *http.Request) bool {
		return r.Method == http.MethodDelete && writeOf(failing)(r)
	}})
	ctx, cancel := context.WithTimeout(e.ctx, 3*time.Second)
	defer cancel()
	opts := e.opts(v1)
	opts.UIDs = before
	_, err := e.m.Apply(ctx, v2, opts)
	re := e.wantRolledBack(err, v1, v2)
	if re == nil || !undone(re, first) {
		t.Fatalf("Apply: %v; want the pruned %s created again by the rollback", err, IDOf(first))
	}
	live := e.live(first)
	if live.GetUID() == before[IDOf(first)] {
		t.Fatalf("%s kept its uid; the test needs it created again", IDOf(first))
	}
	if got := re.UIDs[IDOf(first)]; got != live.GetUID() {
		t.Errorf("the rollback reported uid %q for %s; live it is %s", got, IDOf(first), live.GetUID())
	}
	for _, obj := range v2 {
		if !undone(re, obj) {
			continue // unchanged by v2: nothing to put back
		}
		if got := re.UIDs[IDOf(obj)]; got != before[IDOf(obj)] {
			t.Errorf("%s: the rollback reported uid %q; it kept %s", IDOf(obj), got, before[IDOf(obj)])
		}
	}
}
