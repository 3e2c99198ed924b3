// Package preflight runs the cluster checks of a plan: read-only lookups
// that find what would make an apply fail, or succeed and do nothing.
// Findings are mesh.Problems; an error means the checks could not run.
package preflight

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// MissingAPIError says the cluster does not serve a kind the resource
// renders (MESH-GEN-005), e.g. before a mesh_install in the same apply has
// installed the CRDs.
type MissingAPIError struct {
	GVK       schema.GroupVersionKind
	Component string
}

func (e *MissingAPIError) Error() string {
	return fmt.Sprintf("the cluster does not serve %s %s; install or upgrade %s",
		e.GVK.GroupVersion(), e.GVK.Kind, e.Component)
}

// need is a later version of a group's CRDs than its kinds need (the
// registry's minimum), and what needs it.
type need struct{ minimum, forWhat string }

// missingAPI is the error for a kind the cluster does not serve, naming what
// installs it at the version needs asks for its group (if any).
func missingAPI(gvk schema.GroupVersionKind, needs map[string]need) *MissingAPIError {
	n := needs[gvk.Group]
	return &MissingAPIError{GVK: gvk, Component: mesh.Requirement(gvk, n.minimum, n.forWhat)}
}

// lookup wraps the engine's read-only lookups.
type lookup struct {
	m *kube.Manager
}

// served returns a MissingAPIError when the cluster does not serve gvk.
func (l lookup) served(ctx context.Context, gvk schema.GroupVersionKind) error {
	ok, err := l.m.Serves(ctx, gvk)
	if err == nil && !ok {
		return missingAPI(gvk, nil)
	}
	return err
}

// list returns the objects of gvk in namespace, or none when the kind is not
// served.
func (l lookup) list(ctx context.Context, gvk schema.GroupVersionKind, namespace string) ([]*unstructured.Unstructured, error) {
	return l.m.List(ctx, gvk, namespace)
}

// get returns one object, or nil when it or its kind does not exist.
func (l lookup) get(ctx context.Context, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error) {
	return l.m.Get(ctx, kube.ID{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: namespace, Name: name})
}

var (
	gvkService   = corev1.SchemeGroupVersion.WithKind("Service")
	gvkNamespace = corev1.SchemeGroupVersion.WithKind("Namespace")
	gvkPod       = corev1.SchemeGroupVersion.WithKind("Pod")
)

// service returns the Service, or nil when it does not exist. Within a run
// it comes from the engine's shared read cache, like every lookup here.
func (l lookup) service(ctx context.Context, namespace, name string) (*corev1.Service, error) {
	svc := &corev1.Service{}
	found, err := l.typed(ctx, gvkService, namespace, name, svc)
	if !found {
		return nil, err
	}
	return svc, nil
}

// namespace returns the Namespace, or nil when it does not exist.
func (l lookup) namespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	ns := &corev1.Namespace{}
	found, err := l.typed(ctx, gvkNamespace, "", name, ns)
	if !found {
		return nil, err
	}
	return ns, nil
}

// useWaypoint returns the waypoint a Service's traffic goes through: the
// Service's istio.io/use-waypoint label, else its namespace's, with the
// waypoint's namespace from the same object's
// istio.io/use-waypoint-namespace (default: the Service's). name is ""
// when neither is labelled. svc may be nil (a Service not found).
func (l lookup) useWaypoint(ctx context.Context, svc *corev1.Service, namespace string) (name, waypointNamespace string, err error) {
	var labels map[string]string
	if svc != nil {
		labels = svc.Labels
	}
	if labels[mesh.LabelUseWaypoint] == "" {
		ns, err := l.namespace(ctx, namespace)
		if err != nil || ns == nil {
			return "", "", err
		}
		labels = ns.Labels
	}
	name, waypointNamespace = labels[mesh.LabelUseWaypoint], labels[mesh.LabelUseWaypointNamespace]
	if waypointNamespace == "" {
		waypointNamespace = namespace
	}
	return name, waypointNamespace, nil
}

// istiods lists the istiod Deployments of every namespace (label
// app=istiod), straight from the API server: a run asks at most once per
// check that needs it, and only for the few resources those checks cover.
func (l lookup) istiods(ctx context.Context) ([]appsv1.Deployment, error) {
	deps, err := l.m.Clientset().AppsV1().Deployments("").List(ctx, metav1.ListOptions{LabelSelector: "app=istiod"})
	if err != nil {
		return nil, err
	}
	return deps.Items, nil
}

// pods returns the pods of namespace whose labels sel matches, from the
// engine's shared read cache: one List per namespace and run however many
// checks ask, and only the matching pods are decoded.
func (l lookup) pods(ctx context.Context, namespace string, sel labels.Selector) ([]corev1.Pod, error) {
	return listTyped[corev1.Pod](ctx, l, gvkPod, namespace, sel)
}

// services returns the Services of namespace, from the shared read cache.
func (l lookup) services(ctx context.Context, namespace string) ([]corev1.Service, error) {
	return listTyped[corev1.Service](ctx, l, gvkService, namespace, labels.Everything())
}

// listTyped lists gvk in namespace through the engine's lookups and decodes
// the objects whose labels sel matches into T.
func listTyped[T any](ctx context.Context, l lookup, gvk schema.GroupVersionKind, namespace string, sel labels.Selector) ([]T, error) {
	objs, err := l.m.List(ctx, gvk, namespace)
	if err != nil {
		return nil, fmt.Errorf("list %ss in %s: %w", strings.ToLower(gvk.Kind), namespace, err)
	}
	var out []T
	for _, obj := range objs {
		if !sel.Matches(labels.Set(obj.GetLabels())) {
			continue
		}
		var v T
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &v); err != nil {
			return nil, fmt.Errorf("decode %s %s/%s: %w", gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
		}
		out = append(out, v)
	}
	return out, nil
}

// namespaceLabels returns every namespace's labels, from the shared read
// cache.
func (l lookup) namespaceLabels(ctx context.Context) (map[string]map[string]string, error) {
	objs, err := l.m.List(ctx, gvkNamespace, "")
	if err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	out := make(map[string]map[string]string, len(objs))
	for _, obj := range objs {
		out[obj.GetName()] = obj.GetLabels()
	}
	return out, nil
}

func (l lookup) typed(ctx context.Context, gvk schema.GroupVersionKind, namespace, name string, into any) (bool, error) {
	obj, err := l.get(ctx, gvk, namespace, name)
	if obj == nil || err != nil {
		return false, err
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, into); err != nil {
		return false, fmt.Errorf("decode %s %s/%s: %w", gvk.Kind, namespace, name, err)
	}
	return true, nil
}
