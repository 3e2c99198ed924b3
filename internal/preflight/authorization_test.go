package preflight

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

func authzOrdersPolicy(ns string, target mesh.Target, w mesh.AuthzWorkload) mesh.Authorization {
	a := mesh.Authorization{
		Name: "orders-allow", Namespace: ns, Target: target, Workload: w,
		Owner: mesh.Owner("mesh_authorization", ns, "orders-allow"),
		Rules: []mesh.AuthzRule{{From: []mesh.AuthzSource{{ServiceAccounts: []string{"frontend/web"}}}}},
	}
	a.Normalize()
	return a
}

func checkAuthz(t *testing.T, a mesh.Authorization) mesh.Problems {
	t.Helper()
	m, err := kube.New(cluster.Config, kube.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	c, problems, err := ResolveAuthorization(context.Background(), m, a)
	if err != nil {
		t.Fatalf("lookups did not run: %v", err)
	}
	if problems.HasErrors() {
		return problems
	}
	a.Cluster = c
	more, err := Authorization(context.Background(), m, a, nil)
	if err != nil {
		t.Fatalf("checks did not run: %v", err)
	}
	return append(problems, more...)
}

func TestAuthorizationSelectorMatchesNoPods(t *testing.T) {
	ns := kubetest.Namespace(t, cluster.Config, map[string]string{"istio-injection": "enabled"})
	kubetest.Deployment(t, cluster.Config, ns, "orders", map[string]string{"app": "orders"}, 1)
	sel := func(app string) mesh.AuthzWorkload {
		return mesh.AuthzWorkload{Selector: map[string]string{"app": app}}
	}

	if got := checkAuthz(t, authzOrdersPolicy(ns, mesh.TargetIstioSidecar, sel("orders"))); len(got) != 0 {
		t.Errorf("findings for a selector with pods: %+v", got)
	}
	expectOnly(t, checkAuthz(t, authzOrdersPolicy(ns, mesh.TargetIstioSidecar, sel("payments"))), "MESH-AUTHZ-018", mesh.SeverityWarning, "[target]",
		"No matching workloads for this resource with the following labels: app=payments")
}

func TestAuthorizationSourceNamespacesExist(t *testing.T) {
	ns := kubetest.Namespace(t, cluster.Config, map[string]string{"istio-injection": "enabled"})
	kubetest.Deployment(t, cluster.Config, ns, "orders", map[string]string{"app": "orders"}, 1)
	a := authzOrdersPolicy(ns, mesh.TargetIstioSidecar, mesh.AuthzWorkload{Selector: map[string]string{"app": "orders"}})
	a.Rules = []mesh.AuthzRule{{From: []mesh.AuthzSource{{ServiceAccounts: []string{"no-such-ns/web"}}, {Namespaces: []string{ns, "no-such-ns"}}}}}

	expectOnly(t, checkAuthz(t, a), "MESH-AUTHZ-019", mesh.SeverityWarning, "[rules 0 from 1 namespaces 1]",
		`Referenced namespace not found: "no-such-ns"`, "rules[0].from[1].namespaces[1]")
	a.Rules[0].From[1].Namespaces = []string{ns, "kube-system"}
	if got := checkAuthz(t, a); len(got) != 0 {
		t.Errorf("findings for namespaces that exist: %+v", got)
	}
}

func TestAuthorizationServiceLookup(t *testing.T) {
	ns := kubetest.Namespace(t, cluster.Config, map[string]string{"istio-injection": "enabled"})
	kubetest.Service(t, cluster.Config, ns, "orders", map[string]string{"app": "orders"}, 8080)
	kubetest.Service(t, cluster.Config, ns, "external", nil, 443)
	m, _ := kube.New(cluster.Config, kube.DefaultOptions())

	a := authzOrdersPolicy(ns, mesh.TargetIstioSidecar, mesh.AuthzWorkload{Service: "orders"})
	c, problems, err := ResolveAuthorization(context.Background(), m, a)
	if err != nil || len(problems) != 0 {
		t.Fatalf("resolve: %v %+v", err, problems)
	}
	want := mesh.AuthzCluster{Selector: map[string]string{"app": "orders"}, ServicePorts: []intstr.IntOrString{intstr.FromInt32(8080)}}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("resolved (-want +got):\n%s", diff)
	}
	_, problems, _ = ResolveAuthorization(context.Background(), m, authzOrdersPolicy(ns, mesh.TargetIstioSidecar, mesh.AuthzWorkload{Service: "nope"}))
	expectOnly(t, problems, "MESH-AUTHZ-029", mesh.SeverityError, "[target service]", "Service "+ns+"/nope does not exist")
	_, problems, _ = ResolveAuthorization(context.Background(), m, authzOrdersPolicy(ns, mesh.TargetIstioSidecar, mesh.AuthzWorkload{Service: "external"}))
	expectOnly(t, problems, "MESH-AUTHZ-029", mesh.SeverityError, "[target service]", "has no spec.selector")
}

