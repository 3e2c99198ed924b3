package provider

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

const (
	splitName    = "reviews-split"
	splitAddress = "mesh_traffic_split.test"
)

// splitFixture is one target's view of the same canary: the workloads it
// needs, its HCL, and where its rendered route keeps the weights.
type splitFixture struct {
	target mesh.Target
	ns     string
	// keys are the manifest keys the split renders; route is the one with weights.
	keys  []string
	route string
}

// newSplitFixture creates a namespace enrolled in the target's mesh, the
// parent Service reviews:9080, and v1/v2 Deployments behind it (with one
// Service per version for the Gateway API targets).
func newSplitFixture(t *testing.T, target mesh.Target) splitFixture {
	t.Helper()
	testAccPreCheck(t)
	cfg := cluster.Config
	labels := map[string]string{}
	switch target {
	case mesh.TargetIstioSidecar:
		labels["istio-injection"] = "enabled"
	case mesh.TargetIstioAmbient:
		labels["istio.io/dataplane-mode"] = "ambient"
	}
	ns := testNamespace(t, labels)
	if target == mesh.TargetLinkerd {
		annotateNamespace(t, ns, "linkerd.io/inject", "enabled")
	}
	kubetest.Service(t, cfg, ns, "reviews", map[string]string{"app": "reviews"}, 9080)
	for _, v := range []string{"v1", "v2"} {
		kubetest.Deployment(t, cfg, ns, "reviews-"+v, map[string]string{"app": "reviews", "version": v}, 1)
		kubetest.Service(t, cfg, ns, "reviews-"+v, map[string]string{"app": "reviews", "version": v}, 9080)
	}
	f := splitFixture{target: target, ns: ns}
	key := func(apiVersion, kind, name string) string {
		return fmt.Sprintf("%s/%s/%s/%s", apiVersion, kind, ns, name)
	}
	switch target {
	case mesh.TargetIstioSidecar:
		f.route = key("networking.istio.io/v1", "VirtualService", splitName)
		f.keys = []string{key("networking.istio.io/v1", "DestinationRule", splitName), f.route}
	case mesh.TargetIstioAmbient:
		f.route = key("gateway.networking.k8s.io/v1", "HTTPRoute", splitName)
		f.keys = []string{key("gateway.networking.k8s.io/v1", "Gateway", "waypoint"), key("v1", "Service", "reviews"), f.route}
	default:
		f.route = key("gateway.networking.k8s.io/v1", "HTTPRoute", splitName)
		f.keys = []string{f.route}
	}
	return f
}

// config is the canary at weights v1/v2 with a beta header route to v2.
func (f splitFixture) config(v1, v2 int) string {
	return f.configWeights(strconv.Itoa(v1), strconv.Itoa(v2))
}

// configWeights is config with the weights as HCL expressions.
func (f splitFixture) configWeights(v1, v2 string) string {
	backends := fmt.Sprintf(`[
    { subset_labels = { version = "v1" }, weight = %s },
    { subset_labels = { version = "v2" }, weight = %s },
  ]`, v1, v2)
	beta := `[{ subset_labels = { version = "v2" } }]`
	if f.target != mesh.TargetIstioSidecar {
		backends = fmt.Sprintf(`[
    { service = "reviews-v1", weight = %s },
    { service = "reviews-v2", weight = %s },
  ]`, v1, v2)
		beta = `[{ service = "reviews-v2" }]`
	}
	extra := ""
	if f.target == mesh.TargetIstioAmbient {
		extra = `ambient_waypoint = { mode = "create" }`
	}
	return providerConfig(string(f.target)) + fmt.Sprintf(`
resource "mesh_traffic_split" "test" {
  name      = %q
  namespace = %q
  service   = "reviews"
  port      = 9080
  backends  = %s
  match_routes = [{
    headers  = [{ name = "x-user-group", value = "beta" }]
    backends = %s
  }]
  %s
}
`, splitName, f.ns, backends, beta, extra)
}

