package provider

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// Pure-config checks (ValidateConfig, or ModifyPlan with the provider's
// target), through the real terraform binary.
func TestAccMTLSPolicy_ConfigErrors(t *testing.T) {
	testAccPreCheck(t)
	const (
		nsScope  = "  scope = \"namespace\"\n  namespace = \"default\"\n"
		workload = "  scope = \"workload\"\n  namespace = \"default\"\n  workload_selector = { app = \"web\" }\n"
	)
	cases := []struct {
		name, target, body, want string
	}{
		{"DISABLE on ambient", "istio-ambient", nsScope + `  mode = "DISABLE"`,
			`MESH-MTLS-001[\s\S]*mode "DISABLE" is not supported in Istio ambient mode: traffic between ambient workloads is always mTLS \(HBONE\)`},
		{"port DISABLE on linkerd", "linkerd", workload + `  mode = "STRICT"
  ports = [{ port = 8080, mode = "DISABLE" }]`,
			`MESH-MTLS-002[\s\S]*Linkerd cannot disable mTLS between meshed pods \(identity is always required\)`},
		{"ports at namespace scope", "istio-sidecar", nsScope + `  mode = "STRICT"
  ports = [{ port = 8080, mode = "PERMISSIVE" }]`,
			`MESH-MTLS-003[\s\S]*mesh/namespace peer authentication cannot have port level mTLS`},
		{"selector at mesh scope", "istio-sidecar", `  scope = "mesh"
  mode  = "STRICT"
  workload_selector = { app = "web" }`,
			`MESH-MTLS-004[\s\S]*workload_selector is ignored in the Istio root namespace \(istio-system\)`},
		{"linkerd mesh scope", "linkerd", `  scope = "mesh"
  mode  = "STRICT"`,
			`MESH-MTLS-005[\s\S]*install-time value: set mesh_install.linkerd_default_inbound_policy = "all-authenticated"`},
		{"UNSET without ports", "istio-sidecar", nsScope + `  mode = "UNSET"`,
			`MESH-MTLS-011[\s\S]*mode "UNSET" only inherits the parent policy`},
		{"linkerd workload without ports", "linkerd", workload + `  mode = "STRICT"`,
			`MESH-MTLS-012[\s\S]*Linkerd enforces authentication per Server \(one port each\)`},
		{"workload without selector", "istio-sidecar", `  scope = "workload"
  namespace = "default"
  mode = "STRICT"`,
			`MESH-MTLS-014[\s\S]*scope = "workload" needs workload_selector`},
		{"selector at namespace scope", "istio-sidecar", nsScope + `  mode = "STRICT"
  workload_selector = { app = "web" }`,
			`MESH-MTLS-014[\s\S]*a namespace-wide policy has no selector`},
		{"namespace missing", "istio-sidecar", `  scope = "namespace"
  mode  = "STRICT"`,
			`MESH-MTLS-015[\s\S]*namespace is required with scope = "namespace"`},
		{"namespace missing for workload", "linkerd", `  scope = "workload"
  workload_selector = { app = "web" }
  mode  = "STRICT"
  ports = [{ port = 8080, mode = "STRICT" }]`,
			`MESH-MTLS-015[\s\S]*namespace is required with scope = "workload"`},
		{"namespace with mesh scope", "istio-ambient", `  scope = "mesh"
  namespace = "default"
  mode = "STRICT"`,
			`MESH-MTLS-015[\s\S]*a mesh-wide policy lives in Istio's root namespace`},
		{"duplicate port", "istio-sidecar", workload + `  mode = "STRICT"
  ports = [{ port = 8080, mode = "PERMISSIVE" }, { port = 8080, mode = "DISABLE" }]`,
			`MESH-MTLS-016[\s\S]*ports\[1\].port = 8080 appears more than once`},
		{"linkerd port inherits UNSET", "linkerd", workload + `  mode = "UNSET"
  ports = [{ port = 8080, mode = "UNSET" }]`,
			`MESH-MTLS-017[\s\S]*a Linkerd Server has no "inherit" access policy`},
		{"invalid mode", "istio-sidecar", nsScope + `  mode = "strict"`, `mode value must be one of`},
		{"invalid scope", "istio-sidecar", `  scope = "cluster"
  mode = "STRICT"`, `scope value must be one of`},
		{"port out of range", "istio-sidecar", workload + `  mode = "STRICT"
  ports = [{ port = 0, mode = "STRICT" }]`, `port value must be between 1 and 65535`},
		{"invalid strict_preflight", "istio-sidecar", nsScope + `  mode = "STRICT"
  strict_preflight = "maybe"`, `strict_preflight value must be one of`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := fmt.Sprintf("  target = %q\n%s", c.target, c.body)
			expectPlanError(t, mtlsHCL(mesh.TargetIstioSidecar, mtlsName, body), c.want)
		})
	}
	t.Run("server name too long", func(t *testing.T) {
		body := workload + "  mode = \"STRICT\"\n  ports = [{ port = 8443, mode = \"STRICT\" }]"
		expectPlanError(t, mtlsHCL(mesh.TargetLinkerd, strings.Repeat("a", 60), body),
			`MESH-MTLS-017[\s\S]*\(65 characters\); object names hold at most 63`)
	})
	t.Run("provider target validates in plan", func(t *testing.T) {
		expectPlanError(t, mtlsHCL(mesh.TargetLinkerd, mtlsName, nsScope+`  mode = "DISABLE"`), `MESH-MTLS-002`)
	})
}

