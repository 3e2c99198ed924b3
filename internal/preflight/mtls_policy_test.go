package preflight

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// mtlsPolicy is a policy for ns, to be varied per case.
func mtlsPolicy(ns string, target mesh.Target, scope mesh.MTLSScope, mode mesh.MTLSMode, ports ...mesh.MTLSPort) mesh.MTLSPolicy {
	p := mesh.MTLSPolicy{Name: "web-mtls", Namespace: ns, Scope: scope, Mode: mode, Target: target, Ports: ports}
	if scope == mesh.MTLSScopeWorkload {
		p.WorkloadSelector = map[string]string{"app": "web"}
	}
	p.Normalize()
	p.Owner = mesh.Owner("mesh_mtls_policy", p.ObjectNamespace(), p.Name)
	return p
}

func checkMTLS(t *testing.T, p mesh.MTLSPolicy, recorded ...kube.ID) mesh.Problems {
	t.Helper()
	m, err := kube.New(cluster.Config, kube.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	problems, err := MTLSPolicy(context.Background(), m, p, recorded)
	if err != nil {
		t.Fatalf("checks did not run: %v", err)
	}
	return problems
}

// pod creates a pod named name with labels, annotations, and one app
// container declaring ports; sidecar adds a container of that name.
func pod(t *testing.T, ns, name string, labels, annotations map[string]string, sidecar string, ports ...int32) {
	t.Helper()
	ctr := corev1.Container{Name: "app", Image: "registry.local/app:1"}
	for _, p := range ports {
		ctr.Ports = append(ctr.Ports, corev1.ContainerPort{Name: fmt.Sprintf("http-%d", p), ContainerPort: p})
	}
	spec := corev1.PodSpec{Containers: []corev1.Container{ctr}}
	if sidecar != "" {
		spec.Containers = append(spec.Containers, corev1.Container{Name: sidecar, Image: "registry.local/proxy:1"})
	}
	obj := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels, Annotations: annotations}, Spec: spec}
	if _, err := clientsetOf(t).CoreV1().Pods(ns).Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod %s/%s: %v", ns, name, err)
	}
}

func clientsetOf(t *testing.T) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func web(port int64, mode mesh.MTLSMode) mesh.MTLSPort { return mesh.MTLSPort{Port: port, Mode: mode} }

