package render_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/render"
)

func authz(target mesh.Target, edit func(*mesh.Authorization)) mesh.Authorization {
	a := mesh.Authorization{
		Name: "orders-allow", Namespace: "shop", Target: target,
		Owner:    mesh.Owner("mesh_authorization", "shop", "orders-allow"),
		Workload: mesh.AuthzWorkload{Selector: map[string]string{"app": "orders"}},
		Rules: []mesh.AuthzRule{{
			From: []mesh.AuthzSource{{ServiceAccounts: []string{"frontend/web"}}, {Namespaces: []string{"ops"}, Authenticated: true}},
			To:   []mesh.AuthzOperation{{Ports: []int64{8080}, Methods: []string{"GET"}, Paths: []string{"/api/*"}}},
		}},
	}
	if target == mesh.TargetLinkerd {
		a.Workload.Ports = []int64{8080}
		a.Rules[0].From[1].Namespaces = nil
	}
	edit(&a)
	a.Normalize()
	return a
}

func authzRoundTripCases() map[string]mesh.Authorization {
	sidecar, ambient, linkerd := mesh.TargetIstioSidecar, mesh.TargetIstioAmbient, mesh.TargetLinkerd
	none := func(*mesh.Authorization) {}
	return map[string]mesh.Authorization{
		"sidecar rules": authz(sidecar, func(a *mesh.Authorization) {
			a.Rules[0].When = []mesh.AuthzCondition{{Key: "request.headers[x-tenant]", Values: []string{"acme"}}}
		}),
		"sidecar deny_all dry_run": authz(sidecar, func(a *mesh.Authorization) { a.Rules, a.DenyAll, a.DryRun = nil, true, true }),
		"sidecar allow_all":        authz(sidecar, func(a *mesh.Authorization) { a.Rules, a.AllowAll = nil, true }),
		"sidecar custom": authz(sidecar, func(a *mesh.Authorization) {
			a.Action, a.CustomProvider = mesh.AuthzCustom, "ext-authz"
		}),
		"ambient ztunnel": authz(ambient, func(a *mesh.Authorization) {
			a.Action = mesh.AuthzDeny
			a.Rules[0].To = []mesh.AuthzOperation{{Ports: []int64{8080}}}
			a.Rules[0].From = []mesh.AuthzSource{{IPBlocks: []string{"10.0.0.0/8"}, Principals: []string{"cluster.local/ns/a/sa/b"}}}
		}),
		"sidecar legacy principals": authz(sidecar, func(a *mesh.Authorization) {
			a.Cluster.LegacyPrincipals = true
			a.Rules[0].From[0].ServiceAccounts = []string{"frontend/web", "frontend/admin"}
			a.Rules[0].From = append(a.Rules[0].From,
				mesh.AuthzSource{ServiceAccounts: []string{"batch/cron"}, IPBlocks: []string{"10.0.0.0/8"}},
				mesh.AuthzSource{Principals: []string{"example.org/ns/batch/sa/cron"}})
		}),
		"ambient ztunnel legacy principals": authz(ambient, func(a *mesh.Authorization) {
			a.Cluster.LegacyPrincipals = true
			a.Rules[0].To = []mesh.AuthzOperation{{Ports: []int64{8080}}}
		}),
		"ambient waypoint": authz(ambient, func(a *mesh.Authorization) { a.Workload = mesh.AuthzWorkload{Service: "orders"} }),
		"linkerd rules":    authz(linkerd, none),
		"linkerd service": authz(linkerd, func(a *mesh.Authorization) {
			a.Workload = mesh.AuthzWorkload{Service: "orders", Ports: []int64{8080}}
			a.Cluster.Selector = map[string]string{"app": "orders"}
		}),
		"linkerd allow_all dry_run": authz(linkerd, func(a *mesh.Authorization) { a.Rules, a.AllowAll, a.DryRun = nil, true, true }),
		"linkerd probes": authz(linkerd, func(a *mesh.Authorization) {
			a.Cluster.ProbePaths = map[string][]string{"8080": {"/healthz", "/ready"}}
		}),
		"linkerd service named port": authz(linkerd, func(a *mesh.Authorization) {
			a.Workload = mesh.AuthzWorkload{Service: "orders"}
			a.Cluster.Selector = map[string]string{"app": "orders"}
			a.Cluster.ServicePorts = []intstr.IntOrString{intstr.FromString("http"), intstr.FromInt32(9090)}
		}),
	}
}

