package render_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

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
			got, err := render.ParseAuthorization(objs, want.Target, want.Cluster.LegacyPrincipals)
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
	got, err := render.ParseAuthorization(objs, written.Target, true)
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
	modern, err := render.ParseAuthorization(objs, written.Target, false)
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
		}})}, "spec.rules[0].from[0].source.notPrincipals is set, and mesh_authorization has no attribute for it"},
		"gateway targetRef": {[]*unstructured.Unstructured{policy(map[string]any{"targetRefs": []any{
			map[string]any{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "waypoint"},
		}})}, "spec.targetRefs must be one Service"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := render.ParseAuthorization(tt.objs, mesh.TargetIstioSidecar, false)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := render.ParseAuthorization(nil, mesh.TargetLinkerd, false); err == nil || !strings.Contains(err.Error(), "no Server") {
		t.Errorf("linkerd without a Server: %v", err)
	}
}
