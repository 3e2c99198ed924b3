package provider

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

const (
	authzName    = "orders-allow"
	authzAddress = "mesh_authorization.test"
)

// authzFixture is one target's namespace with the orders workload: a
// Deployment whose pods have an httpGet readiness probe on 8080, and the
// Service orders:8080. On istio-ambient the Service is bound to a
// Programmed waypoint.
type authzFixture struct {
	target mesh.Target
	ns     string
	// key is the manifest key of the object the drift step edits.
	key string
}

func newAuthzFixture(t *testing.T, target mesh.Target) authzFixture {
	t.Helper()
	testAccPreCheck(t)
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
	authzOrdersDeployment(t, ns)
	kubetest.Service(t, cluster.Config, ns, "orders", map[string]string{"app": "orders"}, 8080)
	f := authzFixture{target: target, ns: ns}
	switch target {
	case mesh.TargetLinkerd:
		f.key = fmt.Sprintf("policy.linkerd.io/v1beta3/Server/%s/%s-8080", ns, authzName)
	default:
		f.key = fmt.Sprintf("security.istio.io/v1/AuthorizationPolicy/%s/%s", ns, authzName)
	}
	if target == mesh.TargetIstioAmbient {
		authzBindWaypoint(t, ns, "orders")
	}
	return f
}

// ordersDeployment runs one orders pod with a readiness probe on /healthz,
// the path Linkerd's probe route must keep authorized.
func authzOrdersDeployment(t *testing.T, ns string) {
	t.Helper()
	cs, _ := clients(t)
	labels := map[string]string{"app": "orders"}
	one := int32(1)
	image := "registry.local/app:1"
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: image,
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
					ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
						HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")},
					}},
				}}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=orders"})
		if err == nil && len(pods.Items) > 0 {
			return
		}
	}
	t.Fatalf("no orders pod in %s after a minute", ns)
}

