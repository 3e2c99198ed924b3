package provider

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

const (
	mirrorName    = "reviews-mirror"
	mirrorAddress = "mesh_mirror_route.test"
)

// mirrorFixture is one rendering of the same mirror: requests to reviews go
// to reviews-v1, and a share of them is copied to reviews-v2. It reuses the
// split fixture's namespace and workloads.
type mirrorFixture struct {
	splitFixture
	gatewayAPI bool // istio_api = "gateway_api" on istio-sidecar
	match      bool // mirror only x-mirror: yes
}

func newMirrorFixture(t *testing.T, target mesh.Target, gatewayAPI, match bool) mirrorFixture {
	t.Helper()
	f := mirrorFixture{splitFixture: newSplitFixture(t, target), gatewayAPI: gatewayAPI, match: match}
	key := func(apiVersion, kind, name string) string {
		return fmt.Sprintf("%s/%s/%s/%s", apiVersion, kind, f.ns, name)
	}
	switch {
	case target == mesh.TargetIstioSidecar && !gatewayAPI:
		f.route = key("networking.istio.io/v1", "VirtualService", mirrorName)
		f.keys = []string{f.route}
	case target == mesh.TargetIstioAmbient:
		f.route = key("gateway.networking.k8s.io/v1", "HTTPRoute", mirrorName)
		f.keys = []string{key("gateway.networking.k8s.io/v1", "Gateway", "waypoint"), key("v1", "Service", "reviews"), f.route}
	default:
		f.route = key("gateway.networking.k8s.io/v1", "HTTPRoute", mirrorName)
		f.keys = []string{f.route}
	}
	return f
}

// config mirrors percentage % of the requests to reviews-v2.
func (f mirrorFixture) config(percentage float64) string {
	extra := ""
	if f.target == mesh.TargetIstioAmbient {
		extra += "  ambient_waypoint = { mode = \"create\" }\n"
	}
	if f.gatewayAPI {
		extra += "  istio_api = \"gateway_api\"\n"
	}
	if f.match {
		extra += "  match = { headers = [{ name = \"x-mirror\", value = \"yes\" }] }\n"
	}
	return providerConfig(string(f.target)) + fmt.Sprintf(`
resource "mesh_mirror_route" "test" {
  name       = %q
  namespace  = %q
  service    = "reviews"
  port       = 9080
  primary    = { service = "reviews-v1" }
  mirror     = { service = "reviews-v2", port = 9080 }
  percentage = %g
%s}
`, mirrorName, f.ns, percentage, extra)
}

// mirrorPolicies returns the live mirror entries of the route, not copies:
// the mirrors of every VirtualService http route, or the requestMirror of
// every HTTPRoute filter.
func mirrorPolicies(obj *unstructured.Unstructured) []map[string]any {
	list := func(obj map[string]any, path ...string) []any {
		v, _, _ := unstructured.NestedFieldNoCopy(obj, path...)
		l, _ := v.([]any)
		return l
	}
	var out []map[string]any
	if obj.GetKind() == "VirtualService" {
		for _, r := range list(obj.Object, "spec", "http") {
			for _, m := range list(r.(map[string]any), "mirrors") {
				out = append(out, m.(map[string]any))
			}
		}
		return out
	}
	for _, r := range list(obj.Object, "spec", "rules") {
		for _, f := range list(r.(map[string]any), "filters") {
			if rm, ok := f.(map[string]any)["requestMirror"].(map[string]any); ok {
				out = append(out, rm)
			}
		}
	}
	return out
}

// livePercentage is the mirror percentage the live route carries.
func (f mirrorFixture) livePercentage(t *testing.T) (float64, error) {
	t.Helper()
	policies := mirrorPolicies(getObject(t, f.routeID(t)))
	if len(policies) != 1 {
		return 0, fmt.Errorf("%s has %d mirrors, want 1", f.route, len(policies))
	}
	return policyPercentage(policies[0]), nil
}

func policyPercentage(p map[string]any) float64 {
	if v, ok, _ := unstructured.NestedFieldNoCopy(p, "percentage", "value"); ok {
		return asFloat(v)
	}
	if v, ok := p["percent"]; ok {
		return asFloat(v)
	}
	if fr, ok := p["fraction"].(map[string]any); ok {
		return 100 * asFloat(fr["numerator"]) / asFloat(fr["denominator"])
	}
	return 100
}

func asFloat(v any) float64 {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case float64:
		return n
	}
	return -1
}

func (f mirrorFixture) expectPercentage(t *testing.T, want float64) error {
	got, err := f.livePercentage(t)
	if err == nil && got != want {
		err = fmt.Errorf("live mirror percentage %g, want %g", got, want)
	}
	return err
}

// editPercentage sets the live mirror percentage to 99 the way `kubectl
// edit` does.
func (f mirrorFixture) editPercentage(t *testing.T) {
	t.Helper()
	id := f.routeID(t)
	obj := getObject(t, id)
	for _, p := range mirrorPolicies(obj) {
		if obj.GetKind() == "VirtualService" {
			p["percentage"] = map[string]any{"value": int64(99)}
			continue
		}
		delete(p, "fraction")
		p["percent"] = int64(99)
	}
	_, dyn := clients(t)
	if _, err := dyn.Resource(gvr(t, id)).Namespace(id.Namespace).Update(ctx, obj, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatalf("out-of-band edit of %s: %v", id, err)
	}
}

// checkOwned asserts the objects exist and carry the mirror route's owner.
func (f mirrorFixture) checkOwned(t *testing.T) error {
	for _, key := range f.keys {
		id, err := kube.ParseKey(key)
		if err != nil {
			return err
		}
		obj := getObject(t, id)
		if id.Kind == "Service" {
			continue
		}
		want := mesh.Owner("mesh_mirror_route", f.ns, mirrorName)
		if got := obj.GetLabels()[mesh.LabelOwner]; got != want {
			return fmt.Errorf("%s: owner label %q, want %q", id, got, want)
		}
	}
	return nil
}
