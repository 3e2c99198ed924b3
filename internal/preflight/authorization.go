package preflight

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// authzRequirements are the versions of the CRDs mesh_authorization needs.
var authzRequirements = map[string]need{
	mesh.GroupIstioSecurity: {"1.25", "serviceAccounts"},
	mesh.GroupLinkerdPolicy: {"2.16", "Server v1beta3"},
}

// ResolveAuthorization looks up what the renderer needs from the cluster:
// the Service's selector and targetPorts when target.service is set, on
// Istio whether the AuthorizationPolicy CRD knows source.serviceAccounts
// when the rules name service accounts, and on Linkerd the httpGet probe
// paths of the selected pods. A missing Service is
// a finding, not an error; the returned cluster facts are then incomplete.
func ResolveAuthorization(ctx context.Context, m *kube.Manager, a mesh.Authorization) (mesh.AuthzCluster, mesh.Problems, error) {
	out := a.Cluster
	var ps mesh.Problems
	if a.NeedsServiceLookup() {
		svc, err := lookup{m}.service(ctx, a.Namespace, a.Workload.Service)
		if err == nil && svc == nil {
			ps.Errorf(mesh.CodeAuthzService, []any{"target", "service"}, "Service not found",
				"Service %s/%s does not exist; its selector picks the pods this policy protects. Create it first, or set target.workload_selector.", a.Namespace, a.Workload.Service)
			return out, ps, nil
		}
		if err != nil {
			return out, nil, fmt.Errorf("get Service %s/%s: %w", a.Namespace, a.Workload.Service, err)
		}
		if len(svc.Spec.Selector) == 0 {
			ps.Errorf(mesh.CodeAuthzService, []any{"target", "service"}, "Service has no selector",
				"Service %s/%s has no spec.selector, so it names no pods to protect. Set target.workload_selector instead.", a.Namespace, a.Workload.Service)
			return out, ps, nil
		}
		out.Selector = svc.Spec.Selector
		out.ServicePorts = targetPorts(svc)
		servicePortsInRules(&ps, a, svc)
	}
	if a.NeedsIdentityLookup() {
		legacy, err := AuthzLegacyPrincipals(ctx, m)
		if err != nil {
			return out, nil, err
		}
		out.LegacyPrincipals = legacy
	}
	a.Cluster = out
	if a.HasHTTPRoutes() {
		paths, err := probePaths(ctx, m, a)
		if err != nil {
			return out, nil, err
		}
		out.ProbePaths = paths
	}
	return out, ps, nil
}

func targetPorts(svc *corev1.Service) []intstr.IntOrString {
	var out []intstr.IntOrString
	for _, p := range svc.Spec.Ports {
		tp := p.TargetPort
		if tp.Type == intstr.Int && tp.IntVal == 0 {
			tp = intstr.FromInt32(p.Port) // targetPort defaults to port
		}
		if !slices.Contains(out, tp) {
			out = append(out, tp)
		}
	}
	return out
}

// servicePortsInRules checks MESH-AUTHZ-015: the ports of to[] are the
// workload's (container) ports, which is what the proxy sees, so a port of
// target.service that forwards to another targetPort matches no request.
// A port that is also one of the Service's targetPorts is a workload port
// too; with a named targetPort the container port numbers are not known
// from the Service, so nothing is reported.
func servicePortsInRules(ps *mesh.Problems, a mesh.Authorization, svc *corev1.Service) {
	forwards := map[int64]int32{}
	workload := map[int64]bool{}
	for _, p := range svc.Spec.Ports {
		tp := p.TargetPort
		switch {
		case tp.Type == intstr.String:
			return
		case tp.IntVal == 0 || tp.IntVal == p.Port:
			workload[int64(p.Port)] = true
		default:
			forwards[int64(p.Port)] = tp.IntVal
			workload[int64(tp.IntVal)] = true
		}
	}
	for i, r := range a.Rules {
		for j, op := range r.To {
			for k, port := range op.Ports {
				tp, ok := forwards[port]
				if !ok || workload[port] {
					continue
				}
				ps.Errorf(mesh.CodeAuthzServicePort, []any{"rules", i, "to", j, "ports", k}, "Service port, not a workload port",
					"ports are workload (container) ports; Service %s port %d targets %d. rules[%d].to[%d].ports[%d] = %d matches no request the proxy sees: use %d.",
					svc.Name, port, tp, i, j, k, port, tp)
			}
		}
	}
}

