package provider

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
)

// authzHCL is a mesh_authorization in ns with the given body lines.
func authzHCL(ns, body string) string {
	return fmt.Sprintf(`
resource "mesh_authorization" "test" {
  name      = %q
  namespace = %q
%s
}
`, authzName, ns, body)
}

const (
	authzSelector = `
  target = { workload_selector = { app = "orders" } }`
	authzLinkerdSelector = `
  target = { workload_selector = { app = "orders" }, ports = [8080] }`
	authzWebRule = `
  rules = [{ from = [{ service_accounts = ["frontend/web"] }] }]`
)

// Pure-config checks (ValidateConfig), through the real terraform binary.
func TestAccAuthorization_ConfigErrors(t *testing.T) {
	testAccPreCheck(t)
	cases := []struct {
		name, target, body, want string
	}{
		{"allow without rules", "istio-sidecar", authzSelector,
			`MESH-AUTHZ-001[\s\S]*an ALLOW policy without rules matches nothing and denies all traffic[\s\S]*deny_all = true`},
		{"deny without rules", "istio-sidecar", authzSelector + `
  action = "DENY"`,
			`MESH-AUTHZ-002[\s\S]*DENY action without rules is meaningless`},
		{"custom without provider", "istio-sidecar", authzSelector + authzWebRule + `
  action = "CUSTOM"`,
			"MESH-AUTHZ-003[\\s\\S]*`provider.name` must not be empty"},
		{"custom with identities", "istio-sidecar", authzSelector + authzWebRule + `
  action          = "CUSTOM"
  custom_provider = "ext-authz"`,
			`MESH-AUTHZ-004[\s\S]*From.ServiceAccounts is currently not supported with CUSTOM action \(rules\[0\]\.from\[0\]\.service_accounts\)`},
		{"spiffe principal", "istio-sidecar", authzSelector + `
  rules = [{ from = [{ principals = ["spiffe://cluster.local/ns/a/sa/b"] }] }]`,
			`MESH-AUTHZ-005[\s\S]*without the "spiffe://" scheme`},
		{"service accounts with namespaces", "istio-ambient", authzSelector + `
  rules = [{ from = [{ service_accounts = ["a/b"], namespaces = ["a"] }] }]`,
			`MESH-AUTHZ-006[\s\S]*cannot set serviceAccounts with namespaces or principals, found at rule 0`},
		{"ambient L7 on a selector", "istio-ambient", authzSelector + `
  rules = [{ to = [{ methods = ["GET"] }] }]`,
			`MESH-AUTHZ-007[\s\S]*ztunnel does not support HTTP attributes \(found: rules\[0\]\.to\[0\]\.methods\)`},
		{"linkerd deny", "linkerd", authzLinkerdSelector + authzWebRule + `
  action = "DENY"`,
			`MESH-AUTHZ-010[\s\S]*Linkerd authorization is allow-list only`},
		{"linkerd when", "linkerd", authzLinkerdSelector + `
  rules = [{ when = [{ key = "source.ip", values = ["10.0.0.1"] }] }]`,
			`MESH-AUTHZ-011[\s\S]*when is not supported by Linkerd`},
		{"linkerd principals", "linkerd", authzLinkerdSelector + `
  rules = [{ from = [{ principals = ["cluster.local/ns/a/sa/b"] }] }]`,
			`MESH-AUTHZ-011[\s\S]*principals is not supported by Linkerd`},
		{"regex path on istio", "istio-sidecar", authzSelector + `
  rules = [{ to = [{ paths = ["~/v[0-9]+"] }] }]`,
			`MESH-AUTHZ-017[\s\S]*not regular expressions`},
		{"empty source", "istio-sidecar", authzSelector + `
  rules = [{ from = [{}] }]`,
			"MESH-AUTHZ-023[\\s\\S]*`from.source` must not be empty, found at rule 0"},
		{"empty operation", "linkerd", authzLinkerdSelector + `
  rules = [{ to = [{}] }]`,
			"MESH-AUTHZ-023[\\s\\S]*`to.operation` must not be empty, found at rule 0"},
		{"linkerd mixed identity kinds", "linkerd", authzLinkerdSelector + `
  rules = [{ from = [{ namespaces = ["a"], authenticated = true }] }]`,
			`MESH-AUTHZ-024[\s\S]*split this source into separate from\[\] entries`},
		{"deny_all and allow_all", "istio-sidecar", authzSelector + `
  deny_all  = true
  allow_all = true`,
			`MESH-AUTHZ-025[\s\S]*deny_all and allow_all contradict each other`},
		{"deny_all with rules", "istio-sidecar", authzSelector + authzWebRule + `
  deny_all = true`,
			`MESH-AUTHZ-025[\s\S]*deny_all and allow_all replace rules`},
		{"selector and service", "istio-sidecar", `
  target = { workload_selector = { app = "orders" }, service = "orders" }` + authzWebRule,
			`MESH-AUTHZ-026[\s\S]*exactly one of workload_selector`},
		{"neither selector nor service", "istio-sidecar", `
  target = {}` + authzWebRule,
			`MESH-AUTHZ-026[\s\S]*exactly one of workload_selector`},
		{"linkerd without ports", "linkerd", authzSelector + authzWebRule,
			`MESH-AUTHZ-026[\s\S]*target.ports is required with workload_selector`},
		{"bad service account", "linkerd", authzLinkerdSelector + `
  rules = [{ from = [{ service_accounts = ["web"] }] }]`,
			`MESH-AUTHZ-027[\s\S]*"<namespace>/<service-account>"`},
		{"dry_run with audit", "istio-sidecar", authzSelector + authzWebRule + `
  action  = "AUDIT"
  dry_run = true`,
			`MESH-AUTHZ-021[\s\S]*only supports action ALLOW/DENY`},
		{"unknown action", "istio-sidecar", authzSelector + authzWebRule + `
  action = "LOG"`,
			`action value must be one of`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			config := providerConfig("istio-sidecar") + authzHCL("default", c.body+fmt.Sprintf("\n  mesh_target = %q", c.target))
			expectPlanError(t, config, c.want)
		})
	}
	t.Run("no target anywhere names mesh_target", func(t *testing.T) {
		config := fmt.Sprintf("provider \"mesh\" {\n  kubeconfig_path = %q\n}\n", providerKubeconfig()) + authzHCL("default", authzSelector+authzWebRule)
		expectPlanError(t, config, `No target data plane[\s\S]*Set mesh_target on this resource or target on the provider`)
	})
	t.Run("provider target validates at plan", func(t *testing.T) {
		expectPlanError(t, providerConfig("linkerd")+authzHCL("default", authzLinkerdSelector+authzWebRule+`
  action = "CUSTOM"
  custom_provider = "ext"`), `MESH-AUTHZ-010`)
	})
}