// Cluster checks (ModifyPlan), against a namespace set up to trip each.
func TestAccMTLSPolicy_ClusterErrors(t *testing.T) {
	testAccPreCheck(t)
	cfg := cluster.Config
	ns := testNamespace(t, map[string]string{"istio-injection": "enabled"})
	mtlsPod(t, ns, "web-1", nil, 8080, 9090)
	svc := kubetest.Service(t, cfg, ns, "web", map[string]string{"app": "web"}, 80)
	svc.Spec.Ports[0].TargetPort.IntVal = 8080
	cs, _ := clients(t)
	if _, err := cs.CoreV1().Services(ns).Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	plain := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: ns, Labels: map[string]string{"app": "plain"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.local/app:1"}}},
	}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, plain, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	createUnmanaged(t, ns, `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: legacy}
spec: {mtls: {mode: PERMISSIVE}}
`)
	createUnmanaged(t, ns, `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: web-legacy}
spec: {podSelector: {matchLabels: {app: web}}, port: 9090, accessPolicy: all-unauthenticated}
`)
	workload := fmt.Sprintf("  scope = \"workload\"\n  namespace = %q\n  workload_selector = { app = \"web\" }\n", ns)
	cases := []struct {
		name   string
		target mesh.Target
		body   string
		want   string
	}{
		{"another namespace-wide PeerAuthentication", mesh.TargetIstioSidecar,
			fmt.Sprintf("  scope = \"namespace\"\n  namespace = %q\n  mode = \"PERMISSIVE\"", ns),
			`MESH-MTLS-006[\s\S]*namespace ` + ns + ` already has a namespace-wide PeerAuthentication \(legacy, unmanaged\); Istio honours only the oldest one`},
		{"Service port instead of container port", mesh.TargetIstioSidecar,
			workload + `  mode = "PERMISSIVE"
  ports = [{ port = 80, mode = "DISABLE" }]`,
			`MESH-MTLS-007[\s\S]*port 80 is not a container port of the selected workloads[\s\S]*\(Service web maps 80 → 8080; use 8080\)`},
		{"unmanaged Linkerd Server on the port", mesh.TargetLinkerd,
			workload + `  mode = "PERMISSIVE"
  ports = [{ port = 9090, mode = "STRICT" }]
  strict_preflight = "off"`,
			`MESH-MTLS-009[\s\S]*Server ` + ns + `/web-legacy \(unmanaged\) already selects port 9090 on these pods`},
		{"STRICT with strict_preflight error", mesh.TargetIstioSidecar,
			workload + `  mode = "STRICT"
  strict_preflight = "error"`,
			`MESH-MTLS-010[\s\S]*STRICT rejects plaintext: [0-9]+ pods without the istio-sidecar proxy \[` + ns + `/plain[\s\S]*connection reset by peer`},
		{"namespace not found", mesh.TargetLinkerd,
			"  scope = \"namespace\"\n  namespace = \"no-such-namespace-mtls\"\n  mode = \"STRICT\"",
			`MESH-GEN-003[\s\S]*namespace no-such-namespace-mtls does not exist`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expectPlanError(t, mtlsHCL(c.target, mtlsName, c.body), c.want)
		})
	}
}

// createUnmanaged creates an object from YAML in ns, as another tool would.
func createUnmanaged(t *testing.T, ns, y string) {
	t.Helper()
	obj, err := decodeYAML(y)
	if err != nil {
		t.Fatal(err)
	}
	obj.SetNamespace(ns)
	id := kube.IDOf(obj)
	if _, err := resourceOf(t, id).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
}
