package kubetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// deploymentTimeout bounds the wait for a Deployment: on kwok nodes pods
// are Running and Ready within seconds.
const deploymentTimeout = 2 * time.Minute

// Main runs a package's tests against FromEnv's cluster, stored in *c:
//
//	var cluster *kubetest.Cluster
//	func TestMain(m *testing.M) { kubetest.Main(m, &cluster) }
//
// A cluster that cannot start fails the run (exit 1), never skips it.
func Main(m *testing.M, c **Cluster) { MainWith(m, c, nil) }

// MainWith is Main with setup run on the cluster before the tests (a
// failed setup fails the run).
func MainWith(m *testing.M, c **Cluster, setup func(*Cluster) error) {
	cl, err := FromEnv(context.Background())
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubetest: cannot start the test cluster:\n%v\n", err)
		os.Exit(1)
	}
	*c = cl
	if setup != nil {
		if err := setup(cl); err != nil {
			fmt.Fprintf(os.Stderr, "kubetest: test setup: %v\n", err)
			_ = cl.Stop()
			os.Exit(1)
		}
	}
	code := m.Run()
	if err := cl.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "kubetest: stop the test cluster: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func clientset(t testing.TB, cfg *rest.Config) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("kubetest: client: %v", err)
	}
	return cs
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// Namespace creates a namespace named after the test plus a random suffix,
// so that tests and reruns never collide, and deletes it after the test.
func Namespace(t testing.TB, cfg *rest.Config, labels map[string]string) string {
	t.Helper()
	prefix := strings.Trim(notDNS.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(prefix) > 40 { // leave room for the suffix within 63 characters
		prefix = strings.TrimRight(prefix[:40], "-")
	}
	if prefix == "" {
		prefix = "test"
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   prefix + "-" + strings.ToLower(rand.Text()[:6]),
		Labels: labels,
	}}
	cs := clientset(t, cfg)
	if _, err := cs.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("kubetest: create namespace %s: %v", ns.Name, err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled here. Deletion finishes in the
		// background; the random name means nobody waits for it.
		err := cs.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
		if err != nil {
			t.Errorf("kubetest: delete namespace %s: %v", ns.Name, err)
		}
	})
	return ns.Name
}

// Deployment creates a Deployment of a placeholder image (kwok only fakes
// its pods) and waits until it is Available with every replica ready.
// labels are its pod labels and selector; nil means app=<name>.
func Deployment(t testing.TB, cfg *rest.Config, ns, name string, labels map[string]string, replicas int32) {
	t.Helper()
	if len(labels) == 0 {
		labels = map[string]string{"app": name}
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: testImage(),
				}}},
			},
		},
	}
	deps := clientset(t, cfg).AppsV1().Deployments(ns)
	if _, err := deps.Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("kubetest: create deployment %s/%s: %v", ns, name, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), deploymentTimeout)
	defer cancel()
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	lw := listWatch(
		func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return deps.List(ctx, o)
		},
		func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return deps.Watch(ctx, o)
		})
	var last *appsv1.Deployment
	err := waitFor(ctx, lw, &appsv1.Deployment{}, func(seen map[string]*appsv1.Deployment) bool {
		last = seen[ns+"/"+name]
		return last != nil && deploymentReady(last, replicas)
	})
	if err != nil {
		t.Fatalf("kubetest: deployment %s/%s not Available with %d ready replicas: %v; last status: %+v", ns, name, replicas, err, statusOf(last))
	}
}

func deploymentReady(d *appsv1.Deployment, replicas int32) bool {
	if d.Status.ObservedGeneration < d.Generation || d.Status.ReadyReplicas != replicas || d.Status.UpdatedReplicas != replicas {
		return false
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func statusOf(d *appsv1.Deployment) any {
	if d == nil {
		return "(not seen)"
	}
	return d.Status
}

// Service creates a ClusterIP Service selecting selector, one TCP port
// "http-<port>" per port with the same target port.
func Service(t testing.TB, cfg *rest.Config, ns, name string, selector map[string]string, ports ...int32) *corev1.Service {
	t.Helper()
	return createService(t, cfg, ns, name, selector, "", ports)
}

// HeadlessService is Service with clusterIP None.
func HeadlessService(t testing.TB, cfg *rest.Config, ns, name string, selector map[string]string, ports ...int32) *corev1.Service {
	t.Helper()
	return createService(t, cfg, ns, name, selector, corev1.ClusterIPNone, ports)
}

func createService(t testing.TB, cfg *rest.Config, ns, name string, selector map[string]string, clusterIP string, ports []int32) *corev1.Service {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: clusterIP, Selector: selector},
	}
	for _, p := range ports {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{
			Name: fmt.Sprintf("http-%d", p), Protocol: corev1.ProtocolTCP,
			Port: p, TargetPort: intstr.FromInt32(p),
		})
	}
	out, err := clientset(t, cfg).CoreV1().Services(ns).Create(t.Context(), svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("kubetest: create service %s/%s: %v", ns, name, err)
	}
	return out
}

// testImage is the container image of test Deployments. kwok never pulls it;
// on a cluster with real nodes (kind) set MESH_TEST_IMAGE to one the nodes
// can run, e.g. registry.k8s.io/pause:3.10.
func testImage() string {
	if img := os.Getenv("MESH_TEST_IMAGE"); img != "" {
		return img
	}
	return "registry.local/app:1"
}
