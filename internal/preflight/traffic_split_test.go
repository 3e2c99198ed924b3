package preflight

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

var cluster *kubetest.Cluster

func TestMain(m *testing.M) { kubetest.Main(m, &cluster) }

// split is a valid 90/10 canary of reviews in ns, to be varied per case.
func split(ns string, target mesh.Target) mesh.TrafficSplit {
	ts := mesh.TrafficSplit{
		Name: "reviews-split", Namespace: ns, Service: "reviews", Port: 9080, Target: target,
		Owner:    mesh.Owner("mesh_traffic_split", ns, "reviews-split"),
		Backends: []mesh.Backend{{Service: "reviews-v1", Weight: 90}, {Service: "reviews-v2", Weight: 10}},
	}
	ts.Normalize()
	return ts
}

// fixture makes a namespace with reviews, reviews-v1 and reviews-v2 (each
// with a running pod) plus a headless Service.
func fixture(t *testing.T, labels map[string]string) string {
	cfg := cluster.Config
	ns := kubetest.Namespace(t, cfg, labels)
	kubetest.Service(t, cfg, ns, "reviews", map[string]string{"app": "reviews"}, 9080)
	kubetest.HeadlessService(t, cfg, ns, "headless", map[string]string{"app": "reviews"}, 9080)
	for _, v := range []string{"v1", "v2"} {
		kubetest.Deployment(t, cfg, ns, "reviews-"+v, map[string]string{"app": "reviews", "version": v}, 1)
		kubetest.Service(t, cfg, ns, "reviews-"+v, map[string]string{"app": "reviews", "version": v}, 9080)
	}
	return ns
}

func check(t *testing.T, ts mesh.TrafficSplit) mesh.Problems {
	t.Helper()
	m, err := kube.New(cluster.Config, kube.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	problems, err := TrafficSplit(context.Background(), m, ts, nil)
	if err != nil {
		t.Fatalf("checks did not run: %v", err)
	}
	return problems
}

// expectOnly asserts the findings are exactly one, with code, severity, path
// and every fragment of its message.
func expectOnly(t *testing.T, got mesh.Problems, code string, sev mesh.Severity, path string, fragments ...string) {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("got %d findings, want one %s: %+v", len(got), code, got)
	}
	p := got[0]
	if p.Code != code || p.Severity != sev || fmt.Sprint(p.Path) != path {
		t.Errorf("got %s severity %d at %v, want %s severity %d at %s", p.Code, p.Severity, p.Path, code, sev, path)
	}
	for _, f := range fragments {
		if !strings.Contains(p.Summary+" "+p.Detail, f) {
			t.Errorf("message %q lacks %q", p.Summary+" "+p.Detail, f)
		}
	}
}

func TestTrafficSplitChecks(t *testing.T) {
	sidecar := map[string]string{"istio-injection": "enabled"}
	ns := fixture(t, sidecar)

	t.Run("valid split has no findings", func(t *testing.T) {
		if got := check(t, split(ns, mesh.TargetIstioSidecar)); len(got) != 0 {
			t.Errorf("findings on a valid split: %+v", got)
		}
	})
	t.Run("subset selecting no pods warns", func(t *testing.T) {
		ts := split(ns, mesh.TargetIstioSidecar)
		ts.Backends = []mesh.Backend{{Service: "reviews", Port: 9080, Weight: 100, SubsetLabels: map[string]string{"version": "v9"}}}
		expectOnly(t, check(t, ts), "MESH-TS-004", mesh.SeverityWarning, "[backends 0 subset_labels]",
			"subset version=v9 selects no pods", "503 UH")
	})
	t.Run("subset selecting pods is fine", func(t *testing.T) {
		ts := split(ns, mesh.TargetIstioSidecar)
		ts.Backends = []mesh.Backend{{Service: "reviews", Port: 9080, Weight: 100, SubsetLabels: map[string]string{"version": "v1"}}}
		if got := check(t, ts); len(got) != 0 {
			t.Errorf("findings: %+v", got)
		}
	})
	t.Run("missing parent", func(t *testing.T) {
		ts := split(ns, mesh.TargetIstioSidecar)
		ts.Service = "nope"
		got := check(t, ts)
		if len(got) == 0 || got[0].Code != "MESH-TS-008" || !strings.Contains(got[0].Detail, "Service "+ns+"/nope does not exist") {
			t.Errorf("findings: %+v", got)
		}
	})
	t.Run("missing backend port", func(t *testing.T) {
		ts := split(ns, mesh.TargetIstioSidecar)
		ts.Backends[1].Port = 8080
		expectOnly(t, check(t, ts), "MESH-TS-008", mesh.SeverityError, "[backends 1 port]",
			"backend Service "+ns+"/reviews-v2 has no port 8080 (it has 9080)")
	})
	t.Run("headless parent", func(t *testing.T) {
		ts := split(ns, mesh.TargetIstioSidecar)
		ts.Service = "headless"
		expectOnly(t, check(t, ts), "MESH-TS-009", mesh.SeverityError, "[service]", "a headless Service (clusterIP: None)")
	})
	t.Run("namespace not enrolled warns", func(t *testing.T) {
		expectOnly(t, check(t, split(ns, mesh.TargetLinkerd)), "MESH-GEN-003", mesh.SeverityWarning, "[namespace]",
			"namespace "+ns+" is not part of the linkerd mesh", "linkerd.io/inject=enabled")
	})
	t.Run("another DestinationRule for a subset host", func(t *testing.T) {
		dr := create(t, ns, `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: legacy}
spec: {host: reviews, subsets: [{name: v1, labels: {version: v1}}]}
`)
		ts := split(ns, mesh.TargetIstioSidecar)
		ts.Backends = []mesh.Backend{{Service: "reviews", Port: 9080, Weight: 100, SubsetLabels: map[string]string{"version": "v1"}}}
		expectOnly(t, check(t, ts), "MESH-TS-005", mesh.SeverityError, "[backends]",
			"DestinationRule "+ns+"/legacy (unmanaged) already defines subsets for host reviews."+ns+".svc.cluster.local")
		// Once state records it (imported), it is the split's own.
		m, _ := kube.New(cluster.Config, kube.DefaultOptions())
		got, err := TrafficSplit(context.Background(), m, ts, []kube.ID{kube.IDOf(dr)})
		if err != nil || len(got) != 0 {
			t.Errorf("with the DestinationRule recorded: %v, %+v", err, got)
		}
	})
	t.Run("route of another resource", func(t *testing.T) {
		create(t, ns, fmt.Sprintf(`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: other
  labels: {mesh.terraform.io/owner: mesh_traffic_split.%s.other}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
  rules: [{backendRefs: [{name: reviews-v1, port: 9080}]}]
`, ns))
		expectOnly(t, check(t, split(ns, mesh.TargetIstioSidecar)), "MESH-GEN-002", mesh.SeverityError, "[service]",
			"already routed by HTTPRoute/other (mesh_traffic_split."+ns+".other)")
	})
}

