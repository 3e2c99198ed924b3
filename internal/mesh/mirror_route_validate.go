package mesh

import "maps"

// Catalogue wording (MESH-MAPPING §4.3), kept verbatim.
const (
	MirLinkerdMessage    = `traffic mirroring is not supported by Linkerd: the policy controller rejects RequestMirror filters ("RequestMirror filter is not supported") and drops the whole HTTPRoute. See linkerd/linkerd2#4385.`
	mirPercentageMessage = "percentage must be between 0 and 100."
	mirSameTargetMessage = "mirror target must differ from the primary destination."
)

// mirrorPaths names the attributes of a mirror, which differ between the
// mesh_mirror_route (top level) and a mesh_traffic_split's mirror block.
type mirrorPaths struct {
	block, percentage, destination, match []any
}

var (
	mirrorRoutePaths = mirrorPaths{block: tsAttr("target"), percentage: tsAttr("percentage"), destination: tsAttr("mirror"), match: tsAttr("match")}
	splitMirrorPaths = mirrorPaths{block: tsAttr("mirror"), percentage: tsAttr("mirror", "percentage"), destination: tsAttr("mirror"), match: tsAttr("mirror", "match")}
)

// Validate reports every pure-config mistake in a Normalize()d mirror route.
func (mr MirrorRoute) Validate() Problems {
	var ps Problems
	ts := mr.Split()
	ts.validateNames(&ps, CodeMirName)
	validateLabels(&ps, CodeMirLabels, tsAttr("primary", "subset_labels"), mr.Primary.SubsetLabels)
	validateLabels(&ps, CodeMirLabels, tsAttr("mirror", "subset_labels"), mr.Mirror.Destination.SubsetLabels)
	ts.validatePort(&ps, tsAttr("port"), mr.Port)
	ts.validatePort(&ps, tsAttr("primary", "port"), mr.Primary.Port)
	ts.validateAPI(&ps)
	if len(mr.Primary.SubsetLabels) > 0 && !ts.supportsSubsets() {
		ps.Errorf(CodeTSSubsetLabels, tsAttr("primary", "subset_labels"), "subset_labels need Istio VirtualService",
			tsSubsetLabelsMessage, ts.targetDescription())
	}
	ts.validateMirror(&ps, mr.Mirror, mirrorRoutePaths)
	return ps
}

// validateMirror checks a mirror against the route it is part of: the
// split's default backends are the primary destinations.
func (ts TrafficSplit) validateMirror(ps *Problems, m Mirror, at mirrorPaths) {
	if ts.Target == TargetLinkerd {
		ps.Errorf(CodeMirLinkerd, at.block, "traffic mirroring is not supported by Linkerd", "%s Remove the mirror, or mirror on an Istio target.", MirLinkerdMessage)
	}
	if m.Percentage < 0 || m.Percentage > MaxMirrorPercentage {
		ps.Errorf(CodeMirPercentage, at.percentage, "percentage out of range", "%s It is %g.", mirPercentageMessage, m.Percentage)
	}
	d := m.Destination
	ts.validatePort(ps, tsAttr(at.destination, "port"), d.Port)
	for _, b := range ts.Backends {
		if d.Namespace == ts.Namespace && d.Service == b.Service && d.Port == b.Port && maps.Equal(d.SubsetLabels, b.SubsetLabels) {
			ps.Errorf(CodeMirSameTarget, at.destination, "mirror target is the primary destination",
				"%s Service %s/%s:%d already receives these requests; mirror to another Service, port or subset.",
				mirSameTargetMessage, d.Namespace, d.Service, d.Port)
			break
		}
	}
	labels := tsAttr(at.destination, "subset_labels")
	switch {
	case len(d.SubsetLabels) > 0 && !ts.supportsSubsets():
		ps.Errorf(CodeMirSubsetLabels, labels, "subset_labels need Istio VirtualService", tsSubsetLabelsMessage, ts.targetDescription())
	case len(d.SubsetLabels) > 0 && d.Namespace != ts.Namespace:
		ps.Errorf(CodeMirSubsetNS, labels, "mirror subsets need the route's namespace",
			"mirror subset_labels are rendered as a DestinationRule subset in namespace %s, the route's, but the mirror Service is in %s. Mirror to a Service of %s, or to one Service per version without subset_labels.",
			ts.Namespace, d.Namespace, ts.Namespace)
	}
	if m.Match != nil {
		ts.validateMirrorMatch(ps, *m.Match, at.match)
	}
}

func (ts TrafficSplit) validateMirrorMatch(ps *Problems, r MatchRoute, at []any) {
	if r.matchesEverything() {
		ps.Errorf(CodeMirMatchAll, at, "mirror match matches every request",
			"%s has no header, method or path condition narrower than prefix \"/\"; leave match out to mirror every request.", tsAttrString(at))
	}
	// Gateway API ranks rules by their matches, not their order, so a mirror
	// rule could take requests from a match route; a VirtualService keeps the
	// order (match routes, mirror, default) and stays exact.
	if len(ts.MatchRoutes) > 0 && !ts.UsesVirtualService() {
		ps.Errorf(CodeMirMatchPrecedent, at, "mirror match with match_routes on Gateway API",
			"With Gateway API (HTTPRoute) rendering, a mirror rule with its own match could outrank match_routes and take their requests. Leave mirror.match out (the mirror then copies the default rule's requests), or drop match_routes.")
	}
	ts.validateConditions(ps, at, r)
}