// routeID is the kube ID of the route object.
func (f splitFixture) routeID(t *testing.T) kube.ID {
	t.Helper()
	id, err := kube.ParseKey(f.route)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// liveWeights returns the weights of the route's default (last) rule.
func (f splitFixture) liveWeights(t *testing.T) []int64 {
	t.Helper()
	obj := getObject(t, f.routeID(t))
	var weights []int64
	for _, d := range defaultRule(obj) {
		w, _, _ := unstructured.NestedInt64(d.(map[string]any), "weight")
		weights = append(weights, w)
	}
	return weights
}

// defaultRule returns the destinations of the weighted default rule:
// VirtualService http[-1].route or HTTPRoute rules[-1].backendRefs.
func defaultRule(obj *unstructured.Unstructured) []any {
	if obj.GetKind() == "VirtualService" {
		rules, _, _ := unstructured.NestedSlice(obj.Object, "spec", "http")
		dests, _, _ := unstructured.NestedSlice(rules[len(rules)-1].(map[string]any), "route")
		return dests
	}
	rules, _, _ := unstructured.NestedSlice(obj.Object, "spec", "rules")
	refs, _, _ := unstructured.NestedSlice(rules[len(rules)-1].(map[string]any), "backendRefs")
	return refs
}

// editWeights changes the default rule's weights the way `kubectl edit`
// does: an Update under the field manager kubectl-edit.
func (f splitFixture) editWeights(t *testing.T, v1, v2 int64) {
	t.Helper()
	id := f.routeID(t)
	obj := getObject(t, id)
	dests := defaultRule(obj)
	for i, w := range []int64{v1, v2} {
		dests[i].(map[string]any)["weight"] = w
	}
	path := []string{"spec", "rules"}
	if obj.GetKind() == "VirtualService" {
		path = []string{"spec", "http"}
	}
	rules, _, _ := unstructured.NestedSlice(obj.Object, path...)
	last := rules[len(rules)-1].(map[string]any)
	if obj.GetKind() == "VirtualService" {
		last["route"] = dests
	} else {
		last["backendRefs"] = dests
	}
	if err := unstructured.SetNestedSlice(obj.Object, rules, path...); err != nil {
		t.Fatal(err)
	}
	_, dyn := clients(t)
	if _, err := dyn.Resource(gvr(t, id)).Namespace(id.Namespace).Update(ctx, obj, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatalf("out-of-band edit of %s: %v", id, err)
	}
}

func getObject(t *testing.T, id kube.ID) *unstructured.Unstructured {
	t.Helper()
	_, dyn := clients(t)
	obj, err := dyn.Resource(gvr(t, id)).Namespace(id.Namespace).Get(ctx, id.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return obj
}

// gvr maps the kinds these tests render; a table keeps the tests free of
// discovery.
func gvr(t *testing.T, id kube.ID) schema.GroupVersionResource {
	t.Helper()
	resources := map[string]string{
		"VirtualService": "virtualservices", "DestinationRule": "destinationrules", "HTTPRoute": "httproutes",
		"Gateway": "gateways", "Service": "services", "ServiceProfile": "serviceprofiles",
		"PeerAuthentication": "peerauthentications", "Server": "servers", "AuthorizationPolicy": "authorizationpolicies",
		"MeshTLSAuthentication": "meshtlsauthentications", "NetworkAuthentication": "networkauthentications",
	}
	r, ok := resources[id.Kind]
	if !ok {
		t.Fatalf("no resource known for kind %s", id.Kind)
	}
	return schema.GroupVersionResource{Group: id.Group, Version: id.Version, Resource: r}
}

func annotateNamespace(t *testing.T, ns, key, value string) {
	t.Helper()
	cs, _ := clients(t)
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, key, value)
	if _, err := cs.CoreV1().Namespaces().Patch(ctx, ns, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// checkOwned asserts every manifest key names a live object; owned ones
// carry the owner label.
func (f splitFixture) checkOwned(t *testing.T) error {
	for _, key := range f.keys {
		id, err := kube.ParseKey(key)
		if err != nil {
			return err
		}
		obj := getObject(t, id)
		if id.Kind == "Service" {
			if got := obj.GetLabels()["istio.io/use-waypoint"]; got != "waypoint" {
				return fmt.Errorf("%s: istio.io/use-waypoint = %q, want waypoint", id, got)
			}
			continue
		}
		want := mesh.Owner("mesh_traffic_split", f.ns, splitName)
		if got := obj.GetLabels()[mesh.LabelOwner]; got != want {
			return fmt.Errorf("%s: owner label %q, want %q", id, got, want)
		}
	}
	return nil
}

// checkGone asserts the split's objects are deleted, and the parent Service
// kept but released (no use-waypoint label).
func (f splitFixture) checkGone(t *testing.T) error {
	_, dyn := clients(t)
	for _, key := range f.keys {
		id, _ := kube.ParseKey(key)
		obj, err := dyn.Resource(gvr(t, id)).Namespace(id.Namespace).Get(ctx, id.Name, metav1.GetOptions{})
		switch {
		case id.Kind == "Service" && err != nil:
			return fmt.Errorf("%s: the parent Service must survive destroy: %v", id, err)
		case id.Kind == "Service" && obj.GetLabels()["istio.io/use-waypoint"] != "":
			return fmt.Errorf("%s: destroy left the istio.io/use-waypoint label", id)
		case id.Kind != "Service" && err == nil:
			return fmt.Errorf("%s still exists after destroy", id)
		case id.Kind != "Service" && !strings.Contains(err.Error(), "not found"):
			return err
		}
	}
	return nil
}
