package install

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// Readiness follows MESH-MAPPING §1.5 (istioctl install's WaitForResources
// and linkerd check), over the objects of the releases' manifests. Kinds
// without a readiness rule count as ready once applied.

var readinessKinds = map[string]schema.GroupVersionResource{
	"CustomResourceDefinition":       {Group: mesh.GroupAPIExtensions, Version: "v1", Resource: "customresourcedefinitions"},
	"Deployment":                     {Group: "apps", Version: "v1", Resource: "deployments"},
	"DaemonSet":                      {Group: "apps", Version: "v1", Resource: "daemonsets"},
	"StatefulSet":                    {Group: "apps", Version: "v1", Resource: "statefulsets"},
	"MutatingWebhookConfiguration":   {Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingwebhookconfigurations"},
	"ValidatingWebhookConfiguration": {Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingwebhookconfigurations"},
}

// watched are what a readiness verdict depends on besides the objects
// themselves: a Deployment's ReplicaSets and every workload's Pods.
var watched = []schema.GroupVersionResource{
	{Group: "apps", Version: "v1", Resource: "replicasets"},
	{Version: "v1", Resource: "pods"},
}

// checked is one object readiness is decided for.
type checked struct {
	Kind, Namespace, Name string
	Release               string
}

func readinessTargets(release string, objs []*unstructured.Unstructured) []checked {
	var out []checked
	for _, o := range objs {
		if _, ok := readinessKinds[o.GetKind()]; ok {
			out = append(out, checked{o.GetKind(), o.GetNamespace(), o.GetName(), release})
		}
	}
	return out
}

// components decides each target's readiness now.
func (i *Installer) components(ctx context.Context, targets []checked) ([]Component, error) {
	out := make([]Component, 0, len(targets))
	for _, t := range targets {
		c := Component{Name: t.Name, Kind: t.Kind, Namespace: t.Namespace}
		msg, err := i.notReady(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("%s/%s/%s: %w", t.Kind, t.Namespace, t.Name, err)
		}
		c.Ready, c.Message = msg == "", msg
		out = append(out, c)
	}
	return out, nil
}

// notReady says why t is not ready, or "" when it is.
func (i *Installer) notReady(ctx context.Context, t checked) (string, error) {
	u, err := i.dyn.Resource(readinessKinds[t.Kind]).Namespace(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "does not exist", nil
	}
	if err != nil {
		return "", err
	}
	switch t.Kind {
	case "CustomResourceDefinition":
		if !hasCondition(u, "Established") {
			return "not Established", nil
		}
		return "", nil
	case "Deployment":
		return i.deploymentNotReady(ctx, u)
	case "DaemonSet":
		return i.daemonSetNotReady(ctx, u)
	case "StatefulSet":
		return i.statefulSetNotReady(ctx, u)
	default:
		return webhooksNotReady(u), nil
	}
}

func hasCondition(u *unstructured.Unstructured, typ string) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ && m["status"] == "True" {
			return true
		}
	}
	return false
}

