package linkerd_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/linkerd"
	"github.com/meshform/terraform-provider-mesh/internal/meshtest"
)

func ordersAuthz(edit func(*mesh.Authorization)) mesh.Authorization {
	a := mesh.Authorization{
		Name:      "orders-allow",
		Namespace: "shop",
		Owner:     mesh.Owner("mesh_authorization", "shop", "orders-allow"),
		Target:    mesh.TargetLinkerd,
		Workload:  mesh.AuthzWorkload{Selector: map[string]string{"app": "orders"}, Ports: []int64{8080}},
		Rules: []mesh.AuthzRule{{
			From: []mesh.AuthzSource{{ServiceAccounts: []string{"frontend/web"}}},
		}},
	}
	edit(&a)
	a.Normalize()
	return a
}

var authzCases = map[string]mesh.Authorization{
	"authz_linkerd_server_per_port_sources": ordersAuthz(func(a *mesh.Authorization) {
		a.Workload.Ports = []int64{8080, 9090}
		a.Rules = []mesh.AuthzRule{
			{From: []mesh.AuthzSource{
				{ServiceAccounts: []string{"frontend/web", "frontend/admin"}, IPBlocks: []string{"10.0.0.0/8"}},
				{Namespaces: []string{"monitoring"}},
				{Authenticated: true},
			}, To: []mesh.AuthzOperation{{Ports: []int64{9090}}}},
			{From: []mesh.AuthzSource{{IPBlocks: []string{"192.168.0.0/16"}}}},
		}
	}),
	"authz_linkerd_httproute_with_probes": ordersAuthz(func(a *mesh.Authorization) {
		a.Rules = []mesh.AuthzRule{
			{
				From: []mesh.AuthzSource{{ServiceAccounts: []string{"frontend/web"}}},
				To:   []mesh.AuthzOperation{{Methods: []string{"GET", "HEAD"}, Paths: []string{"/api/*", "/status", "*.json", "~/v[0-9]+/.*"}}},
			},
			{To: []mesh.AuthzOperation{{Ports: []int64{8080}}}},
		}
		a.Cluster.ProbePaths = map[string][]string{"8080": {"/healthz", "/ready"}}
	}),
	"authz_linkerd_service_target_ports_dry_run": ordersAuthz(func(a *mesh.Authorization) {
		a.Workload = mesh.AuthzWorkload{Service: "orders"}
		a.Cluster.Selector = map[string]string{"app": "orders"}
		a.Cluster.ServicePorts = []intstr.IntOrString{intstr.FromInt32(8080), intstr.FromString("grpc")}
		a.DryRun = true
	}),
	"authz_linkerd_deny_all":  ordersAuthz(func(a *mesh.Authorization) { a.Rules, a.DenyAll = nil, true }),
	"authz_linkerd_allow_all": ordersAuthz(func(a *mesh.Authorization) { a.Rules, a.AllowAll = nil, true }),
}

func TestRenderAuthorizationGolden(t *testing.T) {
	for name, a := range authzCases {
		t.Run(name, func(t *testing.T) {
			if ps := a.Validate(); ps.HasErrors() {
				t.Fatalf("case is not a valid authorization: %+v", ps)
			}
			objs, err := linkerd.RenderAuthorization(a)
			if err != nil {
				t.Fatal(err)
			}
			meshtest.GoldenObjects(t, name, objs...)
		})
	}
}

// TestRenderAuthorizationDecodesStrictly decodes each object into the typed
// struct of its kind, rejecting unknown fields; the acceptance tests apply
// them with fieldValidation=Strict against the real Linkerd CRDs.
func TestRenderAuthorizationDecodesStrictly(t *testing.T) {
	for name, a := range authzCases {
		objs, err := linkerd.RenderAuthorization(a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, obj := range objs {
			if err := decodeStrictly(obj); err != nil {
				t.Errorf("%s: %s %s: %v", name, obj.GetKind(), obj.GetName(), err)
			}
		}
	}
}

// TestRenderAuthorizationOrder puts what policies refer to first, so that
// an apply in order never has a dangling reference.
func TestRenderAuthorizationOrder(t *testing.T) {
	objs, err := linkerd.RenderAuthorization(authzCases["authz_linkerd_httproute_with_probes"])
	if err != nil {
		t.Fatal(err)
	}
	rank := map[string]int{"Server": 0, "MeshTLSAuthentication": 1, "NetworkAuthentication": 1, "HTTPRoute": 2, "AuthorizationPolicy": 3}
	for i := 1; i < len(objs); i++ {
		if rank[objs[i].GetKind()] < rank[objs[i-1].GetKind()] {
			t.Errorf("%s %s comes after %s %s", objs[i].GetKind(), objs[i].GetName(), objs[i-1].GetKind(), objs[i-1].GetName())
		}
	}
}

func TestRenderAuthorizationProbesOnlyWithRoutes(t *testing.T) {
	a := ordersAuthz(func(a *mesh.Authorization) { a.Cluster.ProbePaths = map[string][]string{"8080": {"/healthz"}} })
	objs, err := linkerd.RenderAuthorization(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range objs {
		if obj.GetKind() == "HTTPRoute" {
			t.Errorf("rendered %s without L7 rules: Linkerd authorizes probes itself while a Server has no routes", obj.GetName())
		}
	}
}

func decodeStrictly(obj *unstructured.Unstructured) error {
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return err
	}
	var into any
	switch obj.GetKind() {
	case "Server":
		into = &linkerd.Server{}
	case "AuthorizationPolicy":
		into = &linkerd.AuthorizationPolicy{}
	case "MeshTLSAuthentication":
		into = &linkerd.MeshTLSAuthentication{}
	case "NetworkAuthentication":
		into = &linkerd.NetworkAuthentication{}
	case "HTTPRoute":
		into = &gwv1.HTTPRoute{}
	default:
		return fmt.Errorf("unexpected kind %s", obj.GetKind())
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(into)
}
