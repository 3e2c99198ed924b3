package preflight

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// mtlsClusterDefaultPolicy stands for a namespace without the annotation.
const mtlsClusterDefaultPolicy = "the cluster default"

// mtlsRequirements are the versions of the CRDs an mTLS policy needs.
var mtlsRequirements = map[string]need{
	mesh.GroupLinkerdPolicy: {"2.16", "Server accessPolicy"},
}

// MTLSPolicy runs the cluster checks of a mesh_mtls_policy (MESH-MAPPING
// §2.3: MESH-MTLS-006 to -010). p must be normalized, with Owner set.
// recorded lists the objects Terraform state already holds for it: they
// are its own even before they carry its owner label (just imported).
func MTLSPolicy(ctx context.Context, m *kube.Manager, p mesh.MTLSPolicy, recorded []kube.ID) (mesh.Problems, error) {
	c := &mtlsCheck{lookup: lookup{m}, p: p, recorded: map[kube.ID]bool{}}
	for _, id := range recorded {
		c.recorded[id] = true
	}
	for _, step := range []func(context.Context) error{
		c.apisServed, c.namespaceExists, c.selectedPods, c.namespaceWidePolicies,
		c.containerPorts, c.serverConflicts, c.restartNeeded, c.strictCallers,
	} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	return c.problems, nil
}

type mtlsCheck struct {
	lookup
	p        mesh.MTLSPolicy
	problems mesh.Problems
	recorded map[kube.ID]bool
	// ns is the policy's object namespace; nil when it does not exist.
	ns *corev1.Namespace
	// pods are the live pods workload_selector selects (scope workload).
	pods []corev1.Pod
}

// apisServed fails the checks (not the plan) when the CRD of the rendered
// kind is missing: a mesh_install in the same apply may be about to add it.
func (c *mtlsCheck) apisServed(ctx context.Context) error {
	var gvk schema.GroupVersionKind
	switch {
	case c.p.Target != mesh.TargetLinkerd:
		gvk = mesh.GVKPeerAuthentication
	case c.p.Scope == mesh.MTLSScopeWorkload:
		gvk = mesh.GVKPolicyServer
	default:
		return nil // a Namespace annotation
	}
	ok, err := c.m.Serves(ctx, gvk)
	if err == nil && !ok {
		return missingAPI(gvk, mtlsRequirements)
	}
	return err
}

func (c *mtlsCheck) namespaceExists(ctx context.Context) error {
	name := c.p.ObjectNamespace()
	ns, err := c.namespace(ctx, name)
	if err == nil && ns == nil {
		attr := "namespace"
		if c.p.Scope == mesh.MTLSScopeMesh {
			attr = "root_namespace"
		}
		c.problems.Errorf(mesh.CodeGenNamespace, []any{attr}, "namespace not found",
			"namespace %s does not exist. Create it before this policy, or fix %s.", name, attr)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get namespace %s: %w", name, err)
	}
	c.ns = ns
	return nil
}

func (c *mtlsCheck) selectedPods(ctx context.Context) error {
	if c.p.Scope != mesh.MTLSScopeWorkload || c.ns == nil {
		return nil
	}
	pods, err := c.lookup.pods(ctx, c.p.Namespace, labels.SelectorFromSet(c.p.WorkloadSelector))
	if err != nil {
		return err
	}
	c.pods = slices.DeleteFunc(pods, finished)
	return nil
}

// finished pods call nobody and serve nothing.
func finished(p corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

func (c *mtlsCheck) ownedByUs(obj *unstructured.Unstructured) bool {
	return ownerLabel(obj) == c.p.Owner || c.recorded[kube.IDOf(obj)]
}

// namespaceWidePolicies checks MESH-MTLS-006: Istio honours only the oldest
// selector-less PeerAuthentication of a namespace.
func (c *mtlsCheck) namespaceWidePolicies(ctx context.Context) error {
	if c.p.Target == mesh.TargetLinkerd || c.p.Scope == mesh.MTLSScopeWorkload || c.ns == nil {
		return nil
	}
	pas, err := c.list(ctx, mesh.GVKPeerAuthentication, c.p.ObjectNamespace())
	if err != nil {
		return err
	}
	for _, pa := range pas {
		if c.ownedByUs(pa) || hasSelector(pa) {
			continue
		}
		fix := fmt.Sprintf("Delete it, or adopt it with terraform import mesh_mtls_policy.NAME %s/%s and set name = %q.",
			pa.GetNamespace(), pa.GetName(), pa.GetName())
		c.problems.Errorf(mesh.CodeMTLSNamespaceWide, []any{"scope"}, "namespace already has a namespace-wide PeerAuthentication",
			"namespace %s already has a namespace-wide PeerAuthentication (%s, %s); Istio honours only the oldest one. %s",
			pa.GetNamespace(), pa.GetName(), ownerOf(pa), fix)
	}
	return nil
}

func hasSelector(pa *unstructured.Unstructured) bool {
	sel, _, _ := unstructured.NestedStringMap(pa.Object, "spec", "selector", "matchLabels")
	return len(sel) > 0
}

// containerPorts checks MESH-MTLS-007: port-level modes and Servers key on
// the workload's container port, not on a Service port.
func (c *mtlsCheck) containerPorts(ctx context.Context) error {
	if len(c.pods) == 0 || len(c.p.Ports) == 0 {
		return nil // nothing to compare with yet
	}
	declared := map[int64]bool{}
	for _, pod := range c.pods {
		for _, ctr := range pod.Spec.Containers {
			for _, cp := range ctr.Ports {
				declared[int64(cp.ContainerPort)] = true
			}
		}
	}
	for i, port := range c.p.Ports {
		if declared[port.Port] {
			continue
		}
		hint, err := c.servicePortHint(ctx, port.Port)
		if err != nil {
			return err
		}
		c.problems.Errorf(mesh.CodeMTLSServicePort, []any{"ports", i, "port"}, "not a container port",
			"port %d is not a container port of the selected workloads; portLevelMtls / Server.port use the workload port, not the Service port%s. The selected pods declare %s.",
			port.Port, hint, portsList(declared))
	}
	return nil
}

// servicePortHint names a Service of the namespace that maps port to
// another target port: the usual cause of MESH-MTLS-007.
func (c *mtlsCheck) servicePortHint(ctx context.Context, port int64) (string, error) {
	svcs, err := c.services(ctx, c.p.Namespace)
	if err != nil {
		return "", err
	}
	for _, svc := range svcs {
		for _, sp := range svc.Spec.Ports {
			target := sp.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(sp.Port)
			}
			if int64(sp.Port) == port && target.String() != fmt.Sprint(port) {
				return fmt.Sprintf(" (Service %s maps %d → %s; use %s)", svc.Name, port, target.String(), target.String()), nil
			}
		}
	}
	return "", nil
}

