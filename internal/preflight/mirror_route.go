package preflight

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// The Gateway API CRD the mirror percentage depends on, and the annotations
// every Gateway API release stamps on its CRDs.
const (
	httpRouteCRDName = "httproutes." + mesh.GroupGatewayAPI
	splitOwnerPrefix = "mesh_traffic_split."
)

// MirrorRoute runs the cluster checks of a mesh_mirror_route (MESH-MAPPING
// §4.3 and §6): those of the route object it shares with mesh_traffic_split
// (parent and primary Services, namespace, waypoint, DestinationRules), the
// mirror's own, and the one-route-per-Service-port rule. mr must be
// normalized, with Owner set.
func MirrorRoute(ctx context.Context, m *kube.Manager, mr mesh.MirrorRoute, recorded []kube.ID) (mesh.Problems, error) {
	c := newSplitCheck(m, mr.Split(), recorded)
	mc := mirrorCheck{splitCheck: c, mirror: mr.Mirror, at: mirrorRouteAt}
	for _, step := range []func(context.Context) error{
		c.apisServed, c.parentService, c.backendServices, c.namespaceEnrolled,
		c.waypointBound, mc.routeConflicts, c.subsetConflicts, mc.destination, mc.percentCRD,
	} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	return asMirrorRouteProblems(c.problems), nil
}

// SplitMirror runs the checks of a mesh_traffic_split's mirror block; the
// split's own checks (preflight.TrafficSplit) cover the rest of the route.
func SplitMirror(ctx context.Context, m *kube.Manager, ts mesh.TrafficSplit, recorded []kube.ID) (mesh.Problems, error) {
	if ts.Mirror == nil {
		return nil, nil
	}
	c := newSplitCheck(m, ts, recorded)
	mc := mirrorCheck{splitCheck: c, mirror: *ts.Mirror, at: splitMirrorAt}
	for _, step := range []func(context.Context) error{mc.destination, mc.percentCRD} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	return c.problems, nil
}

func newSplitCheck(m *kube.Manager, ts mesh.TrafficSplit, recorded []kube.ID) *splitCheck {
	c := &splitCheck{lookup: lookup{m}, ts: ts, services: map[string]*corev1.Service{}, recorded: map[kube.ID]bool{}}
	for _, id := range recorded {
		c.recorded[id] = true
	}
	return c
}

// mirrorAttrs names the mirror's attributes in the resource's schema.
type mirrorAttrs struct {
	destination, percentage []any
}

var (
	mirrorRouteAt = mirrorAttrs{destination: []any{"mirror"}, percentage: []any{"percentage"}}
	splitMirrorAt = mirrorAttrs{destination: []any{"mirror"}, percentage: []any{"mirror", "percentage"}}
)

type mirrorCheck struct {
	*splitCheck
	mirror mesh.Mirror
	at     mirrorAttrs
}

// asMirrorRouteProblems renames the findings of the split's checks for a
// mirror route: its one backend is `primary`, and a missing waypoint is
// MESH-MIR-005 (same text as MESH-TS-006).
func asMirrorRouteProblems(ps mesh.Problems) mesh.Problems {
	for i, p := range ps {
		if len(p.Path) >= 2 && p.Path[0] == "backends" {
			ps[i].Path = append([]any{"primary"}, p.Path[2:]...)
		} else if len(p.Path) == 1 && p.Path[0] == "backends" {
			ps[i].Path = []any{"primary"}
		}
		if p.Code == mesh.CodeTSNoWaypoint {
			ps[i].Code = mesh.CodeMirWaypoint
			ps[i].Summary = mesh.CodeMirWaypoint + strings.TrimPrefix(p.Summary, p.Code)
		}
	}
	return ps
}

// destination checks MESH-MIR-007: the mirror Service and port exist.
func (c mirrorCheck) destination(ctx context.Context) error {
	d := c.mirror.Destination
	svc, err := c.lookup.service(ctx, d.Namespace, d.Service)
	if err == nil && svc == nil {
		c.problems.Errorf(mesh.CodeMirNotFound, append(c.at.destination, "service"), "mirror target not found",
			"mirror target %s:%d not found: Service %s/%s does not exist. Create it before mirroring to it, or fix mirror.service (and mirror.namespace).",
			d.Service, d.Port, d.Namespace, d.Service)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get Service %s/%s: %w", d.Namespace, d.Service, err)
	}
	if !hasPort(svc, d.Port) {
		c.problems.Errorf(mesh.CodeMirNotFound, append(c.at.destination, "port"), "mirror target not found",
			"mirror target %s:%d not found: Service %s/%s has no port %d (it has %s). Set mirror.port to one of them.",
			d.Service, d.Port, d.Namespace, d.Service, d.Port, portList(svc))
	}
	return nil
}