// probePaths returns the httpGet probe paths of the selected pods, by the
// Server port they probe.
func probePaths(ctx context.Context, m *kube.Manager, a mesh.Authorization) (map[string][]string, error) {
	pods, err := lookup{m}.pods(ctx, a.Namespace, labels.SelectorFromSet(a.Cluster.Selector))
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, pod := range pods {
		for _, c := range pod.Spec.Containers {
			for _, probe := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
				if probe == nil || probe.HTTPGet == nil {
					continue
				}
				for _, p := range a.ServerPorts() {
					if probesPort(c, probe.HTTPGet.Port, p) && !slices.Contains(out[p.String()], probePath(probe.HTTPGet)) {
						out[p.String()] = append(out[p.String()], probePath(probe.HTTPGet))
					}
				}
			}
		}
	}
	for _, paths := range out {
		sort.Strings(paths)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func probePath(h *corev1.HTTPGetAction) string {
	if h.Path == "" {
		return "/"
	}
	return h.Path
}

// probesPort reports whether a probe's port is the Server port, comparing
// container port numbers through the container's named ports.
func probesPort(c corev1.Container, probe, server intstr.IntOrString) bool {
	number := func(p intstr.IntOrString) int32 {
		if p.Type == intstr.Int {
			return p.IntVal
		}
		for _, cp := range c.Ports {
			if cp.Name == p.StrVal {
				return cp.ContainerPort
			}
		}
		return -1
	}
	n := number(probe)
	return n > 0 && n == number(server)
}

// Authorization runs the cluster checks of a mesh_authorization (MESH-MAPPING
// §5.5 and §6). a must be normalized and resolved (ResolveAuthorization),
// with Owner set; recorded lists the objects Terraform state holds for it.
func Authorization(ctx context.Context, m *kube.Manager, a mesh.Authorization, recorded []kube.ID) (mesh.Problems, error) {
	c := &authzCheck{lookup: lookup{m}, a: a, recorded: map[kube.ID]bool{}}
	for _, id := range recorded {
		c.recorded[id] = true
	}
	for _, step := range []func(context.Context) error{c.apisServed, c.namespaceEnrolled, c.sourceNamespacesExist, c.waypointBound, c.waypointIdentity, c.selectsPods, c.serverConflicts, c.ambientDryRun} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	return c.problems, nil
}

type authzCheck struct {
	lookup
	a        mesh.Authorization
	problems mesh.Problems
	recorded map[kube.ID]bool
}

func (c *authzCheck) apisServed(ctx context.Context) error {
	kinds := []schema.GroupVersionKind{mesh.GVKIstioAuthorizationPolicy}
	if c.a.Target == mesh.TargetLinkerd {
		kinds = []schema.GroupVersionKind{mesh.GVKPolicyServer, mesh.GVKLinkerdAuthorization, mesh.GVKMeshTLSAuthentication, mesh.GVKNetworkAuthentication}
		if c.a.HasHTTPRoutes() {
			kinds = append(kinds, mesh.GVKHTTPRoute)
		}
	}
	for _, gvk := range kinds {
		ok, err := c.m.Serves(ctx, gvk)
		if err != nil {
			return err
		}
		if !ok {
			return missingAPI(gvk, authzRequirements)
		}
	}
	return nil
}

func (c *authzCheck) namespaceEnrolled(ctx context.Context) error {
	ns, err := c.namespace(ctx, c.a.Namespace)
	if err == nil && ns == nil {
		c.problems.Errorf(mesh.CodeGenNamespace, []any{"namespace"}, "namespace not found",
			"namespace %s does not exist. Create it before this policy.", c.a.Namespace)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get namespace %s: %w", c.a.Namespace, err)
	}
	if !enrolled(ns, c.a.Target) {
		c.problems.Warnf(mesh.CodeGenNamespace, []any{"namespace"}, "namespace not enrolled in the mesh",
			"namespace %s is not part of the %s mesh; policies/routes will not be enforced for its workloads. %s",
			c.a.Namespace, c.a.Target, enrollHint(c.a.Target))
	}
	return nil
}

// sourceNamespacesExist checks MESH-AUTHZ-019: a source naming a namespace
// that does not exist matches nothing, most often a typo.
func (c *authzCheck) sourceNamespacesExist(ctx context.Context) error {
	for i, r := range c.a.Rules {
		for j, s := range r.From {
			for k, name := range s.Namespaces {
				ns, err := c.namespace(ctx, name)
				if err != nil {
					return fmt.Errorf("get namespace %s: %w", name, err)
				}
				if ns == nil {
					c.problems.Warnf(mesh.CodeAuthzNoNamespace, []any{"rules", i, "from", j, "namespaces", k}, "namespace not found",
						"Referenced namespace not found: %q. rules[%d].from[%d].namespaces[%d] matches no workload until it exists; check the name, or create the namespace.", name, i, j, k)
				}
			}
		}
	}
	return nil
}

// ambientDryRunEnv is the istiod setting without which istiod drops a
// dry-run policy from ztunnel's configuration (Istio's features.EnableWdsDryRunAuthzPol).
const ambientDryRunEnv = "AMBIENT_ENABLE_DRY_RUN_AUTHORIZATION_POLICY"

// ambientDryRun checks MESH-AUTHZ-020: istiod gives ztunnel a dry-run
// policy only when ambientDryRunEnv is on; otherwise the policy is neither
// enforced nor logged. With no istiod in the cluster yet (a mesh_install in
// the same apply) there is nothing to read, and nothing is reported.
func (c *authzCheck) ambientDryRun(ctx context.Context) error {
	if !c.a.DryRun || c.a.EnforcementPoint() != mesh.EnforcedByZtunnel {
		return nil
	}
	deps, err := c.istiods(ctx)
	if apierrors.IsForbidden(err) {
		return nil // not allowed to read the control plane: nothing to tell
	}
	if err != nil {
		return fmt.Errorf("look for istiod: %w", err)
	}
	if len(deps) == 0 || slices.ContainsFunc(deps, ambientDryRunEnabled) {
		return nil
	}
	d := deps[0]
	c.problems.Errorf(mesh.CodeAuthzAmbientDryRun, []any{"dry_run"}, "ambient dry-run policies are not enabled",
		"found policy \"%s/%s\" using dry-run annotation, but support for ambient dry-run authorizationPolicies isn't enabled. istiod (Deployment %s/%s) does not set %s, so ztunnel would get no part of this policy, neither enforced nor logged. Set control_plane_env = { %s = \"true\" } in mesh_install (ztunnel 1.29 or later), or remove dry_run.",
		c.a.Namespace, c.a.Name, d.Namespace, d.Name, ambientDryRunEnv, ambientDryRunEnv)
	return nil
}

// ambientDryRunEnabled reports whether an istiod Deployment turns
// ambientDryRunEnv on, or may (a value from a ConfigMap or Secret).
func ambientDryRunEnabled(d appsv1.Deployment) bool {
	for _, ctr := range d.Spec.Template.Spec.Containers {
		for _, e := range ctr.Env {
			if e.Name != ambientDryRunEnv {
				continue
			}
			on, err := strconv.ParseBool(e.Value)
			if e.ValueFrom != nil || (err == nil && on) {
				return true
			}
		}
	}
	return false
}

// waypointBound checks MESH-AUTHZ-008: a targetRefs policy is enforced only
// by a waypoint that the Service's traffic actually goes through.
func (c *authzCheck) waypointBound(ctx context.Context) error {
	if !c.a.UsesWaypoint() {
		return nil
	}
	svc, err := c.service(ctx, c.a.Namespace, c.a.Workload.Service)
	if err == nil && svc == nil {
		c.problems.Errorf(mesh.CodeAuthzService, []any{"target", "service"}, "Service not found",
			"Service %s/%s does not exist; a waypoint policy attaches to it. Create it first.", c.a.Namespace, c.a.Workload.Service)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get Service %s/%s: %w", c.a.Namespace, c.a.Workload.Service, err)
	}
	name, _, err := c.useWaypoint(ctx, svc, c.a.Namespace)
	if err != nil {
		return fmt.Errorf("get namespace %s: %w", c.a.Namespace, err)
	}
	state := "has no " + mesh.LabelUseWaypoint + " label (nor has its namespace)"
	if name != "" {
		gw, err := c.get(ctx, mesh.GVKGateway, c.a.Namespace, name)
		switch {
		case err != nil:
			return err
		case gw == nil:
			state = fmt.Sprintf("uses waypoint %s/%s, which does not exist", c.a.Namespace, name)
		case !conditionTrue(gw, conditionProgrammed):
			state = fmt.Sprintf("uses waypoint %s/%s, which is not Programmed", c.a.Namespace, name)
		default:
			return nil
		}
	}
	c.problems.Errorf(mesh.CodeAuthzNoWaypoint, []any{"target", "service"}, "Service not bound to a ready waypoint",
		"Service %s/%s is not bound to a waypoint; a policy attached with targetRefs would not be enforced. It %s. Deploy a waypoint (istioctl waypoint apply -n %s) and label the Service or namespace %s=<waypoint>.",
		c.a.Namespace, c.a.Workload.Service, state, c.a.Namespace, mesh.LabelUseWaypoint)
	return nil
}

// waypointIdentity checks MESH-AUTHZ-009: on istio-ambient, traffic to a
// Service bound to a waypoint reaches the pods from the waypoint, so a
// ztunnel (selector) ALLOW policy that lists client identities sees the
// waypoint's identity, not the client's, and denies it unless one of its
// rules admits the waypoint's service account (named after the waypoint).
func (c *authzCheck) waypointIdentity(ctx context.Context) error {
	if c.a.EnforcementPoint() != mesh.EnforcedByZtunnel || c.a.Action != mesh.AuthzAllow || len(c.a.Rules) == 0 {
		return nil
	}
	svcs, err := c.services(ctx, c.a.Namespace)
	if err != nil {
		return err
	}
	selector := c.a.Cluster.Selector
	if selector == nil {
		selector = c.a.Workload.Selector
	}
	for _, svc := range svcs {
		if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(selector)) {
			continue // the Service does not front every pod of the policy
		}
		name, wpNS, err := c.useWaypoint(ctx, &svc, c.a.Namespace)
		if err != nil {
			return err
		}
		if name == "" || name == "none" {
			continue
		}
		if admitsIdentity(c.a.Rules, wpNS, name) {
			return nil
		}
		c.problems.Errorf(mesh.CodeAuthzWaypointIdent, []any{"rules"}, "waypoint traffic would be denied",
			"traffic through waypoint %s/%s reaches the pods of Service %s/%s with the waypoint's identity; this ALLOW policy would block it. Allow %q (add it to a rule's from[].service_accounts), or enforce the rules at the waypoint instead (target.service with an HTTP attribute renders targetRefs).",
			wpNS, name, c.a.Namespace, svc.Name, wpNS+"/"+name)
		return nil
	}
	return nil
}

