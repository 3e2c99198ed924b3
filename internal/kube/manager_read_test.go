package kube

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
)

func TestReadEqualsAppliedNestedLists(t *testing.T) {
	e := newEnv(t)
	route := e.load("httproute_canary.yaml")
	e.apply(route, nil)
	e.readEquals(route...)
}

func TestReadListsManyObjectsOfOneKind(t *testing.T) {
	e := newEnv(t)
	tmpl := e.load("ratings_new.yaml")[0]
	var objs []*unstructured.Unstructured
	for i := range 5 {
		obj := tmpl.DeepCopy()
		obj.SetName(fmt.Sprintf("ratings-%d", i))
		objs = append(objs, obj)
	}
	e.apply(objs, nil)

	absent := IDOf(tmpl)
	absent.Name = "absent"
	start := e.m.Requests()
	got, err := e.m.Read(e.ctx, append(idsOf(objs), absent))
	if err != nil {
		t.Fatal(err)
	}
	n := e.m.Requests() - start
	t.Logf("read of 6 VirtualServices (5 present) in one namespace: %d request(s)", n)
	if n != 1 {
		t.Errorf("Read sent %d requests, want 1 List", n)
	}
	if _, ok := got[absent]; ok || len(got) != len(objs) {
		t.Errorf("Read returned %d objects (absent one included: %v), want the %d present", len(got), ok, len(objs))
	}
	for _, want := range objs {
		if diff := cmp.Diff(want.Object, objectOf(got[IDOf(want)])); diff != "" {
			t.Errorf("Read %s (-want +got):\n%s", IDOf(want), diff)
		}
	}
}

func TestSharedServiceLabel(t *testing.T) {
	e := newEnv(t)
	label := e.load("service_waypoint_label.yaml")

	_, err := e.m.Apply(e.ctx, label, e.opts(nil))
	var me *MissingObjectError
	if !errors.As(err, &me) {
		t.Fatalf("Apply to a missing Service: %v; want a MissingObjectError", err)
	}

	svc := e.user("reviews")
	cs := e.apply(label, nil)
	e.wantChanges(cs, "Service/${NAMESPACE}/reviews Configured")
	e.readEquals(label...)
	live := e.live(label[0])
	if got := live.GetLabels()["istio.io/use-waypoint"]; got != "reviews-waypoint" {
		t.Errorf("label istio.io/use-waypoint = %q", got)
	}
	e.wantUserFieldsKept(svc, live)

	e.editAs("kubectl-label", label[0], func(live *unstructured.Unstructured) {
		labels := live.GetLabels()
		labels["istio.io/use-waypoint"] = "none"
		live.SetLabels(labels)
	})
	got, err := e.m.ReadOne(e.ctx, IDOf(label[0]))
	if err != nil {
		t.Fatal(err)
	}
	if cmp.Equal(label[0].Object, got.Object) {
		t.Error("Read shows no drift after kubectl label")
	}
	e.wantChanges(e.apply(label, label), "Service/${NAMESPACE}/reviews Configured")
	e.readEquals(label...)

	cs, err = e.m.Delete(e.ctx, label, DefaultDeleteOptions())
	if err != nil {
		t.Fatal(err)
	}
	e.wantChanges(cs, "Service/${NAMESPACE}/reviews Deleted")
	live = e.live(label[0])
	if live == nil {
		t.Fatal("releasing a shared Service deleted it")
	}
	if _, ok := live.GetLabels()["istio.io/use-waypoint"]; ok {
		t.Errorf("label still there after release: %v", live.GetLabels())
	}
	e.wantUserFieldsKept(svc, live)
}

// user creates the user's Service that the provider only labels.
func (e *env) user(name string) *unstructured.Unstructured {
	e.t.Helper()
	obj := &unstructured.Unstructured{}
	obj.SetAPIVersion("v1")
	obj.SetKind("Service")
	obj.SetNamespace(e.ns)
	obj.SetName(name)
	kubetest.Service(e.t, cluster.Config, e.ns, name, map[string]string{"app": name}, 9080)
	return e.live(obj)
}

// wantUserFieldsKept asserts that the user's spec and labels survived.
func (e *env) wantUserFieldsKept(before, after *unstructured.Unstructured) {
	e.t.Helper()
	if diff := cmp.Diff(before.Object["spec"], after.Object["spec"]); diff != "" {
		e.t.Errorf("the Service's spec changed (-want +got):\n%s", diff)
	}
	for k, v := range before.GetLabels() {
		if after.GetLabels()[k] != v {
			e.t.Errorf("the Service's label %s changed: %q -> %q", k, v, after.GetLabels()[k])
		}
	}
}
