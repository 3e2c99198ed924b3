package preflight

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

func TestHostIsTheFormsIstioResolvesInTheNamespace(t *testing.T) {
	for host, want := range map[string]bool{
		"reviews":                               true,
		"reviews.bookinfo":                      true,
		"reviews.bookinfo.svc":                  true,
		"reviews.bookinfo.svc.cluster.local":    true,
		mesh.ServiceFQDN("reviews", "bookinfo"): true,
		"":                                      false,
		"review":                                false,
		"reviews-v1":                            false,
		"reviewsbookinfo":                       false,
		"reviews.":                              false,
		"reviews.bookinf":                       false,
		"reviews.bookinfo2":                     false,
		"reviews.bookinfo.":                     false,
		"reviews.bookinfo.svc.cluster":          false,
		"reviews.other.svc.cluster.local":       false,
		"reviews.bookinfo.svc.cluster.local.":   false,
		"ratings.bookinfo.svc.cluster.local":    false,
		"*.bookinfo.svc.cluster.local":          false,
	} {
		if got := hostIs(host, "reviews", "bookinfo"); got != want {
			t.Errorf("hostIs(%q) = %v; want %v", host, got, want)
		}
	}
}

func TestRouteAndOwnerReadsDoNotNeedWellFormedObjects(t *testing.T) {
	vs := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"labels": map[string]any{mesh.LabelOwner: "mesh_traffic_split.bookinfo.x"}},
		"spec":     map[string]any{"hosts": []any{"ratings", 7, "reviews.bookinfo.svc"}},
	}}
	if !vsRoutesHost(vs, "reviews", "bookinfo") || vsRoutesHost(vs, "details", "bookinfo") {
		t.Error("vsRoutesHost: want reviews routed, details not")
	}
	if got := ownerOf(vs); got != "mesh_traffic_split.bookinfo.x" {
		t.Errorf("ownerOf = %q", got)
	}
	bare := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"hosts": "reviews"}}}
	if vsRoutesHost(bare, "reviews", "bookinfo") || ownerOf(bare) != "unmanaged" {
		t.Error("an object without a hosts list or labels: want no route and unmanaged")
	}
}
