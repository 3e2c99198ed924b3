package preflight

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// Labels the checks read.
const (
	conditionProgrammed   = "Programmed"
	dataplaneModeAmbient  = "ambient"
	linkerdInjectEnabled  = "enabled"
	istioInjectionEnabled = "enabled"
)

// TrafficSplit runs the cluster checks of a mesh_traffic_split (MESH-MAPPING
// §3.4 and §6). ts must be normalized, with Owner set. recorded lists the
// objects Terraform state already holds for this resource: they are its own
// even before they carry its owner label (just imported).
func TrafficSplit(ctx context.Context, m *kube.Manager, ts mesh.TrafficSplit, recorded []kube.ID) (mesh.Problems, error) {
	c := &splitCheck{lookup: lookup{m}, ts: ts, services: map[string]*corev1.Service{}, recorded: map[kube.ID]bool{}}
	for _, id := range recorded {
		c.recorded[id] = true
	}
	for _, step := range []func(context.Context) error{
		c.apisServed, c.parentService, c.backendServices, c.namespaceEnrolled,
		c.waypointBound, c.serviceProfile, c.routeConflicts, c.subsetConflicts,
	} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	return c.problems, nil
}

type splitCheck struct {
	lookup
	ts       mesh.TrafficSplit
	problems mesh.Problems
	// services caches Service lookups by name; nil means absent.
	services map[string]*corev1.Service
	recorded map[kube.ID]bool
}

// apisServed fails the checks (not the plan) when the CRDs of the rendered
// kinds are missing: a mesh_install in the same apply may be about to add them.
func (c *splitCheck) apisServed(ctx context.Context) error {
	var kinds []schema.GroupVersionKind
	switch {
	case c.ts.UsesVirtualService() && c.ts.UsesSubsets():
		kinds = append(kinds, mesh.GVKVirtualService, mesh.GVKDestinationRule)
	case c.ts.UsesVirtualService():
		kinds = append(kinds, mesh.GVKVirtualService)
	case c.ts.Target == mesh.TargetIstioAmbient && c.ts.Waypoint.Mode == mesh.WaypointCreate:
		kinds = append(kinds, mesh.GVKHTTPRoute, mesh.GVKGateway)
	default:
		kinds = append(kinds, mesh.GVKHTTPRoute)
	}
	for _, gvk := range kinds {
		if err := c.served(ctx, gvk); err != nil {
			return err
		}
	}
	return nil
}

func (c *splitCheck) service(ctx context.Context, name string) (*corev1.Service, error) {
	if svc, ok := c.services[name]; ok {
		return svc, nil
	}
	svc, err := c.lookup.service(ctx, c.ts.Namespace, name)
	if err != nil {
		return nil, fmt.Errorf("get Service %s/%s: %w", c.ts.Namespace, name, err)
	}
	c.services[name] = svc
	return svc, nil
}