// bindWaypoint creates the waypoint Gateway, marks it Programmed (what
// istiod does once it runs) and labels the Service to use it.
func authzBindWaypoint(t *testing.T, ns, service string) {
	t.Helper()
	authzCreateObject(t, ns, `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, labels: {istio.io/waypoint-for: service}}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`)
	_, dyn := clients(t)
	res := dyn.Resource(schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}).Namespace(ns)
	gw, err := res.Get(ctx, "waypoint", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedSlice(gw.Object, []any{map[string]any{
		"type": "Programmed", "status": "True", "reason": "Programmed", "message": "set by the test",
		"lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": gw.GetGeneration(),
	}}, "status", "conditions")
	if _, err := res.UpdateStatus(ctx, gw, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	cs, _ := clients(t)
	patch := `{"metadata":{"labels":{"istio.io/use-waypoint":"waypoint"}}}`
	if _, err := cs.CoreV1().Services(ns).Patch(ctx, service, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// config is the policy letting frontend/web call methods on /api/* of
// orders. On istio-ambient it targets the Service (waypoint); elsewhere
// the pods by label.
func (f authzFixture) config(methods ...string) string {
	target := `{ workload_selector = { app = "orders" } }`
	switch f.target {
	case mesh.TargetIstioAmbient:
		target = `{ service = "orders" }`
	case mesh.TargetLinkerd:
		target = `{ workload_selector = { app = "orders" }, ports = [8080] }`
	}
	return providerConfig(string(f.target)) + fmt.Sprintf(`
resource "mesh_authorization" "test" {
  name      = %q
  namespace = %q
  target    = %s
  rules = [{
    from = [{ service_accounts = ["frontend/web"] }, { ip_blocks = ["10.0.0.0/8"] }]
    to   = [{ methods = ["%s"], paths = ["/api/*", "/status"] }]
  }]
}
`, authzName, f.ns, target, strings.Join(methods, `", "`))
}

// editLive changes the drift object the way `kubectl edit` does.
func (f authzFixture) editLive(t *testing.T) {
	t.Helper()
	id, err := kube.ParseKey(f.key)
	if err != nil {
		t.Fatal(err)
	}
	_, dyn := clients(t)
	res := dyn.Resource(authzGVR(t, id)).Namespace(id.Namespace)
	obj, err := res.Get(ctx, id.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The edits an attacker or a hurried operator would make: open the
	// Server up, flip the policy's action, widen its methods. The renderers
	// spell out the defaults (accessPolicy deny, action ALLOW) so that the
	// provider owns those fields and sees the change.
	if f.target == mesh.TargetLinkerd {
		_ = unstructured.SetNestedField(obj.Object, "all-unauthenticated", "spec", "accessPolicy")
		_ = unstructured.SetNestedField(obj.Object, "other", "spec", "podSelector", "matchLabels", "app")
	} else {
		_ = unstructured.SetNestedField(obj.Object, "AUDIT", "spec", "action")
		rules, _, _ := unstructured.NestedSlice(obj.Object, "spec", "rules")
		to := rules[0].(map[string]any)["to"].([]any)
		to[0].(map[string]any)["operation"].(map[string]any)["methods"] = []any{"DELETE"}
		_ = unstructured.SetNestedSlice(obj.Object, rules, "spec", "rules")
	}
	if _, err := res.Update(ctx, obj, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatalf("out-of-band edit of %s: %v", id, err)
	}
}

// driftPattern is what the plan shows once the edit is reverted.
func (f authzFixture) driftPattern() string {
	if f.target == mesh.TargetLinkerd {
		return `accessPolicy: deny\n(.*\n)*\s+app: orders`
	}
	return `action: ALLOW\n(.*\n)*\s+methods:\n\s+- GET\n\s+- POST`
}

func authzGVR(t *testing.T, id kube.ID) schema.GroupVersionResource {
	t.Helper()
	resources := map[string]string{
		"AuthorizationPolicy": "authorizationpolicies", "Server": "servers", "MeshTLSAuthentication": "meshtlsauthentications",
		"NetworkAuthentication": "networkauthentications", "HTTPRoute": "httproutes", "Gateway": "gateways",
	}
	r, ok := resources[id.Kind]
	if !ok {
		t.Fatalf("no resource known for kind %s", id.Kind)
	}
	return schema.GroupVersionResource{Group: id.Group, Version: id.Version, Resource: r}
}

// manifestKeys reads the manifest keys recorded in state.
func authzManifestKeys(s *terraform.State) []string {
	var keys []string
	for k := range s.RootModule().Resources[authzAddress].Primary.Attributes {
		if key, ok := strings.CutPrefix(k, "manifests."); ok && key != "%" {
			keys = append(keys, key)
		}
	}
	return keys
}

// checkOwned asserts every recorded object is live and carries the owner
// label; it returns their keys for checkGone.
func (f authzFixture) checkOwned(t *testing.T, s *terraform.State, want int) ([]string, error) {
	keys := authzManifestKeys(s)
	if len(keys) != want {
		return nil, fmt.Errorf("state records %d objects %v, want %d", len(keys), keys, want)
	}
	_, dyn := clients(t)
	owner := mesh.Owner("mesh_authorization", f.ns, authzName)
	for _, key := range keys {
		id, _ := kube.ParseKey(key)
		obj, err := dyn.Resource(authzGVR(t, id)).Namespace(id.Namespace).Get(ctx, id.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("get %s: %v", id, err)
		}
		if got := obj.GetLabels()[mesh.LabelOwner]; got != owner {
			return nil, fmt.Errorf("%s: owner label %q, want %q", id, got, owner)
		}
	}
	return keys, nil
}

func authzCheckGone(t *testing.T, keys []string) error {
	if len(keys) == 0 {
		return fmt.Errorf("no objects were recorded")
	}
	_, dyn := clients(t)
	for _, key := range keys {
		id, _ := kube.ParseKey(key)
		_, err := dyn.Resource(authzGVR(t, id)).Namespace(id.Namespace).Get(ctx, id.Name, metav1.GetOptions{})
		if err == nil {
			return fmt.Errorf("%s still exists after destroy", id)
		}
		if !strings.Contains(err.Error(), "not found") {
			return err
		}
	}
	return nil
}

// authzCreateObject creates an object from YAML in ns, as another tool would.
func authzCreateObject(t *testing.T, ns, y string) {
	t.Helper()
	obj, err := decodeYAML(y)
	if err != nil {
		t.Fatal(err)
	}
	obj.SetNamespace(ns)
	_, dyn := clients(t)
	id := kube.IDOf(obj)
	if _, err := dyn.Resource(authzGVR(t, id)).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
}