func TestMTLSPolicyChecks(t *testing.T) {
	sidecarNS := kubetest.Namespace(t, cluster.Config, map[string]string{"istio-injection": "enabled"})
	pod(t, sidecarNS, "web-1", map[string]string{"app": "web"}, nil, "istio-proxy", 8080)
	svc := kubetest.Service(t, cluster.Config, sidecarNS, "web", map[string]string{"app": "web"}, 80)
	svc.Spec.Ports[0].TargetPort.IntVal = 8080
	if _, err := clientsetOf(t).CoreV1().Services(sidecarNS).Update(context.Background(), svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("valid workload policy has no findings", func(t *testing.T) {
		p := mtlsPolicy(sidecarNS, mesh.TargetIstioSidecar, mesh.MTLSScopeWorkload, mesh.MTLSPermissive, web(8080, mesh.MTLSDisable))
		if got := checkMTLS(t, p); len(got) != 0 {
			t.Errorf("findings on a valid policy: %+v", got)
		}
	})
	t.Run("service port instead of container port", func(t *testing.T) {
		p := mtlsPolicy(sidecarNS, mesh.TargetIstioSidecar, mesh.MTLSScopeWorkload, mesh.MTLSPermissive, web(80, mesh.MTLSDisable))
		expectOnly(t, checkMTLS(t, p), "MESH-MTLS-007", mesh.SeverityError, "[ports 0 port]",
			"port 80 is not a container port of the selected workloads; portLevelMtls / Server.port use the workload port, not the Service port (Service web maps 80 → 8080; use 8080)",
			"The selected pods declare containerPorts 8080")
	})
	t.Run("port no pod declares", func(t *testing.T) {
		p := mtlsPolicy(sidecarNS, mesh.TargetLinkerd, mesh.MTLSScopeWorkload, mesh.MTLSPermissive, web(8080, mesh.MTLSPermissive), web(9999, mesh.MTLSPermissive))
		expectOnly(t, checkMTLS(t, p), "MESH-MTLS-007", mesh.SeverityError, "[ports 1 port]",
			"port 9999 is not a container port of the selected workloads; portLevelMtls / Server.port use the workload port, not the Service port. The selected pods declare containerPorts 8080.")
	})
	t.Run("another namespace-wide PeerAuthentication", func(t *testing.T) {
		ns := kubetest.Namespace(t, cluster.Config, map[string]string{"istio-injection": "enabled"})
		pa := create(t, ns, `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: legacy}
spec: {mtls: {mode: PERMISSIVE}}
`)
		create(t, ns, `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: per-workload}
spec: {selector: {matchLabels: {app: web}}, mtls: {mode: STRICT}}
`)
		p := mtlsPolicy(ns, mesh.TargetIstioSidecar, mesh.MTLSScopeNamespace, mesh.MTLSPermissive)
		expectOnly(t, checkMTLS(t, p), "MESH-MTLS-006", mesh.SeverityError, "[scope]",
			"namespace "+ns+" already has a namespace-wide PeerAuthentication (legacy, unmanaged); Istio honours only the oldest one.",
			"terraform import mesh_mtls_policy.NAME "+ns+"/legacy")
		// Once state records it (imported), it is the policy's own.
		if got := checkMTLS(t, p, kube.IDOf(pa)); len(got) != 0 {
			t.Errorf("with the PeerAuthentication recorded: %+v", got)
		}
	})
	t.Run("unmanaged Linkerd Server on the same port", func(t *testing.T) {
		create(t, sidecarNS, `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: web-http}
spec: {podSelector: {matchLabels: {app: web}}, port: http-8080}
`)
		p := mtlsPolicy(sidecarNS, mesh.TargetLinkerd, mesh.MTLSScopeWorkload, mesh.MTLSPermissive, web(8080, mesh.MTLSPermissive))
		expectOnly(t, checkMTLS(t, p), "MESH-MTLS-009", mesh.SeverityError, "[ports 0 port]",
			"Server "+sidecarNS+"/web-http (unmanaged) already selects port 8080 on these pods; Linkerd keeps the oldest Server and ignores later ones")
	})
	t.Run("missing namespace", func(t *testing.T) {
		p := mtlsPolicy("no-such-namespace-mtls", mesh.TargetIstioSidecar, mesh.MTLSScopeNamespace, mesh.MTLSPermissive)
		expectOnly(t, checkMTLS(t, p), "MESH-GEN-003", mesh.SeverityError, "[namespace]", "namespace no-such-namespace-mtls does not exist")
	})
}

func TestMTLSPolicyLinkerdRestartWarning(t *testing.T) {
	ns := kubetest.Namespace(t, cluster.Config, nil)
	pod(t, ns, "web-1", map[string]string{"app": "web"}, map[string]string{"linkerd.io/proxy-version": "edge-26.8.3"}, "linkerd-proxy", 8080)
	pod(t, ns, "web-2", map[string]string{"app": "web"}, nil, "linkerd-proxy", 8080)
	p := mtlsPolicy(ns, mesh.TargetLinkerd, mesh.MTLSScopeNamespace, mesh.MTLSPermissive)
	expectOnly(t, checkMTLS(t, p), "MESH-MTLS-008", mesh.SeverityWarning, "[mode]",
		`config.linkerd.io/default-inbound-policy only applies to pods created after the change; 2 pods in `+ns+` keep "the cluster default" until restarted`)

	patch := `{"metadata":{"annotations":{"config.linkerd.io/default-inbound-policy":"all-unauthenticated"}}}`
	if _, err := clientsetOf(t).CoreV1().Namespaces().Patch(context.Background(), ns, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := checkMTLS(t, p); len(got) != 0 {
		t.Errorf("annotation already set: want no findings, got %+v", got)
	}
}

// TestMTLSPolicyStrictPreflight covers MESH-MTLS-010 for each target and
// each strict_preflight setting.
func TestMTLSPolicyStrictPreflight(t *testing.T) {
	sidecarNS := kubetest.Namespace(t, cluster.Config, map[string]string{"istio-injection": "enabled"})
	pod(t, sidecarNS, "web-1", map[string]string{"app": "web"}, nil, "istio-proxy", 8080)
	pod(t, sidecarNS, "injected-by-label", nil, map[string]string{"sidecar.istio.io/status": "{}"}, "", 8080)
	pod(t, sidecarNS, "plain", nil, nil, "", 8080)

	t.Run("warn lists pods without a sidecar, own namespace first", func(t *testing.T) {
		p := mtlsPolicy(sidecarNS, mesh.TargetIstioSidecar, mesh.MTLSScopeNamespace, mesh.MTLSStrict)
		got := checkMTLS(t, p)
		expectOnly(t, got, "MESH-MTLS-010", mesh.SeverityWarning, "[mode]",
			`STRICT rejects plaintext: `, `pods without the istio-sidecar proxy [`+sidecarNS+`/plain`,
			`will get "connection reset by peer" when calling the workloads of namespace `+sidecarNS,
			`strict_preflight = "off"`)
		for _, meshed := range []string{"/web-1", "/injected-by-label"} {
			if strings.Contains(got[0].Detail, sidecarNS+meshed) {
				t.Errorf("meshed pod %s listed: %s", meshed, got[0].Detail)
			}
		}
	})
	t.Run("error makes it an error", func(t *testing.T) {
		p := mtlsPolicy(sidecarNS, mesh.TargetIstioSidecar, mesh.MTLSScopeNamespace, mesh.MTLSStrict)
		p.StrictPreflight = mesh.StrictPreflightError
		expectOnly(t, checkMTLS(t, p), "MESH-MTLS-010", mesh.SeverityError, "[mode]", sidecarNS+"/plain")
	})
	t.Run("off skips it", func(t *testing.T) {
		p := mtlsPolicy(sidecarNS, mesh.TargetIstioSidecar, mesh.MTLSScopeNamespace, mesh.MTLSStrict)
		p.StrictPreflight = mesh.StrictPreflightOff
		if got := checkMTLS(t, p); len(got) != 0 {
			t.Errorf("strict_preflight = off: %+v", got)
		}
	})
	t.Run("PERMISSIVE does not check", func(t *testing.T) {
		p := mtlsPolicy(sidecarNS, mesh.TargetIstioSidecar, mesh.MTLSScopeNamespace, mesh.MTLSPermissive)
		if got := checkMTLS(t, p); len(got) != 0 {
			t.Errorf("PERMISSIVE: %+v", got)
		}
	})
	t.Run("a STRICT port names the port", func(t *testing.T) {
		p := mtlsPolicy(sidecarNS, mesh.TargetIstioSidecar, mesh.MTLSScopeWorkload, mesh.MTLSPermissive, web(8080, mesh.MTLSStrict))
		expectOnly(t, checkMTLS(t, p), "MESH-MTLS-010", mesh.SeverityWarning, "[ports 0 mode]",
			sidecarNS+"/plain", "when calling the pods app=web in namespace "+sidecarNS)
	})
	t.Run("ambient namespace label meshes its pods", func(t *testing.T) {
		ns := kubetest.Namespace(t, cluster.Config, map[string]string{"istio.io/dataplane-mode": "ambient"})
		pod(t, ns, "web-1", map[string]string{"app": "web"}, nil, "", 8080)
		pod(t, ns, "opted-out", map[string]string{"istio.io/dataplane-mode": "none"}, nil, "", 8080)
		p := mtlsPolicy(ns, mesh.TargetIstioAmbient, mesh.MTLSScopeNamespace, mesh.MTLSStrict)
		got := checkMTLS(t, p)
		expectOnly(t, got, "MESH-MTLS-010", mesh.SeverityWarning, "[mode]", "without the istio-ambient proxy ["+ns+"/opted-out")
		if strings.Contains(got[0].Detail, ns+"/web-1") {
			t.Errorf("ambient pod listed: %s", got[0].Detail)
		}
	})
	t.Run("linkerd proxy evidence", func(t *testing.T) {
		ns := kubetest.Namespace(t, cluster.Config, nil)
		pod(t, ns, "meshed", map[string]string{"linkerd.io/control-plane-ns": "linkerd"}, nil, "", 8080)
		pod(t, ns, "unmeshed", nil, nil, "", 8080)
		p := mtlsPolicy(ns, mesh.TargetLinkerd, mesh.MTLSScopeWorkload, mesh.MTLSStrict, web(8080, mesh.MTLSStrict))
		p.WorkloadSelector = map[string]string{"app": "nothing"}
		got := checkMTLS(t, p)
		expectOnly(t, got, "MESH-MTLS-010", mesh.SeverityWarning, "[mode]", "without the linkerd proxy ["+ns+"/unmeshed")
		if strings.Contains(got[0].Detail, ns+"/meshed") {
			t.Errorf("meshed pod listed: %s", got[0].Detail)
		}
	})
}
