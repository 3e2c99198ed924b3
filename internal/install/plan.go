package install

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Official chart repositories, used when a plan names none.
const (
	IstioRepository   = "https://istio-release.storage.googleapis.com/charts"
	LinkerdRepository = "https://helm.linkerd.io/edge"
)

// IstioOptions describe an Istio control plane.
type IstioOptions struct {
	Namespace, Repository, Version, Revision string
	Ambient                                  bool
	// Values maps a chart name (base, istiod, cni, ztunnel) to YAML that is
	// deep-merged over the values the provider sets.
	Values map[string]string
}

// LinkerdOptions describe a Linkerd control plane.
type LinkerdOptions struct {
	Namespace, Repository, Version string
	Identity                       LinkerdIdentity
	// Values maps a chart name (linkerd-crds, linkerd-control-plane) to YAML
	// deep-merged over the values the provider sets.
	Values map[string]string
}

// LinkerdIdentity is the trust anchor bundle and the issuer certificate and
// key, all PEM.
type LinkerdIdentity struct {
	TrustAnchorsPEM, IssuerCertPEM, IssuerKeyPEM string
}

// IstioPlan returns the Istio releases of MESH-MAPPING §1.2 in install
// order: istio-base, istiod[-<rev>], then istio-cni and ztunnel for ambient.
func IstioPlan(o IstioOptions) (Plan, error) {
	ns := orDefault(o.Namespace, "istio-system")
	p := Plan{Mesh: Istio, Namespace: ns, Repository: orDefault(o.Repository, IstioRepository), Version: o.Version}
	if o.Version == "" {
		return Plan{}, fmt.Errorf("istio plan: version is required")
	}
	defaultRevision := orDefault(o.Revision, "default")
	istiod := map[string]any{}
	istiodName := "istiod"
	if o.Revision != "" {
		istiod["revision"] = o.Revision
		istiodName += "-" + o.Revision
	}
	if ns != "istio-system" {
		// Mesh-wide policy lives in the root namespace, which defaults to the
		// literal istio-system rather than istiod's namespace.
		istiod["meshConfig"] = map[string]any{"rootNamespace": ns}
	}
	if o.Ambient {
		istiod["profile"] = "ambient"
	}
	p.Releases = []Release{
		{Name: "istio-base", Chart: "base", Values: map[string]any{
			"defaultRevision": defaultRevision,
			"global":          map[string]any{"istioNamespace": ns},
		}},
		{Name: istiodName, Chart: "istiod", Values: istiod},
	}
	if o.Ambient {
		ztunnel := map[string]any{"istioNamespace": ns}
		if o.Revision != "" {
			ztunnel["revision"] = o.Revision
		}
		p.Releases = append(p.Releases,
			Release{Name: "istio-cni", Chart: "cni", Values: map[string]any{"profile": "ambient"}},
			Release{Name: "ztunnel", Chart: "ztunnel", Values: ztunnel})
	}
	return p.withUserValues(o.Values)
}

// LinkerdPlan returns the Linkerd releases of MESH-MAPPING §1.3 in install
// order: linkerd-crds, then linkerd-control-plane, both in one namespace.
func LinkerdPlan(o LinkerdOptions) (Plan, error) {
	p := Plan{Mesh: Linkerd, Namespace: orDefault(o.Namespace, "linkerd"), Repository: orDefault(o.Repository, LinkerdRepository), Version: o.Version}
	if o.Version == "" {
		return Plan{}, fmt.Errorf("linkerd plan: version is required")
	}
	id := o.Identity
	if id.TrustAnchorsPEM == "" || id.IssuerCertPEM == "" || id.IssuerKeyPEM == "" {
		return Plan{}, fmt.Errorf("linkerd plan: the trust anchors, issuer certificate and issuer key are all required")
	}
	p.Releases = []Release{
		// The Gateway API CRDs come from gateway-api itself (§1.4).
		{Name: "linkerd-crds", Chart: "linkerd-crds", Values: map[string]any{"installGatewayAPI": false}},
		{Name: "linkerd-control-plane", Chart: "linkerd-control-plane", Values: map[string]any{
			"identityTrustAnchorsPEM": id.TrustAnchorsPEM,
			"identity": map[string]any{"issuer": map[string]any{"tls": map[string]any{
				"crtPEM": id.IssuerCertPEM, "keyPEM": id.IssuerKeyPEM,
			}}},
			"heartbeatSchedule": heartbeatSchedule(p.Namespace),
		}},
	}
	return p.withUserValues(o.Values)
}

// heartbeatSchedule is the daily time linkerd-control-plane's heartbeat
// CronJob runs at unless values set it. The chart's own default is "ten
// minutes after render time", which changes the CronJob, and so the plan and
// the release, from one minute to the next. The pinned time is spread per
// namespace, as the chart's render-time default spreads it per install.
func heartbeatSchedule(namespace string) string {
	h := fnv.New32a()
	h.Write([]byte(namespace))
	sum := h.Sum32()
	return fmt.Sprintf("%d %d * * *", sum%60, (sum/60)%24)
}

// withUserValues sets every release's namespace and deep-merges the user's
// YAML for its chart over the provider's values.
func (p Plan) withUserValues(user map[string]string) (Plan, error) {
	parsed := map[string]map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(user)) {
		if !slices.Contains(meshCharts[p.Mesh], name) {
			return Plan{}, fmt.Errorf("values for chart %q: %s has no such chart (charts: %s)", name, p.Mesh, strings.Join(meshCharts[p.Mesh], ", "))
		}
		var over map[string]any
		if err := yaml.Unmarshal([]byte(user[name]), &over); err != nil {
			return Plan{}, fmt.Errorf("values for chart %q are not valid YAML: %w", name, err)
		}
		parsed[name] = over
	}
	for i := range p.Releases {
		r := &p.Releases[i]
		r.Namespace = p.Namespace
		if over, ok := parsed[r.Chart]; ok {
			r.Values = deepMerge(r.Values, over)
		}
	}
	return p, nil
}

// meshCharts are the chart names values may be given for. Values for a
// chart the plan does not install (cni in sidecar mode) are checked but
// unused, so that switching mode does not make a configuration invalid.
var meshCharts = map[Mesh][]string{
	Istio:   {"base", "istiod", "cni", "ztunnel"},
	Linkerd: {"linkerd-crds", "linkerd-control-plane"},
}

// UpgradeOrder is the order upgrades run in: base first, then the control
// plane, then the data plane (istio-cni and ztunnel support a control plane
// of their version or one newer, never an older one).
func (p Plan) UpgradeOrder() []Release {
	rank := func(r Release) int {
		switch r.Chart {
		case "base", "linkerd-crds":
			return 0
		case "istiod", "linkerd-control-plane":
			return 1
		default:
			return 2
		}
	}
	out := slices.Clone(p.Releases)
	slices.SortStableFunc(out, func(a, b Release) int { return rank(a) - rank(b) })
	return out
}

// deepMerge returns base with over merged in: maps merge key by key, any
// other value in over replaces base's. Neither input is modified.
func deepMerge(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range over {
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		if bok && ook {
			out[k] = deepMerge(bm, om)
		} else {
			out[k] = v
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