// TestAuthorizationServicePortInRules is MESH-AUTHZ-015: to.ports naming a
// port of target.service that forwards elsewhere matches nothing.
func TestAuthorizationServicePortInRules(t *testing.T) {
	ns := kubetest.Namespace(t, cluster.Config, map[string]string{"istio-injection": "enabled"})
	m, _ := kube.New(cluster.Config, kube.DefaultOptions())
	service := func(name string, ports ...corev1.ServicePort) {
		t.Helper()
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "orders"}, Ports: ports},
		}
		if _, err := m.Clientset().CoreV1().Services(ns).Create(context.Background(), svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	port := func(name string, p int32, target intstr.IntOrString) corev1.ServicePort {
		return corev1.ServicePort{Name: name, Port: p, TargetPort: target}
	}
	service("orders", port("http", 80, intstr.FromInt32(8080)), port("grpc", 9090, intstr.FromInt32(0)))
	service("both", port("http", 80, intstr.FromInt32(8080)), port("direct", 8081, intstr.FromInt32(80)))
	service("named", port("http", 80, intstr.FromString("http")))
	resolve := func(svc string, ports ...int64) mesh.Problems {
		t.Helper()
		a := authzOrdersPolicy(ns, mesh.TargetIstioSidecar, mesh.AuthzWorkload{Service: svc})
		a.Rules[0].To = []mesh.AuthzOperation{{Methods: []string{"GET"}}, {Ports: ports}}
		_, problems, err := ResolveAuthorization(context.Background(), m, a)
		if err != nil {
			t.Fatal(err)
		}
		return problems
	}

	expectOnly(t, resolve("orders", 8080, 80), "MESH-AUTHZ-015", mesh.SeverityError, "[rules 0 to 1 ports 1]",
		"ports are workload (container) ports; Service orders port 80 targets 8080.", "rules[0].to[1].ports[1] = 80", "use 8080")
	for _, c := range []struct {
		svc   string
		ports []int64
	}{
		{"orders", []int64{8080, 9090}}, // the targetPorts
		{"both", []int64{80}},           // 80 is also a targetPort: a container port
		{"named", []int64{80}},          // the container port behind "http" is not known
	} {
		if got := resolve(c.svc, c.ports...); len(got) != 0 {
			t.Errorf("Service %s, ports %v: %+v", c.svc, c.ports, got)
		}
	}
}

