package mesh

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxMirrorPercentage is the share of requests mirrored by default: all.
const MaxMirrorPercentage = 100.0

// Mirror shadows requests to a second backend, fire-and-forget: responses
// from the mirror are discarded. It is the mesh_mirror_route's intent and
// the `mirror` block of a mesh_traffic_split; both render it into the one
// route object of their Service port.
type Mirror struct {
	Destination MirrorDestination
	// Percentage of the requests mirrored, 0 to 100.
	Percentage float64
	// Match, when set, narrows the mirrored requests; its Backends are unused
	// (matching requests still go to the route's primary backends).
	Match *MatchRoute
}

// MirrorDestination is where mirrored requests go. Namespace defaults to the
// route's.
type MirrorDestination struct {
	Service      string
	Namespace    string
	Port         int64
	SubsetLabels map[string]string
}

// Backend is the destination seen as a backend of the route's namespace,
// for the subset (DestinationRule) plan.
func (d MirrorDestination) Backend() Backend {
	return Backend{Service: d.Service, Port: d.Port, SubsetLabels: d.SubsetLabels}
}

// normalize fills the mirror's defaults for a route in namespace.
func (m *Mirror) normalize(namespace string) {
	if m.Destination.Namespace == "" {
		m.Destination.Namespace = namespace
	}
	if m.Match != nil {
		for j := range m.Match.Headers {
			if m.Match.Headers[j].Type == "" {
				m.Match.Headers[j].Type = MatchExact
			}
		}
	}
}

// IsWholePercent reports whether the percentage is an integer, which
// Gateway API renders as `percent` (otherwise as a `fraction`).
func (m Mirror) IsWholePercent() bool {
	return m.Percentage == float64(int64(m.Percentage))
}

// MirrorRoute is the intent of one mesh_mirror_route, with every default
// already applied (see Normalize): requests to Service:Port go to Primary,
// and Mirror.Percentage of them (those matching Mirror.Match) are also
// copied to Mirror.Destination.
type MirrorRoute struct {
	Name      string
	Namespace string
	Owner     string
	Service   string
	Port      int64
	Target    Target

	// Primary is where requests go; its Weight is unused.
	Primary  Backend
	Mirror   Mirror
	IstioAPI IstioAPI
	Waypoint Waypoint
}

// Normalize fills the defaults the schema documents: the primary is the
// parent Service and port, the mirror is in the route's namespace.
func (mr *MirrorRoute) Normalize() {
	if mr.Primary.Service == "" {
		mr.Primary.Service = mr.Service
	}
	if mr.Primary.Port == 0 {
		mr.Primary.Port = mr.Port
	}
	mr.Primary.Weight = MaxPercentWeight
	if mr.IstioAPI == "" {
		mr.IstioAPI = IstioAPIAuto
	}
	if mr.Waypoint.Mode == "" {
		mr.Waypoint.Mode = WaypointRequire
	}
	if mr.Waypoint.Name == "" {
		mr.Waypoint.Name = DefaultWaypointName
	}
	mr.Mirror.normalize(mr.Namespace)
}

// Split is the mirror route as the route object renders it: a traffic split
// whose one default backend is the primary, carrying the mirror. Rendering,
// cluster checks and import go through it, so the two resources render
// their shared Service port alike.
func (mr MirrorRoute) Split() TrafficSplit {
	m := mr.Mirror
	return TrafficSplit{
		Name: mr.Name, Namespace: mr.Namespace, Owner: mr.Owner,
		Service: mr.Service, Port: mr.Port, Target: mr.Target,
		Backends:        []Backend{mr.Primary},
		WeightSemantics: WeightPercent,
		IstioAPI:        mr.IstioAPI,
		Waypoint:        mr.Waypoint,
		Mirror:          &m,
	}
}

// MirrorRouteFromSplit is the inverse of Split, for import: it fails when the
// split has more than a lone primary backend and a mirror.
func MirrorRouteFromSplit(ts TrafficSplit) (MirrorRoute, error) {
	switch {
	case ts.Mirror == nil:
		return MirrorRoute{}, fmt.Errorf("the route mirrors no requests; import it as a mesh_traffic_split")
	case len(ts.MatchRoutes) > 0 || len(ts.Backends) != 1:
		return MirrorRoute{}, fmt.Errorf("the route splits traffic (%d match routes, %d default backends) besides mirroring; import it as a mesh_traffic_split with a mirror block",
			len(ts.MatchRoutes), len(ts.Backends))
	}
	primary := ts.Backends[0]
	primary.Weight = MaxPercentWeight
	return MirrorRoute{
		Name: ts.Name, Namespace: ts.Namespace, Owner: ts.Owner,
		Service: ts.Service, Port: ts.Port, Target: ts.Target,
		Primary: primary, Mirror: *ts.Mirror, IstioAPI: ts.IstioAPI, Waypoint: ts.Waypoint,
	}, nil
}

// Gateway API releases whose standard HTTPRoute CRD has
// requestMirror.percent and fraction (experimental had them one minor
// earlier).
const (
	MirrorPercentStandardVersion     = "v1.3.0"
	MirrorPercentExperimentalVersion = "v1.2.0"
)

// MirrorPercentSupported reports whether the Gateway API CRDs of bundle
// version (annotation gateway.networking.k8s.io/bundle-version, e.g.
// "v1.4.0") and channel ("standard" or "experimental") have the mirror
// percent field. known is false when the version does not parse.
func MirrorPercentSupported(version, channel string) (supported, known bool) {
	minimum := MirrorPercentStandardVersion
	if channel == "experimental" {
		minimum = MirrorPercentExperimentalVersion
	}
	have, ok := parseSemver(version)
	if !ok {
		return false, false
	}
	want, _ := parseSemver(minimum)
	for i := range have {
		if have[i] != want[i] {
			return have[i] > want[i], true
		}
	}
	return true, true
}

// parseSemver reads "v1.2.3" (a pre-release or build suffix is ignored:
// v1.3.0-rc.1 already has the field).
func parseSemver(v string) ([3]int, bool) {
	var out [3]int
	v, ok := strings.CutPrefix(v, "v")
	if !ok {
		return out, false
	}
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, false
		}
		out[i] = n
	}
	return out, true
}