// webhooksNotReady: istiod (or the chart) must have set every webhook's
// caBundle, else the API server cannot call it.
func webhooksNotReady(u *unstructured.Unstructured) string {
	hooks, _, _ := unstructured.NestedSlice(u.Object, "webhooks")
	var missing []string
	for _, h := range hooks {
		m, _ := h.(map[string]any)
		if ca, _, _ := unstructured.NestedString(m, "clientConfig", "caBundle"); ca == "" {
			if _, hasURL, _ := unstructured.NestedString(m, "clientConfig", "url"); !hasURL {
				name, _ := m["name"].(string)
				missing = append(missing, name)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf("webhook %s has no caBundle yet (the control plane sets it when it starts serving)", strings.Join(missing, ", "))
	}
	return ""
}

func (i *Installer) deploymentNotReady(ctx context.Context, u *unstructured.Unstructured) (string, error) {
	var d appsv1.Deployment
	if err := fromUnstructured(u, &d); err != nil {
		return "", err
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	if d.Status.ObservedGeneration < d.Generation {
		return "rollout not yet observed by the deployment controller", nil
	}
	rs, err := i.newestReplicaSet(ctx, &d)
	if err != nil || rs == nil {
		return "no ReplicaSet for the current revision yet", err
	}
	if rs.Status.ReadyReplicas >= want {
		return "", nil
	}
	msg := fmt.Sprintf("%d/%d replicas ready", rs.Status.ReadyReplicas, want)
	return i.withPodReason(ctx, msg, d.Namespace, rs.Spec.Selector)
}

// newestReplicaSet is the Deployment's ReplicaSet of its current revision.
func (i *Installer) newestReplicaSet(ctx context.Context, d *appsv1.Deployment) (*appsv1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, err
	}
	list, err := i.cs.AppsV1().ReplicaSets(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	const revision = "deployment.kubernetes.io/revision"
	for n := range list.Items {
		rs := &list.Items[n]
		if metav1.IsControlledBy(rs, d) && rs.Annotations[revision] == d.Annotations[revision] {
			return rs, nil
		}
	}
	return nil, nil
}

func (i *Installer) daemonSetNotReady(ctx context.Context, u *unstructured.Unstructured) (string, error) {
	var ds appsv1.DaemonSet
	if err := fromUnstructured(u, &ds); err != nil {
		return "", err
	}
	s := ds.Status
	switch {
	case s.ObservedGeneration < ds.Generation:
		return "rollout not yet observed by the daemonset controller", nil
	case s.DesiredNumberScheduled == 0:
		return i.withPodReason(ctx, "no node runs it (0 pods scheduled)", ds.Namespace, ds.Spec.Selector)
	case s.UpdatedNumberScheduled != s.DesiredNumberScheduled:
		return i.withPodReason(ctx, fmt.Sprintf("%d/%d pods updated", s.UpdatedNumberScheduled, s.DesiredNumberScheduled), ds.Namespace, ds.Spec.Selector)
	case ds.Spec.UpdateStrategy.Type != appsv1.OnDeleteDaemonSetStrategyType && s.NumberReady < s.DesiredNumberScheduled:
		return i.withPodReason(ctx, fmt.Sprintf("%d/%d pods ready", s.NumberReady, s.DesiredNumberScheduled), ds.Namespace, ds.Spec.Selector)
	}
	return "", nil
}

func (i *Installer) statefulSetNotReady(ctx context.Context, u *unstructured.Unstructured) (string, error) {
	var ss appsv1.StatefulSet
	if err := fromUnstructured(u, &ss); err != nil {
		return "", err
	}
	want := int32(1)
	if ss.Spec.Replicas != nil {
		want = *ss.Spec.Replicas
	}
	partition := int32(0)
	if ru := ss.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		partition = *ru.Partition
	}
	s := ss.Status
	if s.ObservedGeneration < ss.Generation || s.UpdatedReplicas < want-partition || s.ReadyReplicas < want {
		msg := fmt.Sprintf("%d/%d replicas ready, %d updated", s.ReadyReplicas, want, s.UpdatedReplicas)
		return i.withPodReason(ctx, msg, ss.Namespace, ss.Spec.Selector)
	}
	return "", nil
}

// withPodReason appends why the first unready pod of selector is not ready.
func (i *Installer) withPodReason(ctx context.Context, msg, namespace string, selector *metav1.LabelSelector) (string, error) {
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil || sel.Empty() {
		sel = labels.Nothing()
	}
	pods, err := i.cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return "", err
	}
	for n := range pods.Items {
		if why := podReason(&pods.Items[n]); why != "" {
			return fmt.Sprintf("%s (pod %s: %s)", msg, pods.Items[n].Name, why), nil
		}
	}
	if len(pods.Items) == 0 {
		return msg + " (no pods)", nil
	}
	return msg, nil
}

// podReason is the first waiting container reason, or the unschedulable or
// not-ready condition message, like istioctl install reports.
func podReason(p *corev1.Pod) string {
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "PodInitializing" && w.Reason != "ContainerCreating" {
			return fmt.Sprintf("container %s waiting: %s", cs.Name, joinNonEmpty(w.Reason, w.Message))
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			return fmt.Sprintf("container %s terminated: %s", cs.Name, joinNonEmpty(t.Reason, t.Message))
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return "not scheduled: " + joinNonEmpty(c.Reason, c.Message)
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status != corev1.ConditionTrue {
			return "not ready: " + joinNonEmpty(c.Reason, c.Message)
		}
	}
	if p.Status.Phase == corev1.PodPending {
		return "Pending"
	}
	return ""
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + ": " + b
}

// waitReady re-decides readiness whenever a watched object changes, until
// every target is ready or ctx ends. It is event driven: the watches cover
// the targets' kinds, ReplicaSets and Pods, including the webhook
// configurations whose caBundle the control plane patches in.
func (i *Installer) waitReady(ctx context.Context, targets []checked) ([]Component, error) {
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	changed := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	for _, w := range watchSet(targets) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i.watchLoop(wctx, w.gvr, w.namespace, changed)
		}()
	}
	for {
		comps, err := i.components(ctx, targets)
		if err != nil {
			return nil, err
		}
		if allReady(comps) {
			return comps, nil
		}
		select {
		case <-ctx.Done():
			return comps, ctx.Err()
		case <-changed:
		}
	}
}

type watchKey struct {
	gvr       schema.GroupVersionResource
	namespace string
}

func watchSet(targets []checked) []watchKey {
	seen := map[watchKey]bool{}
	var out []watchKey
	add := func(k watchKey) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, t := range targets {
		add(watchKey{readinessKinds[t.Kind], t.Namespace})
		if t.Namespace != "" {
			for _, g := range watched {
				add(watchKey{g, t.Namespace})
			}
		}
	}
	return out
}

// watchLoop signals changed on every event, re-establishing the watch when
// the server closes it; a failing watch is retried with a bounded backoff.
func (i *Installer) watchLoop(ctx context.Context, gvr schema.GroupVersionResource, namespace string, changed chan<- struct{}) {
	backoff := wait.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Steps: 1 << 30, Cap: 5 * time.Second}
	for ctx.Err() == nil {
		w, err := i.dyn.Resource(gvr).Namespace(namespace).Watch(ctx, metav1.ListOptions{})
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(backoff.Step()):
			}
			continue
		}
		for range w.ResultChan() {
			select {
			case changed <- struct{}{}:
			default: // a re-check is already due
			}
		}
		w.Stop()
	}
}

func allReady(cs []Component) bool {
	for _, c := range cs {
		if !c.Ready {
			return false
		}
	}
	return true
}

func notReadyOf(cs []Component) []Component {
	var out []Component
	for _, c := range cs {
		if !c.Ready {
			out = append(out, c)
		}
	}
	return out
}