func (c *splitCheck) parentService(ctx context.Context) error {
	svc, err := c.service(ctx, c.ts.Service)
	if err != nil || svc == nil {
		if svc == nil && err == nil {
			c.problems.Errorf(mesh.CodeTSServiceNotFound, []any{"service"}, "parent Service not found",
				"Service %s/%s does not exist. Create it before this split, or fix service.", c.ts.Namespace, c.ts.Service)
		}
		return err
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName || svc.Spec.ClusterIP == corev1.ClusterIPNone {
		c.problems.Errorf(mesh.CodeTSNotClusterIP, []any{"service"}, "parent Service is not a ClusterIP Service",
			"Service %s/%s is %s: parent Service must be a ClusterIP Service (GAMMA \"ClusterIP Services only\"; Linkerd cannot split headless Services). Point service at a ClusterIP Service.",
			c.ts.Namespace, c.ts.Service, serviceKind(svc))
	}
	if !hasPort(svc, c.ts.Port) {
		c.problems.Errorf(mesh.CodeTSServiceNotFound, []any{"port"}, "parent Service has no such port",
			"Service %s/%s has no port %d (it has %s). Set port to one of them.", c.ts.Namespace, c.ts.Service, c.ts.Port, portList(svc))
	}
	return nil
}

func (c *splitCheck) backendServices(ctx context.Context) error {
	return c.eachBackend(func(at []any, b mesh.Backend) error {
		svc, err := c.service(ctx, b.Service)
		if err != nil {
			return err
		}
		switch {
		case svc == nil:
			c.problems.Errorf(mesh.CodeTSServiceNotFound, append(at, "service"), "backend Service not found",
				"backend Service %s/%s does not exist. Create it, or fix the backend's service.", c.ts.Namespace, b.Service)
			return nil
		case !hasPort(svc, b.Port):
			c.problems.Errorf(mesh.CodeTSServiceNotFound, append(at, "port"), "backend Service has no such port",
				"backend Service %s/%s has no port %d (it has %s).", c.ts.Namespace, b.Service, b.Port, portList(svc))
		}
		if len(b.SubsetLabels) > 0 && c.ts.UsesVirtualService() {
			return c.subsetSelectsPods(ctx, at, svc, b.SubsetLabels)
		}
		return nil
	})
}

// eachBackend visits every backend with its attribute path.
func (c *splitCheck) eachBackend(visit func(at []any, b mesh.Backend) error) error {
	for i, r := range c.ts.MatchRoutes {
		for j, b := range r.Backends {
			if err := visit([]any{"match_routes", i, "backends", j}, b); err != nil {
				return err
			}
		}
	}
	for i, b := range c.ts.Backends {
		if err := visit([]any{"backends", i}, b); err != nil {
			return err
		}
	}
	return nil
}

// subsetSelectsPods warns (MESH-TS-004) when no pod of the Service carries
// the subset's labels: Istio answers 503 UH for such a subset.
func (c *splitCheck) subsetSelectsPods(ctx context.Context, at []any, svc *corev1.Service, subset map[string]string) error {
	sel := labels.SelectorFromSet(labels.Merge(svc.Spec.Selector, subset))
	found, err := c.m.AnyMatches(ctx, gvkPod, c.ts.Namespace, sel)
	if err != nil {
		return fmt.Errorf("list pods in %s: %w", c.ts.Namespace, err)
	}
	if !found {
		c.problems.Warnf(mesh.CodeTSSubsetNoPods, append(at, "subset_labels"), "subset selects no pods",
			"subset %s selects no pods of Service %s/%s; requests routed to it fail with 503 UH (Istio IST0173).",
			labels.FormatLabels(subset), c.ts.Namespace, svc.Name)
	}
	return nil
}

// namespaceEnrolled warns (MESH-GEN-003) when the namespace is not in the mesh.
func (c *splitCheck) namespaceEnrolled(ctx context.Context) error {
	ns, err := c.lookup.namespace(ctx, c.ts.Namespace)
	if err == nil && ns == nil {
		c.problems.Errorf(mesh.CodeGenNamespace, []any{"namespace"}, "namespace not found",
			"namespace %s does not exist. Create it before this split.", c.ts.Namespace)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get namespace %s: %w", c.ts.Namespace, err)
	}
	if !enrolled(ns, c.ts.Target) {
		c.problems.Warnf(mesh.CodeGenNamespace, []any{"namespace"}, "namespace not enrolled in the mesh",
			"namespace %s is not part of the %s mesh; policies/routes will not be enforced for its workloads. %s",
			c.ts.Namespace, c.ts.Target, enrollHint(c.ts.Target))
	}
	return nil
}

func enrolled(ns *corev1.Namespace, target mesh.Target) bool {
	l := ns.Labels
	switch target {
	case mesh.TargetIstioSidecar:
		return l[mesh.LabelIstioInjection] == istioInjectionEnabled || l[mesh.LabelIstioRev] != ""
	case mesh.TargetIstioAmbient:
		return l[mesh.LabelDataplaneMode] == dataplaneModeAmbient
	default:
		return ns.Annotations[mesh.AnnotationLinkerdInject] == linkerdInjectEnabled
	}
}

func enrollHint(target mesh.Target) string {
	switch target {
	case mesh.TargetIstioSidecar:
		return "Label it " + mesh.LabelIstioInjection + "=enabled (or " + mesh.LabelIstioRev + "=<revision>)."
	case mesh.TargetIstioAmbient:
		return "Label it " + mesh.LabelDataplaneMode + "=ambient."
	default:
		return "Annotate it " + mesh.AnnotationLinkerdInject + "=enabled."
	}
}

// waypointBound checks MESH-TS-006: an ambient route without a waypoint is
// silently not applied.
func (c *splitCheck) waypointBound(ctx context.Context) error {
	if c.ts.Target != mesh.TargetIstioAmbient || c.ts.Waypoint.Mode != mesh.WaypointRequire {
		return nil
	}
	name, err := c.boundWaypoint(ctx)
	if err != nil || name == "" {
		if name == "" && err == nil {
			c.problems.Errorf(mesh.CodeTSNoWaypoint, []any{"ambient_waypoint", "mode"}, "Service not bound to a waypoint",
				"Service %s/%s is not bound to a waypoint: %s label missing from parent and parent namespace; in ambient mode, route will not be respected. Set ambient_waypoint.mode = \"create\" or label the Service/Namespace.",
				c.ts.Namespace, c.ts.Service, mesh.LabelUseWaypoint)
		}
		return err
	}
	gw, err := c.get(ctx, mesh.GVKGateway, c.ts.Namespace, name)
	if err != nil {
		return err
	}
	if gw == nil || !conditionTrue(gw, conditionProgrammed) {
		state := "does not exist"
		if gw != nil {
			state = "is not Programmed"
		}
		c.problems.Errorf(mesh.CodeTSNoWaypoint, []any{"ambient_waypoint", "mode"}, "waypoint not ready",
			"Service %s/%s uses waypoint %s/%s, which %s; in ambient mode the route will not be respected. Deploy it (istioctl waypoint apply -n %s), or set ambient_waypoint.mode = \"create\".",
			c.ts.Namespace, c.ts.Service, c.ts.Namespace, name, state, c.ts.Namespace)
	}
	return nil
}

// boundWaypoint returns the waypoint named by the Service's or namespace's
// istio.io/use-waypoint label, or "".
func (c *splitCheck) boundWaypoint(ctx context.Context) (string, error) {
	name, _, err := c.lookup.useWaypoint(ctx, c.services[c.ts.Service], c.ts.Namespace)
	return name, err
}

// serviceProfile checks MESH-TS-013: in Linkerd a ServiceProfile wins over
// HTTPRoutes for its Service.
func (c *splitCheck) serviceProfile(ctx context.Context) error {
	if c.ts.Target != mesh.TargetLinkerd {
		return nil
	}
	name := mesh.ServiceFQDN(c.ts.Service, c.ts.Namespace)
	sp, err := c.get(ctx, mesh.GVKServiceProfile, c.ts.Namespace, name)
	if err != nil || sp == nil {
		return err
	}
	c.problems.Errorf(mesh.CodeTSServiceProfile, []any{"service"}, "ServiceProfile shadows the route",
		"ServiceProfile %s/%s takes precedence over HTTPRoutes for Service %s; delete it or manage routing there.",
		c.ts.Namespace, name, c.ts.Service)
	return nil
}

// routeConflicts checks MESH-TS-005/016 (MESH-GEN-002): one route object per
// Service port, whoever manages it.
func (c *splitCheck) routeConflicts(ctx context.Context) error {
	vss, err := c.list(ctx, mesh.GVKVirtualService, c.ts.Namespace)
	if err != nil {
		return err
	}
	routes, err := c.list(ctx, mesh.GVKHTTPRoute, c.ts.Namespace)
	if err != nil {
		return err
	}
	var others []string
	for _, vs := range vss {
		if vsRoutesHost(vs, c.ts.Service, c.ts.Namespace) && !c.ownedByUs(vs) {
			others = append(others, describe(vs))
		}
	}
	for _, rt := range routes {
		if httpRouteTargets(rt, c.ts.Service, c.ts.Port) && !c.ownedByUs(rt) {
			others = append(others, describe(rt))
		}
	}
	if len(others) == 0 {
		return nil
	}
	sort.Strings(others)
	c.problems.Errorf(mesh.CodeGenRouteConflict, []any{"service"}, "Service port already routed",
		"Service %s/%s:%d is already routed by %s; the provider composes one mesh_traffic_split and one mesh_mirror_route on the same Service:port into a single route; anything else (a second split/mirror, or an unmanaged VirtualService/HTTPRoute) must be imported (terraform import mesh_traffic_split.NAME %s/<name>) or removed.",
		c.ts.Namespace, c.ts.Service, c.ts.Port, strings.Join(others, ", "), c.ts.Namespace)
	return nil
}

func (c *splitCheck) ownedByUs(obj *unstructured.Unstructured) bool {
	return ownerLabel(obj) == c.ts.Owner || c.recorded[kube.IDOf(obj)]
}

// subsetConflicts checks MESH-TS-005: the DestinationRule this split renders
// must be the only one for its host, or Istio picks one of them arbitrarily.
func (c *splitCheck) subsetConflicts(ctx context.Context) error {
	if !c.ts.UsesVirtualService() || !c.ts.UsesSubsets() {
		return nil
	}
	drs, err := c.list(ctx, mesh.GVKDestinationRule, c.ts.Namespace)
	if err != nil {
		return err
	}
	services := c.subsetServices()
	for _, dr := range drs {
		host, _, _ := unstructured.NestedString(dr.Object, "spec", "host")
		for _, svc := range services {
			if !hostIs(host, svc, c.ts.Namespace) || c.ownedByUs(dr) {
				continue
			}
			c.subsetConflict(dr, svc)
		}
	}
	return nil
}

func (c *splitCheck) subsetConflict(dr *unstructured.Unstructured, svc string) {
	fix := "Delete it (after terraform import, the provider's DestinationRule " + c.ts.Name + " replaces it) or stop using subset_labels."
	if dr.GetName() == c.ts.Name {
		fix = fmt.Sprintf("Adopt it with terraform import mesh_traffic_split.NAME %s/%s, or delete it.", c.ts.Namespace, c.ts.Name)
	}
	c.problems.Errorf(mesh.CodeTSSubsetConflict, []any{"backends"}, "another DestinationRule defines subsets for the host",
		"DestinationRule %s/%s (%s) already defines subsets for host %s, and this split renders its own: Istio would pick one of them arbitrarily. %s",
		c.ts.Namespace, dr.GetName(), ownerOf(dr), mesh.ServiceFQDN(svc, c.ts.Namespace), fix)
}

// subsetServices lists the backend Services that use subset_labels.
func (c *splitCheck) subsetServices() []string {
	var out []string
	_ = c.eachBackend(func(_ []any, b mesh.Backend) error {
		if len(b.SubsetLabels) > 0 && !slices.Contains(out, b.Service) {
			out = append(out, b.Service)
		}
		return nil
	})
	return out
}

// describe names a conflicting object and who manages it.
func describe(obj *unstructured.Unstructured) string {
	return fmt.Sprintf("%s/%s (%s)", obj.GetKind(), obj.GetName(), ownerOf(obj))
}

func ownerOf(obj *unstructured.Unstructured) string {
	if owner := ownerLabel(obj); owner != "" {
		return owner
	}
	return "unmanaged"
}

// ownerLabel reads the owner label without copying the object's labels
// (GetLabels copies them): the conflict checks read it on every object of
// a namespace, for every resource of a plan.
func ownerLabel(obj *unstructured.Unstructured) string {
	v, _, _ := unstructured.NestedFieldNoCopy(obj.Object, "metadata", "labels", mesh.LabelOwner)
	owner, _ := v.(string)
	return owner
}

// vsRoutesHost reports whether a VirtualService routes the Service's host.
func vsRoutesHost(vs *unstructured.Unstructured, service, namespace string) bool {
	hosts, _, _ := unstructured.NestedFieldNoCopy(vs.Object, "spec", "hosts")
	list, _ := hosts.([]any)
	return slices.ContainsFunc(list, func(h any) bool {
		s, ok := h.(string)
		return ok && hostIs(s, service, namespace)
	})
}

// hostIs reports whether an Istio host names the Service, in any of the
// forms Istio resolves in the Service's namespace: service,
// service.namespace, service.namespace.svc and mesh.ServiceFQDN. It builds
// no strings: it runs for every route object of a namespace, for every
// resource of a plan.
func hostIs(host, service, namespace string) bool {
	rest, ok := strings.CutPrefix(host, service)
	if !ok {
		return false
	}
	if rest == "" {
		return true
	}
	if rest, ok = strings.CutPrefix(rest, "."); !ok {
		return false
	}
	if rest, ok = strings.CutPrefix(rest, namespace); !ok {
		return false
	}
	return rest == "" || rest == ".svc" || rest == ".svc."+mesh.ClusterDomain
}

// httpRouteTargets reports whether an HTTPRoute attaches to the Service on
// port (a parentRef without a port attaches to every port).
func httpRouteTargets(rt *unstructured.Unstructured, service string, port int64) bool {
	refs, _, _ := unstructured.NestedSlice(rt.Object, "spec", "parentRefs")
	for _, r := range refs {
		ref, ok := r.(map[string]any)
		if !ok || ref["kind"] != "Service" || ref["name"] != service {
			continue
		}
		if g, _ := ref["group"].(string); g != "" && g != "core" {
			continue
		}
		p, has := ref["port"].(int64)
		if !has || p == port {
			return true
		}
	}
	return false
}

func conditionTrue(obj *unstructured.Unstructured, condType string) bool {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == condType && m["status"] == "True" {
			return true
		}
	}
	return false
}

func hasPort(svc *corev1.Service, port int64) bool {
	for _, p := range svc.Spec.Ports {
		if int64(p.Port) == port {
			return true
		}
	}
	return false
}

func portList(svc *corev1.Service) string {
	if len(svc.Spec.Ports) == 0 {
		return "no ports"
	}
	ports := make([]string, len(svc.Spec.Ports))
	for i, p := range svc.Spec.Ports {
		ports[i] = fmt.Sprint(p.Port)
	}
	return strings.Join(ports, ", ")
}

func serviceKind(svc *corev1.Service) string {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return "an ExternalName Service"
	}
	return "a headless Service (clusterIP: None)"
}
