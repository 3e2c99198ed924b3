package kube

import (
	"context"
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestDeleteWaitsUntilGone(t *testing.T) {
	e := newEnv(t)
	v1 := e.load("traffic_split_90_10.yaml")
	e.apply(v1, nil)
	// A finalizer nobody removes keeps the DestinationRule terminating.
	e.editAs("test-finalizer", v1[1], func(live *unstructured.Unstructured) {
		live.SetFinalizers([]string{"mesh.terraform.io/test-hold"})
	})

	ctx, cancel := context.WithTimeout(e.ctx, 3*time.Second)
	defer cancel()
	cs, err := e.m.Delete(ctx, v1, DefaultDeleteOptions())
	e.wantChanges(cs, "DestinationRule/${NAMESPACE}/reviews Deleted", "VirtualService/${NAMESPACE}/reviews Deleted")
	var we *WaitError
	if !errors.As(err, &we) {
		t.Fatalf("Delete: %v; want a WaitError for the terminating DestinationRule", err)
	}
	assertContains(t, err.Error(), "DestinationRule/"+e.ns+"/reviews is Terminating", "mesh.terraform.io/test-hold")
	if e.live(v1[0]) != nil {
		t.Error("Delete returned before the VirtualService was gone")
	}

	e.editAs("test-finalizer", v1[1], func(live *unstructured.Unstructured) { live.SetFinalizers(nil) })
	if err := e.m.WaitGone(e.ctx, v1); err != nil {
		t.Fatalf("WaitGone: %v", err)
	}
	if e.live(v1[1]) != nil {
		t.Error("WaitGone returned before the DestinationRule was gone")
	}

	cs, err = e.m.Delete(e.ctx, v1, DefaultDeleteOptions())
	if err != nil {
		t.Fatal(err)
	}
	e.wantChanges(cs, "DestinationRule/${NAMESPACE}/reviews Unchanged", "VirtualService/${NAMESPACE}/reviews Unchanged")
}

func TestDeleteRefusesForeignObject(t *testing.T) {
	e := newEnv(t)
	vs := e.load("traffic_split_90_10.yaml")[0]
	foreign := vs.DeepCopy()
	foreign.SetLabels(map[string]string{"mesh.terraform.io/owner": "mesh_traffic_split.elsewhere.reviews"})
	if _, err := e.otherResource(foreign).Create(e.ctx, foreign, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := e.m.Delete(e.ctx, []*unstructured.Unstructured{vs}, DeleteOptions{Owner: e.owner, Wait: true})
	var fe *ForeignObjectError
	if !errors.As(err, &fe) {
		t.Fatalf("Delete: %v; want a ForeignObjectError", err)
	}
	if e.live(vs) == nil {
		t.Error("Delete removed another owner's object")
	}
}
