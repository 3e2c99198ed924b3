package preflight

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

func installedHTTPRouteCRD(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	m, err := kube.New(cluster.Config, kube.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	crd, err := m.Get(context.Background(), kube.ID{Group: mesh.GVKCRD.Group, Version: mesh.GVKCRD.Version, Kind: mesh.GVKCRD.Kind, Name: httpRouteCRDName})
	if err != nil || crd == nil {
		t.Fatalf("the test cluster has no %s CRD: %v", httpRouteCRDName, err)
	}
	return crd
}

// MESH-MIR-003 reads the installed CRD: the test cluster's Gateway API
// v1.4.0 has the field; an older bundle version, or (without the
// annotation) a schema without percent, has not.
func TestMirrorPercentInCRD(t *testing.T) {
	installed := installedHTTPRouteCRD(t)
	withAnnotation := func(version string) *unstructured.Unstructured {
		crd := installed.DeepCopy()
		a := crd.GetAnnotations()
		if version == "" {
			delete(a, mesh.AnnotationGatewayAPIBundleVersion)
		} else {
			a[mesh.AnnotationGatewayAPIBundleVersion] = version
		}
		crd.SetAnnotations(a)
		return crd
	}
	withoutPercent := withAnnotation("")
	for _, v := range withoutPercent.Object["spec"].(map[string]any)["versions"].([]any) {
		dropMirrorPercent(v)
	}
	cases := []struct {
		name        string
		crd         *unstructured.Unstructured
		want        bool
		wantVersion string
	}{
		{"installed v1.4.0", installed, true, "v1.4.0"},
		{"bundle v1.2.1 standard", withAnnotation("v1.2.1"), false, "v1.2.1"},
		{"no annotation, schema has percent", withAnnotation(""), true, "(unknown version)"},
		{"no annotation, schema lacks percent", withoutPercent, false, "(unknown version)"},
	}
	for _, c := range cases {
		ok, version := MirrorPercentInCRD(c.crd)
		if ok != c.want || version != c.wantVersion {
			t.Errorf("%s: MirrorPercentInCRD = %v, %q; want %v, %q", c.name, ok, version, c.want, c.wantVersion)
		}
	}
}

// dropMirrorPercent deletes requestMirror.properties.percent wherever it is.
func dropMirrorPercent(v any) {
	switch v := v.(type) {
	case map[string]any:
		if rm, ok := v["requestMirror"].(map[string]any); ok {
			if props, ok := rm["properties"].(map[string]any); ok {
				delete(props, "percent")
			}
		}
		for _, child := range v {
			dropMirrorPercent(child)
		}
	case []any:
		for _, child := range v {
			dropMirrorPercent(child)
		}
	}
}

func mirrorOf(ns string, target mesh.Target, edit func(*mesh.MirrorRoute)) mesh.MirrorRoute {
	mr := mesh.MirrorRoute{
		Name: "reviews-mirror", Namespace: ns, Service: "reviews", Port: 9080, Target: target,
		Owner:   mesh.Owner("mesh_mirror_route", ns, "reviews-mirror"),
		Primary: mesh.Backend{Service: "reviews-v1"},
		Mirror:  mesh.Mirror{Destination: mesh.MirrorDestination{Service: "reviews-v2", Port: 9080}, Percentage: 25},
	}
	edit(&mr)
	mr.Normalize()
	return mr
}

func checkMirror(t *testing.T, mr mesh.MirrorRoute) mesh.Problems {
	t.Helper()
	m, err := kube.New(cluster.Config, kube.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	problems, err := MirrorRoute(context.Background(), m, mr, nil)
	if err != nil {
		t.Fatalf("checks did not run: %v", err)
	}
	return problems
}

func TestMirrorRouteChecks(t *testing.T) {
	ns := fixture(t, map[string]string{"istio-injection": "enabled"})
	t.Run("gateway api percentage on v1.4.0 CRDs", func(t *testing.T) {
		got := checkMirror(t, mirrorOf(ns, mesh.TargetIstioSidecar, func(mr *mesh.MirrorRoute) { mr.IstioAPI = mesh.IstioAPIGatewayAPI }))
		if len(got) != 0 {
			t.Errorf("got findings %+v, want none", got)
		}
	})
	t.Run("primary missing is reported at primary", func(t *testing.T) {
		got := checkMirror(t, mirrorOf(ns, mesh.TargetIstioSidecar, func(mr *mesh.MirrorRoute) { mr.Primary.Service = "reviews-v9" }))
		expectOnly(t, got, "MESH-TS-008", mesh.SeverityError, "[primary service]", "backend Service "+ns+"/reviews-v9 does not exist")
	})
	t.Run("primary subset selects no pods", func(t *testing.T) {
		got := checkMirror(t, mirrorOf(ns, mesh.TargetIstioSidecar, func(mr *mesh.MirrorRoute) {
			mr.Primary.SubsetLabels = map[string]string{"version": "v9"}
		}))
		expectOnly(t, got, "MESH-TS-004", mesh.SeverityWarning, "[primary subset_labels]", "selects no pods")
	})
	t.Run("ambient without waypoint", func(t *testing.T) {
		ambient := fixture(t, map[string]string{"istio.io/dataplane-mode": "ambient"})
		got := checkMirror(t, mirrorOf(ambient, mesh.TargetIstioAmbient, func(*mesh.MirrorRoute) {}))
		expectOnly(t, got, mesh.CodeMirWaypoint, mesh.SeverityError, "[ambient_waypoint mode]",
			"MESH-MIR-005: ", "istio.io/use-waypoint label missing from parent and parent namespace; in ambient mode, route will not be respected")
	})
}