// TestAuthorizationRoundTrip: parsing the rendered objects gives back the
// intent, so that an import followed by a plan is empty.
func TestAuthorizationRoundTrip(t *testing.T) {
	for name, want := range authzRoundTripCases() {
		t.Run(name, func(t *testing.T) {
			objs, err := render.Authorization(want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := render.ParseAuthorization(objs, want.Target, want.Name, want.Cluster.LegacyPrincipals)
			if err != nil {
				t.Fatal(err)
			}
			got.Name, got.Owner = want.Name, want.Owner
			if want.Workload.Service != "" {
				got.Cluster = want.Cluster // looked up again by the provider
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ParseAuthorization(Authorization(a)) (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAuthorizationLegacyPrincipalsImport: with legacy principals a
// hand-written "cluster.local/ns/<ns>/sa/<sa>" principal imports as the
// service account it names, which renders the same object again; without
// them it stays a principal.
func TestAuthorizationLegacyPrincipalsImport(t *testing.T) {
	written := authz(mesh.TargetIstioSidecar, func(a *mesh.Authorization) {
		a.Cluster.LegacyPrincipals = true
		a.Rules[0].From = []mesh.AuthzSource{{Principals: []string{"cluster.local/ns/frontend/sa/web", "example.org/ns/x/sa/y"}}}
	})
	objs, err := render.Authorization(written)
	if err != nil {
		t.Fatal(err)
	}
	got, err := render.ParseAuthorization(objs, written.Target, written.Name, true)
	if err != nil {
		t.Fatal(err)
	}
	want := mesh.AuthzSource{ServiceAccounts: []string{"frontend/web"}, Principals: []string{"example.org/ns/x/sa/y"}}
	if diff := cmp.Diff(want, got.Rules[0].From[0]); diff != "" {
		t.Errorf("imported source (-want +got):\n%s", diff)
	}
	got.Owner = written.Owner
	again, err := render.Authorization(got)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(objs, again); diff != "" {
		t.Errorf("re-rendered import differs (-first +again):\n%s", diff)
	}
	modern, err := render.ParseAuthorization(objs, written.Target, written.Name, false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(written.Rules[0].From[0], modern.Rules[0].From[0]); diff != "" {
		t.Errorf("without legacy principals (-want +got):\n%s", diff)
	}
}

func TestParseAuthorizationRejects(t *testing.T) {
	policy := func(spec map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
			"metadata": map[string]any{"name": "p", "namespace": "shop"}, "spec": spec,
		}}
	}
	sel := map[string]any{"matchLabels": map[string]any{"app": "orders"}}
	tests := map[string]struct {
		objs []*unstructured.Unstructured
		want string
	}{
		"no policy": {nil, "exactly one AuthorizationPolicy"},
		"namespace-wide": {[]*unstructured.Unstructured{policy(map[string]any{})},
			"spec.selector.matchLabels is empty"},
		"notPrincipals": {[]*unstructured.Unstructured{policy(map[string]any{"selector": sel, "rules": []any{
			map[string]any{"from": []any{map[string]any{"source": map[string]any{"notPrincipals": []any{"x"}}}}},
		}})}, `spec.rules[0].from[0].source.notPrincipals is set to ["x"], and mesh_authorization has no attribute for it`},
		"gateway targetRef": {[]*unstructured.Unstructured{policy(map[string]any{"targetRefs": []any{
			map[string]any{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "waypoint"},
		}})}, "spec.targetRefs must be one Service"},
		"notPaths, unknown to the type": {[]*unstructured.Unstructured{policy(map[string]any{"selector": sel, "rules": []any{
			map[string]any{"to": []any{map[string]any{"operation": map[string]any{"notPath": []any{"/x"}}}}},
		}})}, "spec.rules[0].to[0].operation.notPath is set to [\"/x\"], and mesh_authorization has no attribute for it"},
		"an empty rule besides others": {[]*unstructured.Unstructured{policy(map[string]any{"selector": sel, "action": "DENY", "rules": []any{
			map[string]any{}, map[string]any{"from": []any{map[string]any{"source": map[string]any{"namespaces": []any{"ops"}}}}},
		}})}, ""},
		"unknown action": {[]*unstructured.Unstructured{policy(map[string]any{"selector": sel, "action": "LOG"})},
			`spec.action is "LOG", which this provider's Action does not define`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := render.ParseAuthorization(tt.objs, mesh.TargetIstioSidecar, "p", false)
			if tt.want == "" {
				if err != nil {
					t.Errorf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := render.ParseAuthorization(nil, mesh.TargetLinkerd, "p", false); err == nil || !strings.Contains(err.Error(), "no Server") {
		t.Errorf("linkerd without a Server: %v", err)
	}
}

// TestParseAuthorizationAmbientSelectorWithHTTP: on istio-ambient a policy
// with HTTP attributes renders with targetRefs (the waypoint enforces it),
// so a selector-bound one, which ztunnel cannot enforce, is not what the
// resource would write, and the second rendering says so.
func TestParseAuthorizationAmbientSelectorWithHTTP(t *testing.T) {
	objs, err := render.Authorization(authz(mesh.TargetIstioSidecar, func(*mesh.Authorization) {}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = render.ParseAuthorization(objs, mesh.TargetIstioAmbient, "orders-allow", false)
	want := "spec.selector is set to"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want one containing %q", err, want)
	}
}

// TestParseLinkerdAuthorizationProvesTheObjectSet: the Servers' annotation
// is the intent, and every owned object must be what it renders: an object
// it does not render, one it renders that is missing, and an edited spec
// are each an error naming the object.
func TestParseLinkerdAuthorizationProvesTheObjectSet(t *testing.T) {
	a := authz(mesh.TargetLinkerd, func(a *mesh.Authorization) {
		a.Cluster.ProbePaths = map[string][]string{"8080": {"/healthz"}}
	})
	rendered, err := render.Authorization(a)
	if err != nil {
		t.Fatal(err)
	}
	find := func(objs []*unstructured.Unstructured, kind string) int {
		for i, o := range objs {
			if o.GetKind() == kind {
				return i
			}
		}
		t.Fatalf("no %s rendered", kind)
		return -1
	}
	copyOf := func() []*unstructured.Unstructured {
		out := make([]*unstructured.Unstructured, len(rendered))
		for i, o := range rendered {
			out[i] = o.DeepCopy()
		}
		return out
	}
	cases := map[string]struct {
		edit func([]*unstructured.Unstructured) []*unstructured.Unstructured
		want string
	}{
		"as rendered, with API-server defaults": {func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			_ = unstructured.SetNestedField(objs[0].Object, "unknown", "spec", "proxyProtocol")
			_ = unstructured.SetNestedField(objs[0].Object, map[string]any{}, "status")
			return objs
		}, ""},
		"an extra owned object": {func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			extra := objs[find(objs, "NetworkAuthentication")].DeepCopy()
			extra.SetName("orders-allow-extra")
			return append(objs, extra)
		}, "NetworkAuthentication shop/orders-allow-extra carries the owner label, and the rules its Servers record do not render it: importing would delete it"},
		"a missing policy": {func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			i := find(objs, "AuthorizationPolicy")
			return append(objs[:i], objs[i+1:]...)
		}, "is not live, and the rules its Servers record render it: importing would create it"},
		"an edited policy": {func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			i := find(objs, "AuthorizationPolicy")
			_ = unstructured.SetNestedSlice(objs[i].Object, []any{}, "spec", "requiredAuthenticationRefs")
			return objs
		}, "spec.requiredAuthenticationRefs is not set, and mesh_authorization would set it to"},
		"a probe path added out of band": {func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			for _, o := range objs {
				if o.GetName() == "orders-allow-probes-8080" && o.GetKind() == "HTTPRoute" {
					rules, _, _ := unstructured.NestedSlice(o.Object, "spec", "rules")
					rules[0].(map[string]any)["matches"] = append(rules[0].(map[string]any)["matches"].([]any),
						map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/admin"}})
					_ = unstructured.SetNestedSlice(o.Object, rules, "spec", "rules")
				}
			}
			return objs
		}, `HTTPRoute shop/orders-allow-probes-8080 cannot be imported losslessly: spec.rules[0].matches[1].method is not set, and mesh_authorization would set it to "GET"`},
		"an unknown rules field": {func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			objs[0].SetAnnotations(map[string]string{"mesh.terraform.io/authorization-rules": `{"action":"ALLOW","ports":[8080],"priority":1}`})
			return objs
		}, `is not the rules mesh_authorization writes: json: unknown field "priority"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := render.ParseAuthorization(c.edit(copyOf()), mesh.TargetLinkerd, a.Name, false)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
