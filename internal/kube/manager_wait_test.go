package kube

import (
	"context"
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestWaitReadyNamesPendingObjects(t *testing.T) {
	e := newEnv(t)
	v1 := e.load("traffic_split_90_10.yaml")
	e.apply(v1[:1], nil)

	ctx, cancel := context.WithTimeout(e.ctx, 2*time.Second)
	defer cancel()
	err := e.m.WaitReady(ctx, v1)
	var we *WaitError
	if !errors.As(err, &we) || len(we.Pending) != 1 {
		t.Fatalf("WaitReady: %v; want a WaitError naming only the absent DestinationRule", err)
	}
	assertContains(t, err.Error(), "DestinationRule/"+e.ns+"/reviews is NotFound")
}

func TestWaitReadyDeployment(t *testing.T) {
	e := newEnv(t)
	objs := e.load("deployment_unschedulable.yaml")
	// Without the nodeSelector kwok runs the pods, and kstatus sees the
	// Deployment become Current.
	unstructured.RemoveNestedField(objs[0].Object, "spec", "template", "spec", "nodeSelector")
	opts := e.opts(nil)
	opts.Wait = true
	if _, err := e.m.Apply(e.ctx, objs, opts); err != nil {
		t.Fatalf("Apply with wait: %v", err)
	}
}