// admitsIdentity reports whether a request from service account ns/sa
// could match one of the rules: a rule with no from, or a source whose
// identity fields all admit it. A source that names no identity (only IP
// blocks, or authenticated) is taken to admit it.
func admitsIdentity(rules []mesh.AuthzRule, ns, sa string) bool {
	principal := "/ns/" + ns + "/sa/" + sa
	for _, r := range rules {
		if len(r.From) == 0 {
			return true
		}
		for _, s := range r.From {
			if (len(s.ServiceAccounts) == 0 || slices.Contains(s.ServiceAccounts, ns+"/"+sa)) &&
				(len(s.Namespaces) == 0 || slices.Contains(s.Namespaces, ns)) &&
				(len(s.Principals) == 0 || slices.ContainsFunc(s.Principals, func(p string) bool {
					return p == "*" || strings.HasSuffix(p, principal)
				})) {
				return true
			}
		}
	}
	return false
}

// selectsPods warns (MESH-AUTHZ-018) when the selector matches no pods.
func (c *authzCheck) selectsPods(ctx context.Context) error {
	if len(c.a.Cluster.Selector) == 0 || c.a.UsesWaypoint() {
		return nil
	}
	found, err := c.m.AnyMatches(ctx, gvkPod, c.a.Namespace, labels.SelectorFromSet(c.a.Cluster.Selector))
	if err != nil {
		return fmt.Errorf("list pods in %s: %w", c.a.Namespace, err)
	}
	if found {
		return nil
	}
	c.problems.Warnf(mesh.CodeAuthzNoPods, []any{"target"}, "selector matches no pods",
		"No matching workloads for this resource with the following labels: %s. Check target.workload_selector (or the Service's selector); the policy protects nothing until such pods exist.",
		labels.FormatLabels(c.a.Cluster.Selector))
	return nil
}

