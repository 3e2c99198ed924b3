package preflight

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// The STRICT safety check (MESH-MTLS-010). Which pods call into the scope
// cannot be known from the cluster, so every pod that could is a suspect:
// every pod in the cluster that has no proxy of the target's mesh, except
// those of kube-system and of the mesh control planes (istio-system,
// linkerd), finished pods, and the pods the policy itself selects. A pod
// has a proxy when:
//   - istio-sidecar: it has a container (or native sidecar init container)
//     named istio-proxy, the label security.istio.io/tlsMode=istio, or the
//     annotation sidecar.istio.io/status (what injection leaves behind);
//   - istio-ambient: the same, or its namespace or itself is labelled
//     istio.io/dataplane-mode=ambient (and the pod does not opt out with
//     istio.io/dataplane-mode=none);
//   - linkerd: it has a container named linkerd-proxy, the label
//     linkerd.io/control-plane-ns, or the annotation linkerd.io/proxy-version.
//
// A namespace label alone is not enough for sidecars: pods created before
// the namespace was enrolled run without a proxy until restarted.
const (
	mtlsMaxListedPods     = 10
	containerIstioProxy   = "istio-proxy"
	containerLinkerdProxy = "linkerd-proxy"
	dataplaneModeNone     = "none"
)

// mtlsExemptNamespaces hold the cluster's and the meshes' own components.
var mtlsExemptNamespaces = []string{"kube-system", "istio-system", "linkerd"}

func (c *mtlsCheck) strictCallers(ctx context.Context) error {
	if c.p.StrictPreflight == mesh.StrictPreflightOff || !c.p.UsesStrict() {
		return nil
	}
	nsLabels, err := c.namespaceLabels(ctx)
	if err != nil {
		return err
	}
	// Every namespace's pods: one List of its own, as the engine's lookups
	// (and their shared cache) go by namespace.
	pods, err := c.m.Clientset().CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list pods: %w", err)
	}
	var unmeshed []corev1.Pod
	for _, pod := range pods.Items {
		if c.suspect(pod) && !hasProxy(pod, nsLabels[pod.Namespace], c.p.Target) {
			unmeshed = append(unmeshed, pod)
		}
	}
	if len(unmeshed) > 0 {
		c.reportUnmeshed(unmeshed)
	}
	return nil
}

// suspect reports whether pod may call into the policy's scope.
func (c *mtlsCheck) suspect(pod corev1.Pod) bool {
	if finished(pod) || slices.Contains(mtlsExemptNamespaces, pod.Namespace) {
		return false
	}
	selected := c.p.Scope == mesh.MTLSScopeWorkload && pod.Namespace == c.p.Namespace &&
		labels.SelectorFromSet(c.p.WorkloadSelector).Matches(labels.Set(pod.Labels))
	return !selected
}

func hasProxy(pod corev1.Pod, nsLabels map[string]string, target mesh.Target) bool {
	switch target {
	case mesh.TargetLinkerd:
		return hasContainer(pod, containerLinkerdProxy) || pod.Labels[mesh.LabelLinkerdControlPlaneNS] != "" || pod.Annotations[mesh.AnnotationLinkerdProxyVersion] != ""
	case mesh.TargetIstioAmbient:
		if mode := pod.Labels[mesh.LabelDataplaneMode]; mode != "" {
			return mode == dataplaneModeAmbient || hasSidecar(pod)
		}
		return nsLabels[mesh.LabelDataplaneMode] == dataplaneModeAmbient || hasSidecar(pod)
	}
	return hasSidecar(pod)
}

func hasSidecar(pod corev1.Pod) bool {
	return hasContainer(pod, containerIstioProxy) || pod.Labels[mesh.LabelTLSMode] == "istio" || pod.Annotations[mesh.AnnotationSidecarStatus] != ""
}

func hasContainer(pod corev1.Pod, name string) bool {
	is := func(c corev1.Container) bool { return c.Name == name }
	return slices.ContainsFunc(pod.Spec.Containers, is) || slices.ContainsFunc(pod.Spec.InitContainers, is)
}

// reportUnmeshed lists the suspects, those of the policy's own namespace
// first (its likeliest callers), at most mtlsMaxListedPods of them.
func (c *mtlsCheck) reportUnmeshed(pods []corev1.Pod) {
	home := c.p.ObjectNamespace()
	sort.Slice(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if (a.Namespace == home) != (b.Namespace == home) {
			return a.Namespace == home
		}
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	var names []string
	for _, p := range pods[:min(len(pods), mtlsMaxListedPods)] {
		names = append(names, p.Namespace+"/"+p.Name)
	}
	if more := len(pods) - len(names); more > 0 {
		names = append(names, fmt.Sprintf("and %d more", more))
	}
	report := c.problems.Warnf
	if c.p.StrictPreflight == mesh.StrictPreflightError {
		report = c.problems.Errorf
	}
	report(mesh.CodeMTLSStrictUnmeshed, c.strictAttr(), "STRICT would reject pods without a proxy",
		`STRICT rejects plaintext: %d pods without the %s proxy [%s] will get "connection reset by peer" when calling %s. Add them to the mesh (enroll their namespace: %s Then restart them so that they get the proxy), keep mode = "PERMISSIVE" until they are, or set strict_preflight = "off" if none of them calls in.`,
		len(pods), c.p.Target, strings.Join(names, ", "), c.scopeDescription(), enrollHint(c.p.Target))
}

// strictAttr is the attribute that asks for STRICT.
func (c *mtlsCheck) strictAttr() []any {
	if c.p.Mode == mesh.MTLSStrict {
		return []any{"mode"}
	}
	for i, port := range c.p.Ports {
		if port.Mode == mesh.MTLSStrict {
			return []any{"ports", i, "mode"}
		}
	}
	return []any{"mode"}
}

func (c *mtlsCheck) scopeDescription() string {
	switch c.p.Scope {
	case mesh.MTLSScopeMesh:
		return "any workload of the mesh"
	case mesh.MTLSScopeNamespace:
		return "the workloads of namespace " + c.p.Namespace
	}
	return fmt.Sprintf("the pods %s in namespace %s", labels.FormatLabels(c.p.WorkloadSelector), c.p.Namespace)
}