// TestAuthorizationAmbientDryRun is MESH-AUTHZ-020: a dry-run ztunnel policy
// needs istiod's AMBIENT_ENABLE_DRY_RUN_AUTHORIZATION_POLICY.
func TestAuthorizationAmbientDryRun(t *testing.T) {
	ns := kubetest.Namespace(t, cluster.Config, map[string]string{"istio.io/dataplane-mode": "ambient"})
	kubetest.Deployment(t, cluster.Config, ns, "orders", map[string]string{"app": "orders"}, 1)
	m, err := kube.New(cluster.Config, kube.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	cs := m.Clientset()
	istiod := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "istiod", Labels: map[string]string{"app": "istiod"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](0),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "istiod"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "istiod"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "discovery", Image: "registry.local/pilot:1",
					Env: []corev1.EnvVar{{Name: "PILOT_ENABLE_AMBIENT", Value: "true"}},
				}}},
			},
		},
	}
	// Deleted as soon as the test ends: another package's mesh_install test
	// must not find a second control plane while the namespace terminates.
	istiod, err = cs.AppsV1().Deployments(ns).Create(context.Background(), istiod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.AppsV1().Deployments(ns).Delete(context.Background(), istiod.Name, metav1.DeleteOptions{})
	})
	a := authzOrdersPolicy(ns, mesh.TargetIstioAmbient, mesh.AuthzWorkload{Selector: map[string]string{"app": "orders"}})
	a.DryRun = true

	expectOnly(t, checkAuthz(t, a), "MESH-AUTHZ-020", mesh.SeverityError, "[dry_run]",
		`found policy "`+ns+`/orders-allow" using dry-run annotation, but support for ambient dry-run authorizationPolicies isn't enabled`,
		"Deployment "+ns+"/istiod", `control_plane_env = { AMBIENT_ENABLE_DRY_RUN_AUTHORIZATION_POLICY = "true" }`)

	setEnv := func(value string) {
		t.Helper()
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			d, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "istiod", metav1.GetOptions{})
			if err != nil {
				return err
			}
			d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "AMBIENT_ENABLE_DRY_RUN_AUTHORIZATION_POLICY", Value: value}}
			_, err = cs.AppsV1().Deployments(ns).Update(context.Background(), d, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setEnv("true")
	if got := checkAuthz(t, a); len(got) != 0 {
		t.Errorf("findings with the setting on: %+v", got)
	}
	setEnv("false")
	if got := checkAuthz(t, a); len(got) != 1 {
		t.Errorf("findings with the setting off: %+v, want MESH-AUTHZ-020", got)
	}
	a.DryRun = false
	if got := checkAuthz(t, a); len(got) != 0 {
		t.Errorf("findings without dry_run: %+v", got)
	}
}

// TestAuthorizationWaypointIdentity is MESH-AUTHZ-009: a ztunnel ALLOW
// policy listing client identities blocks the waypoint the pods' Service
// sends its traffic through.
func TestAuthorizationWaypointIdentity(t *testing.T) {
	ns := kubetest.Namespace(t, cluster.Config, map[string]string{"istio.io/dataplane-mode": "ambient"})
	kubetest.Deployment(t, cluster.Config, ns, "orders", map[string]string{"app": "orders", "version": "v1"}, 1)
	m, err := kube.New(cluster.Config, kube.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "orders", Labels: map[string]string{"istio.io/use-waypoint": "waypoint"}},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "orders"}, Ports: []corev1.ServicePort{{Port: 8080}}},
	}
	if _, err := m.Clientset().CoreV1().Services(ns).Create(context.Background(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	a := authzOrdersPolicy(ns, mesh.TargetIstioAmbient, mesh.AuthzWorkload{Selector: map[string]string{"app": "orders", "version": "v1"}})

	expectOnly(t, checkAuthz(t, a), "MESH-AUTHZ-009", mesh.SeverityError, "[rules]",
		"traffic through waypoint "+ns+"/waypoint reaches the pods of Service "+ns+"/orders with the waypoint's identity; this ALLOW policy would block it.",
		`Allow "`+ns+`/waypoint"`)
	for name, from := range map[string][]mesh.AuthzSource{
		"the waypoint's service account": {{ServiceAccounts: []string{"frontend/web"}}, {ServiceAccounts: []string{ns + "/waypoint"}}},
		"the waypoint's namespace":       {{Namespaces: []string{ns}}},
		"the waypoint's principal":       {{Principals: []string{"cluster.local/ns/" + ns + "/sa/waypoint"}}},
		"any authenticated identity":     {{Authenticated: true}},
	} {
		b := a
		b.Rules = []mesh.AuthzRule{{From: from}}
		if got := checkAuthz(t, b); len(got) != 0 {
			t.Errorf("rules admitting %s: %+v", name, got)
		}
	}
	other := authzOrdersPolicy(ns, mesh.TargetIstioAmbient, mesh.AuthzWorkload{Selector: map[string]string{"app": "payments"}})
	kubetest.Deployment(t, cluster.Config, ns, "payments", map[string]string{"app": "payments"}, 1)
	if got := checkAuthz(t, other); len(got) != 0 {
		t.Errorf("pods no waypoint-bound Service fronts: %+v", got)
	}
}

// TestAuthorizationProbePaths reads the httpGet probes of the selected pods,
// through named container ports, for the Linkerd probe routes.
func TestAuthorizationProbePaths(t *testing.T) {
	ns := kubetest.Namespace(t, cluster.Config, nil)
	m, _ := kube.New(cluster.Config, kube.DefaultOptions())
	probe := func(path string, port intstr.IntOrString) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: port}}}
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "orders", Labels: map[string]string{"app": "orders"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "registry.local/app:1",
			Ports:          []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "admin", ContainerPort: 9090}},
			ReadinessProbe: probe("/ready", intstr.FromString("http")),
			LivenessProbe:  probe("/healthz", intstr.FromInt32(8080)),
			StartupProbe:   probe("/started", intstr.FromString("admin")),
		}}},
	}
	if _, err := m.Clientset().CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	a := authzOrdersPolicy(ns, mesh.TargetLinkerd, mesh.AuthzWorkload{Selector: map[string]string{"app": "orders"}, Ports: []int64{8080}})
	a.Rules[0].To = []mesh.AuthzOperation{{Paths: []string{"/api/*"}}}
	c, _, err := ResolveAuthorization(context.Background(), m, a)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]string{"8080": {"/healthz", "/ready"}}, c.ProbePaths); diff != "" {
		t.Errorf("probe paths (-want +got):\n%s", diff)
	}
}

