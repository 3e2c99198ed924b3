package kubetest

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// kwokNode is a simulated node: kwok manages it because of the annotation
// and reports it Ready; it is big enough that scheduling never fails.
func kwokNode(name string) *corev1.Node {
	res := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{nodeAnnotation: "fake"},
			Labels: map[string]string{
				"kubernetes.io/hostname": name,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "kwok",
			},
		},
		Status: corev1.NodeStatus{Capacity: res, Allocatable: res},
	}
}

// setupNodes creates n kwok nodes and waits until all are Ready.
func setupNodes(ctx context.Context, cs kubernetes.Interface, n int) error {
	names := map[string]bool{}
	for i := range n {
		node := kwokNode(fmt.Sprintf("kwok-node-%d", i))
		names[node.Name] = true
		if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{FieldManager: fieldManager}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create node %s: %w", node.Name, err)
		}
	}
	nodes := cs.CoreV1().Nodes()
	lw := listWatch(
		func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return nodes.List(ctx, o) },
		func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return nodes.Watch(ctx, o) })
	err := waitFor(ctx, lw, &corev1.Node{}, func(seen map[string]*corev1.Node) bool {
		for name := range names {
			if node, ok := seen[name]; !ok || !nodeReady(node) {
				return false
			}
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("nodes not Ready: %w", err)
	}
	return nil
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitDefaultServiceAccount waits for the controller manager to create
// default/default: until then the ServiceAccount admission plugin rejects
// every pod in the namespace.
func waitDefaultServiceAccount(ctx context.Context, cs kubernetes.Interface) error {
	sas := cs.CoreV1().ServiceAccounts(metav1.NamespaceDefault)
	sel := fields.OneTermEqualSelector("metadata.name", "default").String()
	lw := listWatch(
		func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return sas.List(ctx, o)
		},
		func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return sas.Watch(ctx, o)
		})
	err := waitFor(ctx, lw, &corev1.ServiceAccount{}, func(seen map[string]*corev1.ServiceAccount) bool {
		return len(seen) > 0
	})
	if err != nil {
		return fmt.Errorf("ServiceAccount default/default not created: %w", err)
	}
	return nil
}