func TestTrafficSplitAmbientWaypoint(t *testing.T) {
	ns := fixture(t, map[string]string{"istio.io/dataplane-mode": "ambient"})
	ts := split(ns, mesh.TargetIstioAmbient)

	expectOnly(t, check(t, ts), "MESH-TS-006", mesh.SeverityError, "[ambient_waypoint mode]",
		"istio.io/use-waypoint label missing from parent and parent namespace")

	label(t, ns, "reviews", "istio.io/use-waypoint", "waypoint")
	expectOnly(t, check(t, ts), "MESH-TS-006", mesh.SeverityError, "[ambient_waypoint mode]",
		"waypoint "+ns+"/waypoint, which does not exist")

	gw := create(t, ns, `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, labels: {istio.io/waypoint-for: service}}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`)
	expectOnly(t, check(t, ts), "MESH-TS-006", mesh.SeverityError, "[ambient_waypoint mode]", "is not Programmed")

	// What istiod does once the waypoint is deployed.
	setProgrammed(t, gw)
	if got := check(t, ts); len(got) != 0 {
		t.Errorf("findings with a Programmed waypoint: %+v", got)
	}
	ts.Waypoint.Mode = mesh.WaypointCreate
	if got := check(t, ts); len(got) != 0 {
		t.Errorf("findings with mode create: %+v", got)
	}
}

func TestTrafficSplitLinkerdServiceProfile(t *testing.T) {
	ns := fixture(t, nil)
	create(t, ns, fmt.Sprintf(`
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: reviews.%s.svc.cluster.local}
spec: {routes: [{name: all, condition: {method: GET}}]}
`, ns))
	got := check(t, split(ns, mesh.TargetLinkerd))
	var codes []string
	for _, p := range got {
		codes = append(codes, p.Code)
	}
	if !strings.Contains(strings.Join(codes, ","), "MESH-TS-013") {
		t.Fatalf("findings %v, want MESH-TS-013", codes)
	}
}

func TestTrafficSplitMissingCRD(t *testing.T) {
	m, err := kube.New(cluster.Config, kube.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	// Every CRD the renderers need is installed in the test cluster, so ask
	// for a kind nobody serves through the same path.
	err = lookup{m}.served(context.Background(), mesh.GVKHTTPRoute.GroupVersion().WithKind("NoSuchRoute"))
	if err == nil || !strings.Contains(err.Error(), "the cluster does not serve gateway.networking.k8s.io/v1 NoSuchRoute; install or upgrade the Gateway API CRDs") {
		t.Errorf("served() = %v", err)
	}
}

func create(t *testing.T, ns, y string) *unstructured.Unstructured {
	t.Helper()
	obj := &unstructured.Unstructured{}
	if err := yamlInto(y, obj); err != nil {
		t.Fatal(err)
	}
	obj.SetNamespace(ns)
	m, err := kube.New(cluster.Config, kube.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	gvr, err := m.RESTMapper().RESTMapping(obj.GroupVersionKind().GroupKind(), obj.GroupVersionKind().Version)
	if err != nil {
		t.Fatal(err)
	}
	created, err := m.Dynamic().Resource(gvr.Resource).Namespace(ns).Create(context.Background(), obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return created
}

func setProgrammed(t *testing.T, gw *unstructured.Unstructured) {
	t.Helper()
	m, _ := kube.New(cluster.Config, kube.DefaultOptions())
	_ = unstructured.SetNestedSlice(gw.Object, []any{map[string]any{
		"type": "Programmed", "status": "True", "reason": "Programmed", "message": "set by the test",
		"lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": gw.GetGeneration(),
	}}, "status", "conditions")
	gvr := mesh.GVKGateway.GroupVersion().WithResource("gateways")
	if _, err := m.Dynamic().Resource(gvr).Namespace(gw.GetNamespace()).UpdateStatus(context.Background(), gw, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func label(t *testing.T, ns, service, key, value string) {
	t.Helper()
	m, _ := kube.New(cluster.Config, kube.DefaultOptions())
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, key, value)
	if _, err := m.Clientset().CoreV1().Services(ns).Patch(context.Background(), service, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func yamlInto(y string, obj *unstructured.Unstructured) error {
	j, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		return err
	}
	return obj.UnmarshalJSON(j)
}