func portsList(ports map[int64]bool) string {
	if len(ports) == 0 {
		return "no containerPorts"
	}
	var out []string
	for p := range ports {
		out = append(out, fmt.Sprint(p))
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) < len(out[j]) || len(out[i]) == len(out[j]) && out[i] < out[j] })
	return "containerPorts " + strings.Join(out, ", ")
}

// serverConflicts checks MESH-MTLS-009: Linkerd keeps the oldest Server for
// a pod port and ignores later ones.
func (c *mtlsCheck) serverConflicts(ctx context.Context) error {
	if c.p.Target != mesh.TargetLinkerd || c.p.Scope != mesh.MTLSScopeWorkload || c.ns == nil {
		return nil
	}
	servers, err := c.list(ctx, mesh.GVKPolicyServer, c.p.Namespace)
	if err != nil {
		return err
	}
	for _, srv := range servers {
		if c.ownedByUs(srv) || !c.selectsSamePods(srv) {
			continue
		}
		for i, port := range c.p.Ports {
			if c.serverPortMatches(srv, port.Port) {
				c.problems.Errorf(mesh.CodeMTLSServerConflict, []any{"ports", i, "port"}, "port already has a Linkerd Server",
					"Server %s/%s (%s) already selects port %d on these pods; Linkerd keeps the oldest Server and ignores later ones (\"Port already matched by another server\"). Delete it, or leave port %d out of ports.",
					c.p.Namespace, srv.GetName(), ownerOf(srv), port.Port, port.Port)
			}
		}
	}
	return nil
}

// selectsSamePods: the Server selects one of our pods, or, with no pods
// running yet, its matchLabels are a subset of ours.
func (c *mtlsCheck) selectsSamePods(srv *unstructured.Unstructured) bool {
	raw, found, _ := unstructured.NestedMap(srv.Object, "spec", "podSelector")
	if !found {
		return false
	}
	var sel metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &sel); err != nil {
		return false
	}
	selector, err := metav1.LabelSelectorAsSelector(&sel)
	if err != nil {
		return false
	}
	if len(c.pods) == 0 {
		return selector.Matches(labels.Set(c.p.WorkloadSelector))
	}
	return slices.ContainsFunc(c.pods, func(p corev1.Pod) bool { return selector.Matches(labels.Set(p.Labels)) })
}

// serverPortMatches compares a Server's port (number or container port
// name) with port.
func (c *mtlsCheck) serverPortMatches(srv *unstructured.Unstructured, port int64) bool {
	switch v := srv.Object["spec"].(map[string]any)["port"].(type) {
	case int64:
		return v == port
	case string:
		for _, pod := range c.pods {
			for _, ctr := range pod.Spec.Containers {
				for _, cp := range ctr.Ports {
					if cp.Name == v && int64(cp.ContainerPort) == port {
						return true
					}
				}
			}
		}
	}
	return false
}

// restartNeeded warns (MESH-MTLS-008) that Linkerd reads the namespace's
// default inbound policy only when a pod is created.
func (c *mtlsCheck) restartNeeded(ctx context.Context) error {
	if !c.p.RequiresRestart() || c.ns == nil {
		return nil
	}
	want, _ := mesh.LinkerdAccessPolicy(c.p.Mode)
	old, ok := c.ns.Annotations[mesh.AnnotationDefaultInboundPolicy]
	if ok && old == want {
		return nil
	}
	if !ok {
		old = mtlsClusterDefaultPolicy
	}
	pods, err := c.lookup.pods(ctx, c.p.Namespace, labels.Everything())
	if err != nil {
		return err
	}
	n := len(slices.DeleteFunc(pods, finished))
	if n == 0 {
		return nil
	}
	c.problems.Warnf(mesh.CodeMTLSRestart, []any{"mode"}, "running pods keep the old policy until restarted",
		"%s only applies to pods created after the change; %d pods in %s keep %q until restarted (roll them, e.g. kubectl rollout restart deployment -n %s, after the apply).",
		mesh.AnnotationDefaultInboundPolicy, n, c.p.Namespace, old, c.p.Namespace)
	return nil
}