// Cluster checks (ModifyPlan), each against a namespace set up to trip it.
func TestAccAuthorization_ClusterErrors(t *testing.T) {
	testAccPreCheck(t)
	ns := testNamespace(t, map[string]string{"istio.io/dataplane-mode": "ambient"})
	kubetest.Service(t, cluster.Config, ns, "orders", map[string]string{"app": "orders"}, 8080)
	kubetest.Deployment(t, cluster.Config, ns, "orders", map[string]string{"app": "orders"}, 1)
	authzCreateObject(t, ns, `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: hand-written}
spec:
  podSelector: {matchLabels: {app: orders}}
  port: 8080
`)
	cs, _ := clients(t)
	web := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "orders"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
	bound := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "bound", Labels: map[string]string{"istio.io/use-waypoint": "waypoint"}},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "orders"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}},
	}
	for _, svc := range []*corev1.Service{web, bound} {
		if _, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, target, body, want string
	}{
		{"ambient waypoint rules without a waypoint", "istio-ambient", `
  target = { service = "orders" }
  rules  = [{ to = [{ paths = ["/api/*"] }] }]`,
			`MESH-AUTHZ-008[\s\S]*Service ` + ns + `/orders is not bound to a waypoint; a policy attached with targetRefs would not be enforced`},
		{"unmanaged linkerd server on the port", "linkerd", `
  target = { service = "orders" }` + authzWebRule,
			`MESH-AUTHZ-013[\s\S]*Server ` + ns + `/hand-written already selects port 8080 on these pods`},
		{"service port in to.ports", "istio-sidecar", `
  target = { service = "web" }
  rules  = [{ to = [{ ports = [80] }] }]`,
			`MESH-AUTHZ-015[\s\S]*ports are workload \(container\) ports; Service web port 80 targets 8080[\s\S]*rules\[0\]\.to\[0\]\.ports\[0\] = 80[\s\S]*use 8080`},
		{"ztunnel policy blocking the waypoint", "istio-ambient", `
  target = { workload_selector = { app = "orders" } }` + authzWebRule,
			`MESH-AUTHZ-009[\s\S]*traffic through waypoint ` + ns + `/waypoint reaches the pods of Service ` + ns + `/bound with the waypoint's[\s\S]*Allow "` + ns + `/waypoint"`},
		{"service missing", "istio-sidecar", `
  target = { service = "nope" }` + authzWebRule,
			`MESH-AUTHZ-029[\s\S]*Service ` + ns + `/nope does not exist`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expectPlanError(t, providerConfig(c.target)+authzHCL(ns, c.body), c.want)
		})
	}
}
