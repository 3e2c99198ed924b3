package render_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/render"
)

func canary(target mesh.Target) mesh.TrafficSplit {
	ts := mesh.TrafficSplit{
		Name: "reviews-split", Namespace: "bookinfo", Service: "reviews", Port: 9080, Target: target,
		Owner:    mesh.Owner("mesh_traffic_split", "bookinfo", "reviews-split"),
		Backends: []mesh.Backend{{Service: "reviews-v1", Weight: 90}, {Service: "reviews-v2", Weight: 10}},
	}
	ts.Normalize()
	return ts
}

func TestTrafficSplitDispatchesOnTarget(t *testing.T) {
	want := map[mesh.Target]string{
		mesh.TargetIstioSidecar: "networking.istio.io/v1 VirtualService",
		mesh.TargetIstioAmbient: "gateway.networking.k8s.io/v1 HTTPRoute",
		mesh.TargetLinkerd:      "gateway.networking.k8s.io/v1 HTTPRoute",
	}
	for _, target := range mesh.Targets {
		objs, err := render.TrafficSplit(canary(target))
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if got := objs[len(objs)-1]; got.GetAPIVersion()+" "+got.GetKind() != want[target] {
			t.Errorf("%s: route is %s %s, want %s", target, got.GetAPIVersion(), got.GetKind(), want[target])
		}
	}
}

func TestTrafficSplitRejectsUnknownTarget(t *testing.T) {
	if _, err := render.TrafficSplit(canary("consul")); err == nil {
		t.Error("rendered for target consul; want an error")
	}
}

func TestYAMLSortsKeys(t *testing.T) {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"kind": "Service", "apiVersion": "v1",
		"metadata": map[string]any{"namespace": "bookinfo", "name": "reviews"},
	}}
	got, err := render.YAML(obj)
	if err != nil {
		t.Fatal(err)
	}
	want := "apiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\n  namespace: bookinfo\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("YAML (-want +got):\n%s", diff)
	}
}