// percentCRD checks MESH-MIR-003: a Gateway API CRD older than the mirror
// percentage prunes percent and fraction, and the route mirrors 100 %.
func (c mirrorCheck) percentCRD(ctx context.Context) error {
	if c.ts.UsesVirtualService() || c.mirror.Percentage == mesh.MaxMirrorPercentage {
		return nil
	}
	crd, err := c.get(ctx, mesh.GVKCRD, "", httpRouteCRDName)
	if err != nil || crd == nil {
		return err // a missing CRD is apisServed's MESH-GEN-005
	}
	if ok, version := MirrorPercentInCRD(crd); !ok {
		c.problems.Errorf(mesh.CodeMirCRDVersion, c.at.percentage, "Gateway API CRDs lack the mirror percentage",
			"Gateway API %s CRDs have no requestMirror.percent/fraction; the field would be pruned and 100%% of traffic mirrored. Upgrade Gateway API CRDs to ≥ %s, or leave percentage at 100.",
			version, mesh.MirrorPercentStandardVersion)
	}
	return nil
}

// MirrorPercentInCRD reports whether an HTTPRoute CRD has the mirror
// percentage: by its bundle-version annotation, or, when that is missing or
// unreadable, by its schema. version is the annotation (or "unknown").
func MirrorPercentInCRD(crd *unstructured.Unstructured) (ok bool, version string) {
	version = crd.GetAnnotations()[mesh.AnnotationGatewayAPIBundleVersion]
	if supported, known := mesh.MirrorPercentSupported(version, crd.GetAnnotations()[mesh.AnnotationGatewayAPIChannel]); known {
		return supported, version
	}
	if version == "" {
		version = "(unknown version)"
	}
	return schemaHasMirrorPercent(crd.Object), version
}

// schemaHasMirrorPercent looks for requestMirror.properties.percent anywhere
// in the CRD's schemas.
func schemaHasMirrorPercent(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		if rm, ok := v["requestMirror"].(map[string]any); ok {
			if _, found, _ := unstructured.NestedMap(rm, "properties", "percent"); found {
				return true
			}
		}
		for _, child := range v {
			if schemaHasMirrorPercent(child) {
				return true
			}
		}
	case []any:
		for _, child := range v {
			if schemaHasMirrorPercent(child) {
				return true
			}
		}
	}
	return false
}

// routeConflicts is MESH-GEN-002 for a mirror route; when a
// mesh_traffic_split routes the port (MESH-MIR-009), the fix is that
// split's mirror block.
func (c mirrorCheck) routeConflicts(ctx context.Context) error {
	others, err := c.otherRoutes(ctx)
	if err != nil || len(others) == 0 {
		return err
	}
	var names []string
	split := ""
	for _, o := range others {
		names = append(names, describe(o))
		if owner := ownerLabel(o); strings.HasPrefix(owner, splitOwnerPrefix) {
			split = owner
		}
	}
	sort.Strings(names)
	ts := c.ts
	if split != "" {
		c.problems.Errorf(mesh.CodeMirRouted, []any{"service"}, "Service port already routed by a mesh_traffic_split",
			"Service %s/%s:%d is already routed by %s; one route object per Service port is allowed. To split and mirror the same Service port, remove this mesh_mirror_route and set the mirror block of that mesh_traffic_split instead: mirror = { service = %q, port = %d, percentage = %g }.",
			ts.Namespace, ts.Service, ts.Port, strings.Join(names, ", "), c.mirror.Destination.Service, c.mirror.Destination.Port, c.mirror.Percentage)
		return nil
	}
	c.problems.Errorf(mesh.CodeGenRouteConflict, []any{"service"}, "Service port already routed",
		"Service %s/%s:%d is already routed by %s; the provider composes one mesh_traffic_split and one mesh_mirror_route on the same Service:port into a single route; anything else (a second split/mirror, or an unmanaged VirtualService/HTTPRoute) must be imported (terraform import mesh_mirror_route.NAME %s/<name>) or removed.",
		ts.Namespace, ts.Service, ts.Port, strings.Join(names, ", "), ts.Namespace)
	return nil
}

// otherRoutes lists the route objects for the Service port that are not
// this resource's.
func (c mirrorCheck) otherRoutes(ctx context.Context) ([]*unstructured.Unstructured, error) {
	vss, err := c.list(ctx, mesh.GVKVirtualService, c.ts.Namespace)
	if err != nil {
		return nil, err
	}
	routes, err := c.list(ctx, mesh.GVKHTTPRoute, c.ts.Namespace)
	if err != nil {
		return nil, err
	}
	var others []*unstructured.Unstructured
	for _, vs := range vss {
		if vsRoutesHost(vs, c.ts.Service, c.ts.Namespace) && !c.ownedByUs(vs) {
			others = append(others, vs)
		}
	}
	for _, rt := range routes {
		if httpRouteTargets(rt, c.ts.Service, c.ts.Port) && !c.ownedByUs(rt) {
			others = append(others, rt)
		}
	}
	return others, nil
}
