package mesh

// WeightSemantics says how backend weights are read.
type WeightSemantics string

const (
	// WeightPercent: the weights of each rule must sum to 100.
	WeightPercent WeightSemantics = "percent"
	// WeightRelative: each backend gets weight/sum of the rule's traffic.
	WeightRelative WeightSemantics = "relative"
)

var WeightSemanticsValues = []WeightSemantics{WeightPercent, WeightRelative}

// IstioAPI chooses the Istio routing API.
type IstioAPI string

const (
	// IstioAPIAuto: VirtualService on istio-sidecar, HTTPRoute on istio-ambient.
	IstioAPIAuto           IstioAPI = "auto"
	IstioAPIVirtualService IstioAPI = "virtualservice"
	IstioAPIGatewayAPI     IstioAPI = "gateway_api"
)

var IstioAPIValues = []IstioAPI{IstioAPIAuto, IstioAPIVirtualService, IstioAPIGatewayAPI}

// WaypointMode says whether an ambient route needs an existing waypoint or
// creates one.
type WaypointMode string

const (
	WaypointRequire WaypointMode = "require"
	WaypointCreate  WaypointMode = "create"
)

var WaypointModeValues = []WaypointMode{WaypointRequire, WaypointCreate}

// MatchType is how a header or path value is compared.
type MatchType string

const (
	MatchExact  MatchType = "exact"
	MatchPrefix MatchType = "prefix"
	MatchRegex  MatchType = "regex"
)

var MatchTypeValues = []MatchType{MatchExact, MatchPrefix, MatchRegex}

// Limits from Gateway API (16 backendRefs per rule, 16 rules per HTTPRoute).
const (
	MaxBackends       = 16
	MaxMatchRoutes    = 15 // the weighted default rule is the 16th
	MaxPercentWeight  = 100
	MaxRelativeWeight = 1_000_000
)

// TrafficSplit is the intent of one mesh_traffic_split, with every default
// already applied (see Normalize).
type TrafficSplit struct {
	Name      string
	Namespace string
	// Owner is the value of the owner label on every rendered object.
	Owner   string
	Service string
	Port    int64
	Target  Target

	Backends        []Backend
	MatchRoutes     []MatchRoute
	WeightSemantics WeightSemantics
	IstioAPI        IstioAPI
	Waypoint        Waypoint
	// Mirror, when set, also shadows the requests of the weighted default
	// rule (those matching Mirror.Match, if set) to a second backend.
	Mirror *Mirror
}

// WeightUnset marks a backend whose weight the user left out. Normalize gives
// the only backend of a rule 100; Validate rejects it in a rule of several.
const WeightUnset int64 = -1

// Backend is one weighted destination.
type Backend struct {
	Service      string
	Port         int64
	Weight       int64
	SubsetLabels map[string]string
}

// MatchRoute is an A/B rule, tried before the weighted default rule.
type MatchRoute struct {
	Headers  []HeaderMatch
	Path     *PathMatch
	Method   string
	Backends []Backend
}

type HeaderMatch struct {
	Name  string
	Value string
	Type  MatchType
}

type PathMatch struct {
	Type  MatchType
	Value string
}

// Waypoint is the ambient waypoint a route is enforced by.
type Waypoint struct {
	Mode WaypointMode
	Name string
}

// DefaultWaypointName is the name istioctl waypoint apply uses.
const DefaultWaypointName = "waypoint"

// Normalize fills the defaults the schema documents: backend service and port
// default to the parent's, and the enums to their first value.
func (ts *TrafficSplit) Normalize() {
	if ts.WeightSemantics == "" {
		ts.WeightSemantics = WeightPercent
	}
	if ts.IstioAPI == "" {
		ts.IstioAPI = IstioAPIAuto
	}
	if ts.Waypoint.Mode == "" {
		ts.Waypoint.Mode = WaypointRequire
	}
	if ts.Waypoint.Name == "" {
		ts.Waypoint.Name = DefaultWaypointName
	}
	ts.Backends = ts.defaultBackends(ts.Backends)
	if ts.Mirror != nil {
		ts.Mirror.normalize(ts.Namespace)
	}
	for i := range ts.MatchRoutes {
		ts.MatchRoutes[i].Backends = ts.defaultBackends(ts.MatchRoutes[i].Backends)
		for j := range ts.MatchRoutes[i].Headers {
			if ts.MatchRoutes[i].Headers[j].Type == "" {
				ts.MatchRoutes[i].Headers[j].Type = MatchExact
			}
		}
	}
}

func (ts *TrafficSplit) defaultBackends(in []Backend) []Backend {
	if len(in) == 1 && in[0].Weight == WeightUnset {
		in[0].Weight = MaxPercentWeight
	}
	for i := range in {
		if in[i].Service == "" {
			in[i].Service = ts.Service
		}
		if in[i].Port == 0 {
			in[i].Port = ts.Port
		}
	}
	return in
}

// UsesVirtualService reports whether the split renders as Istio
// VirtualService plus DestinationRule rather than an HTTPRoute.
func (ts *TrafficSplit) UsesVirtualService() bool {
	switch ts.Target {
	case TargetIstioSidecar:
		return ts.IstioAPI != IstioAPIGatewayAPI
	case TargetIstioAmbient:
		return ts.IstioAPI == IstioAPIVirtualService
	}
	return false
}

// UsesSubsets reports whether any backend selects pods by label.
func (ts *TrafficSplit) UsesSubsets() bool {
	for _, b := range ts.allBackends() {
		if len(b.SubsetLabels) > 0 {
			return true
		}
	}
	return ts.Mirror != nil && len(ts.Mirror.Destination.SubsetLabels) > 0
}

// allBackends returns the backends of every rule, match routes first.
func (ts *TrafficSplit) allBackends() []Backend {
	var all []Backend
	for _, r := range ts.MatchRoutes {
		all = append(all, r.Backends...)
	}
	return append(all, ts.Backends...)
}
