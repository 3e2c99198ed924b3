package kubetest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

var cluster *kubetest.Cluster

func TestMain(m *testing.M) { kubetest.Main(m, &cluster) }

func TestClusterVersion(t *testing.T) {
	cs, err := kubernetes.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	// Linkerd's charts require >=1.31: the build must stamp the version.
	if v.GitVersion != "v1.34.2" {
		t.Errorf("gitVersion = %q, want v1.34.2", v.GitVersion)
	}
}

func TestWorkloadsRunOnKwokNodes(t *testing.T) {
	ns := kubetest.Namespace(t, cluster.Config, map[string]string{"purpose": "kubetest"})
	labels := map[string]string{"app": "web"}
	kubetest.Deployment(t, cluster.Config, ns, "web", labels, 2)
	svc := kubetest.Service(t, cluster.Config, ns, "web", labels, 8080, 9090)
	if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == "None" {
		t.Errorf("service clusterIP = %q, want an allocated IP", svc.Spec.ClusterIP)
	}
	if got := svc.Spec.Ports[1].Name; got != "http-9090" {
		t.Errorf("port name = %q, want http-9090", got)
	}
	headless := kubetest.HeadlessService(t, cluster.Config, ns, "web-headless", labels, 8080)
	if headless.Spec.ClusterIP != "None" {
		t.Errorf("headless clusterIP = %q, want None", headless.Spec.ClusterIP)
	}
}

func TestMeshCRDsEstablished(t *testing.T) {
	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	for _, tc := range []struct{ name, version string }{
		{"virtualservices.networking.istio.io", "v1"},
		{"authorizationpolicies.security.istio.io", "v1"},
		{"httproutes.gateway.networking.k8s.io", "v1"},
		{"gateways.gateway.networking.k8s.io", "v1"},
		{"servers.policy.linkerd.io", "v1beta3"},
		{"httproutes.policy.linkerd.io", "v1beta3"},
		{"serviceprofiles.linkerd.io", "v1alpha2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			crd, err := crds.Get(t.Context(), tc.name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !hasCondition(crd, "Established") {
				t.Errorf("%s is not Established", tc.name)
			}
			if !serves(crd, tc.version) {
				t.Errorf("%s does not serve %s", tc.name, tc.version)
			}
		})
	}
}

func hasCondition(crd *unstructured.Unstructured, typ string) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		if m, _ := c.(map[string]any); m["type"] == typ && m["status"] == "True" {
			return true
		}
	}
	return false
}

func serves(crd *unstructured.Unstructured, version string) bool {
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	for _, v := range versions {
		if m, _ := v.(map[string]any); m["name"] == version && m["served"] == true {
			return true
		}
	}
	return false
}

// A kube-apiserver that exits while starting (a post-start hook that missed
// its deadline on a loaded machine) is started again, alone, with the
// cause printed and its log kept; the cluster comes up.
func TestAPIServerThatFailsAPostStartHookIsRestarted(t *testing.T) {
	real := os.Getenv("MESH_CLUSTER_BIN")
	if real == "" {
		t.Skip("MESH_CLUSTER_BIN is not set (make test sets it)")
	}
	bin := t.TempDir()
	for _, name := range []string{"etcd", "kube-controller-manager", "kube-scheduler", "kwok", "kubectl"} {
		if err := os.Symlink(filepath.Join(real, name), filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	mark := filepath.Join(t.TempDir(), "failed-once")
	script := fmt.Sprintf(`#!/bin/sh
if [ ! -e %[1]q ]; then
  : > %[1]q
  echo 'F1201 00:00:00.000000 1 hooks.go:203] PostStartHook "rbac/bootstrap-roles" failed: injected by the test' >&2
  exit 255
fi
exec %[2]q "$@"
`, mark, filepath.Join(real, "kube-apiserver"))
	if err := os.WriteFile(filepath.Join(bin, "kube-apiserver"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := kubetest.Start(t.Context(), kubetest.Options{BinDir: bin, NoCRDs: true, Nodes: 1})
	if err != nil {
		t.Fatalf("Start with a kube-apiserver that fails once: %v", err)
	}
	defer func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	}()
	kept, err := os.ReadFile(filepath.Join(c.Dir, "kube-apiserver.log.1"))
	if err != nil || !strings.Contains(string(kept), "injected by the test") {
		t.Errorf("the first start's log: %q, %v", kept, err)
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{}); err != nil {
		t.Errorf("the restarted cluster does not answer: %v", err)
	}
}