func TestAuthorizationAmbientWaypoint(t *testing.T) {
	ns := kubetest.Namespace(t, cluster.Config, map[string]string{"istio.io/dataplane-mode": "ambient"})
	kubetest.Service(t, cluster.Config, ns, "orders", map[string]string{"app": "orders"}, 8080)
	a := authzOrdersPolicy(ns, mesh.TargetIstioAmbient, mesh.AuthzWorkload{Service: "orders"})
	a.Rules[0].To = []mesh.AuthzOperation{{Methods: []string{"GET"}}}

	expectOnly(t, checkAuthz(t, a), "MESH-AUTHZ-008", mesh.SeverityError, "[target service]",
		"Service "+ns+"/orders is not bound to a waypoint; a policy attached with targetRefs would not be enforced", "has no istio.io/use-waypoint label")
	label(t, ns, "orders", "istio.io/use-waypoint", "waypoint")
	expectOnly(t, checkAuthz(t, a), "MESH-AUTHZ-008", mesh.SeverityError, "[target service]", "which does not exist")
	gw := create(t, ns, `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`)
	expectOnly(t, checkAuthz(t, a), "MESH-AUTHZ-008", mesh.SeverityError, "[target service]", "which is not Programmed")
	setProgrammed(t, gw)
	if got := checkAuthz(t, a); len(got) != 0 {
		t.Errorf("findings with a Programmed waypoint: %+v", got)
	}
}

func TestAuthorizationLinkerdServerConflict(t *testing.T) {
	ns := kubetest.Namespace(t, cluster.Config, nil)
	authzAnnotateLinkerd(t, ns)
	create(t, ns, `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: legacy}
spec: {podSelector: {matchLabels: {app: orders}}, port: 8080}
`)
	a := authzOrdersPolicy(ns, mesh.TargetLinkerd, mesh.AuthzWorkload{Selector: map[string]string{"app": "orders", "tier": "api"}, Ports: []int64{8080}})
	got := checkAuthz(t, a)
	var conflict mesh.Problems
	for _, p := range got {
		if p.Code == "MESH-AUTHZ-013" {
			conflict = append(conflict, p)
		}
	}
	expectOnly(t, conflict, "MESH-AUTHZ-013", mesh.SeverityError, "[target ports]",
		"Server "+ns+"/legacy already selects port 8080 on these pods", "(unmanaged)")
	a.Workload.Ports = []int64{9090}
	for _, p := range checkAuthz(t, a) {
		if p.Code == "MESH-AUTHZ-013" {
			t.Errorf("conflict on another port: %+v", p)
		}
	}
}

func authzAnnotateLinkerd(t *testing.T, ns string) {
	t.Helper()
	m, _ := kube.New(cluster.Config, kube.DefaultOptions())
	patch := `{"metadata":{"annotations":{"linkerd.io/inject":"enabled"}}}`
	if _, err := m.Clientset().CoreV1().Namespaces().Patch(context.Background(), ns, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}
