package istio_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	securityapi "istio.io/api/security/v1beta1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/istio"
	"github.com/meshform/terraform-provider-mesh/internal/meshtest"
)

// ordersAuthz is the policy of MESH-MAPPING §5.2, before edit and Normalize.
func ordersAuthz(target mesh.Target, edit func(*mesh.Authorization)) mesh.Authorization {
	a := mesh.Authorization{
		Name:      "orders-allow",
		Namespace: "shop",
		Owner:     mesh.Owner("mesh_authorization", "shop", "orders-allow"),
		Target:    target,
		Workload:  mesh.AuthzWorkload{Selector: map[string]string{"app": "orders"}},
		Rules: []mesh.AuthzRule{{
			From: []mesh.AuthzSource{{ServiceAccounts: []string{"frontend/web"}}},
			To:   []mesh.AuthzOperation{{Ports: []int64{8080}, Methods: []string{"GET"}, Paths: []string{"/api", "/api/*"}}},
			When: []mesh.AuthzCondition{{Key: "request.headers[x-tenant]", Values: []string{"acme"}}},
		}},
	}
	edit(&a)
	a.Normalize()
	return a
}

// onService targets the orders Service, whose selector the provider looked up.
func onService(a *mesh.Authorization) {
	a.Workload = mesh.AuthzWorkload{Service: "orders"}
	a.Cluster.Selector = map[string]string{"app": "orders", "tier": "backend"}
}

var authzCases = map[string]mesh.Authorization{
	"authz_sidecar_service_accounts": ordersAuthz(mesh.TargetIstioSidecar, func(*mesh.Authorization) {}),
	"authz_sidecar_service_selector_sources": ordersAuthz(mesh.TargetIstioSidecar, func(a *mesh.Authorization) {
		onService(a)
		a.Action = mesh.AuthzDeny
		a.Rules = []mesh.AuthzRule{{
			From: []mesh.AuthzSource{
				{Namespaces: []string{"legacy"}, Authenticated: true},
				{IPBlocks: []string{"203.0.113.0/24"}},
				{Principals: []string{"cluster.local/ns/batch/sa/cron"}, Authenticated: true},
			},
			To: []mesh.AuthzOperation{{Ports: []int64{8080, 9090}}},
		}}
	}),
	"authz_sidecar_deny_all": ordersAuthz(mesh.TargetIstioSidecar, func(a *mesh.Authorization) {
		a.Rules, a.DenyAll = nil, true
	}),
	"authz_sidecar_allow_all_dry_run": ordersAuthz(mesh.TargetIstioSidecar, func(a *mesh.Authorization) {
		a.Rules, a.AllowAll, a.DryRun = nil, true, true
	}),
	"authz_sidecar_custom_provider": ordersAuthz(mesh.TargetIstioSidecar, func(a *mesh.Authorization) {
		a.Action, a.CustomProvider = mesh.AuthzCustom, "ext-authz"
		a.Rules = []mesh.AuthzRule{{To: []mesh.AuthzOperation{{Paths: []string{"/admin/*"}}}}}
	}),
	"authz_ambient_ztunnel_l4": ordersAuthz(mesh.TargetIstioAmbient, func(a *mesh.Authorization) {
		a.Rules = []mesh.AuthzRule{{
			From: []mesh.AuthzSource{{ServiceAccounts: []string{"frontend/web"}}},
			To:   []mesh.AuthzOperation{{Ports: []int64{8080}}},
			When: []mesh.AuthzCondition{{Key: "source.ip", Values: []string{"10.0.0.0/8"}}},
		}}
	}),
	"authz_sidecar_legacy_principals": ordersAuthz(mesh.TargetIstioSidecar, func(a *mesh.Authorization) {
		a.Cluster.LegacyPrincipals = true
		a.Rules[0].From = []mesh.AuthzSource{
			{ServiceAccounts: []string{"frontend/web", "frontend/admin"}},
			{ServiceAccounts: []string{"batch/cron"}, IPBlocks: []string{"10.0.0.0/8"}},
			{Namespaces: []string{"ops"}, Authenticated: true},
		}
	}),
	"authz_ambient_waypoint_l7": ordersAuthz(mesh.TargetIstioAmbient, func(a *mesh.Authorization) {
		a.Workload = mesh.AuthzWorkload{Service: "orders"}
	}),
}

func TestRenderAuthorizationGolden(t *testing.T) {
	for name, a := range authzCases {
		t.Run(name, func(t *testing.T) {
			if ps := a.Validate(); ps.HasErrors() {
				t.Fatalf("case is not a valid authorization: %+v", ps)
			}
			objs, err := istio.RenderAuthorization(a)
			if err != nil {
				t.Fatal(err)
			}
			meshtest.GoldenObjects(t, name, objs...)
		})
	}
}

// TestRenderAuthorizationDecodesStrictly guards against fields the API
// server would reject under fieldValidation=Strict.
func TestRenderAuthorizationDecodesStrictly(t *testing.T) {
	for name, a := range authzCases {
		objs, err := istio.RenderAuthorization(a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, obj := range objs {
			data, _ := json.Marshal(obj.Object)
			var env envelope
			if err := strictJSON(data, &env); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			if err := strictProto(env.Spec, &securityapi.AuthorizationPolicy{}); err != nil {
				t.Errorf("%s: %s %s: %v", name, obj.GetKind(), obj.GetName(), err)
			}
		}
	}
}

func TestRenderAuthorizationNeedsSelector(t *testing.T) {
	a := ordersAuthz(mesh.TargetIstioSidecar, func(a *mesh.Authorization) { a.Workload = mesh.AuthzWorkload{Service: "orders"} })
	if _, err := istio.RenderAuthorization(a); err == nil {
		t.Error("rendered a target.service policy without the Service's selector; want an error")
	}
}

// TestRenderAuthorizationLegacyPrincipals: on Istio < 1.25 service accounts
// merge into the source's principals, which Istio may AND with namespaces;
// the serviceAccounts form must not be mixed (the CRD's CEL rule rejects it).
func TestRenderAuthorizationLegacyPrincipals(t *testing.T) {
	mixed := func(legacy bool) mesh.Authorization {
		return ordersAuthz(mesh.TargetIstioSidecar, func(a *mesh.Authorization) {
			a.Cluster.LegacyPrincipals = legacy
			a.Rules[0].From = []mesh.AuthzSource{{
				ServiceAccounts: []string{"frontend/web", "batch/cron"},
				Principals:      []string{"example.org/ns/batch/sa/cron", "cluster.local/ns/batch/sa/cron"},
				Namespaces:      []string{"frontend", "batch"},
				Authenticated:   true,
			}}
		})
	}
	objs, err := istio.RenderAuthorization(mixed(true))
	if err != nil {
		t.Fatal(err)
	}
	rules, _, _ := unstructured.NestedSlice(objs[0].Object, "spec", "rules")
	got, _, _ := unstructured.NestedMap(rules[0].(map[string]any)["from"].([]any)[0].(map[string]any), "source")
	want := map[string]any{
		"principals": []any{"cluster.local/ns/frontend/sa/web", "cluster.local/ns/batch/sa/cron", "example.org/ns/batch/sa/cron"},
		"namespaces": []any{"frontend", "batch"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("legacy source (-want +got):\n%s", diff)
	}
	if _, err := istio.RenderAuthorization(mixed(false)); err == nil || !strings.Contains(err.Error(), "rules[0].from[0]: cannot set serviceAccounts with namespaces or principals") {
		t.Errorf("serviceAccounts mixed with principals rendered: error %v", err)
	}
}