// serverConflicts checks MESH-AUTHZ-013: Linkerd keeps the oldest of two
// Servers on one pod port and ignores the other.
func (c *authzCheck) serverConflicts(ctx context.Context) error {
	if c.a.Target != mesh.TargetLinkerd || len(c.a.Cluster.Selector) == 0 {
		return nil
	}
	servers, err := c.list(ctx, mesh.GVKPolicyServer, c.a.Namespace)
	if err != nil {
		return err
	}
	ours, err := c.pods(ctx, c.a.Namespace, labels.SelectorFromSet(c.a.Cluster.Selector))
	if err != nil {
		return err
	}
	for _, s := range servers {
		if ownerLabel(s) == c.a.Owner || c.recorded[kube.IDOf(s)] {
			continue
		}
		if port, ok := c.sharedPort(s); ok && c.overlaps(s, ours) {
			c.problems.Errorf(mesh.CodeAuthzServerConflict, []any{"target", "ports"}, "another Server selects the port",
				"Server %s/%s already selects port %s on these pods; Linkerd keeps the oldest Server and ignores later ones (\"Port already matched by another server\"). Delete it, or import it into Terraform (%s).",
				c.a.Namespace, s.GetName(), port, ownerOf(s))
		}
	}
	return nil
}

func (c *authzCheck) sharedPort(s *unstructured.Unstructured) (string, bool) {
	v, _, _ := unstructured.NestedFieldNoCopy(s.Object, "spec", "port")
	theirs := fmt.Sprint(v)
	for _, p := range c.a.ServerPorts() {
		if p.String() == theirs {
			return theirs, true
		}
	}
	return "", false
}

// overlaps reports whether Server s selects one of our pods; with no pods
// yet, whether its labels are a subset of ours (it would select them).
func (c *authzCheck) overlaps(s *unstructured.Unstructured, ours []corev1.Pod) bool {
	sel, _, _ := unstructured.NestedStringMap(s.Object, "spec", "podSelector", "matchLabels")
	theirs := labels.SelectorFromSet(sel)
	if len(ours) == 0 {
		return theirs.Matches(labels.Set(c.a.Cluster.Selector))
	}
	for _, p := range ours {
		if theirs.Matches(labels.Set(p.Labels)) {
			return true
		}
	}
	return false
}
