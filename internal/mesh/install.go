package mesh

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/yaml"
)

// InstallMesh is the control plane a mesh_install installs.
type InstallMesh string

const (
	MeshIstio   InstallMesh = "istio"
	MeshLinkerd InstallMesh = "linkerd"
)

// InstallMeshes lists every InstallMesh.
var InstallMeshes = []InstallMesh{MeshIstio, MeshLinkerd}

// InstallMode is Istio's data-plane mode.
type InstallMode string

const (
	ModeAmbient InstallMode = "ambient"
	ModeSidecar InstallMode = "sidecar"
)

// InstallModes lists every InstallMode, the default first.
var InstallModes = []InstallMode{ModeAmbient, ModeSidecar}

// GatewayAPIMode says what mesh_install does about the Gateway API CRDs.
type GatewayAPIMode string

const (
	GatewayAPIRequire GatewayAPIMode = "require"
	GatewayAPIInstall GatewayAPIMode = "install"
	GatewayAPIIgnore  GatewayAPIMode = "ignore"
)

// GatewayAPIModes lists every GatewayAPIMode, the default first.
var GatewayAPIModes = []GatewayAPIMode{GatewayAPIRequire, GatewayAPIInstall, GatewayAPIIgnore}

// Chart names, as in the official repositories.
const (
	ChartBase                = "base"
	ChartIstiod              = "istiod"
	ChartCNI                 = "cni"
	ChartZtunnel             = "ztunnel"
	ChartLinkerdCRDs         = "linkerd-crds"
	ChartLinkerdControlPlane = "linkerd-control-plane"
)

// Defaults per mesh.
const (
	IstioRepository   = "https://istio-release.storage.googleapis.com/charts"
	LinkerdRepository = "https://helm.linkerd.io/edge"
	IstioNamespace    = "istio-system"
	LinkerdNamespace  = "linkerd"
)

// Install is the intent of a mesh_install: which control plane, at which
// chart version, with the user's per-chart values (YAML).
type Install struct {
	Mesh      InstallMesh
	Mode      InstallMode // istio only
	Version   string
	Namespace string
	Revision  string            // istio only
	Values    map[string]string // chart name → YAML mapping
}

// Charts are the charts the install uses, in install order.
func (in Install) Charts() []string {
	switch {
	case in.Mesh == MeshLinkerd:
		return []string{ChartLinkerdCRDs, ChartLinkerdControlPlane}
	case in.Mode == ModeAmbient:
		return []string{ChartBase, ChartIstiod, ChartCNI, ChartZtunnel}
	}
	return []string{ChartBase, ChartIstiod}
}

func (in Install) describe() string {
	if in.Mesh == MeshIstio {
		return fmt.Sprintf("istio (mode %s)", in.Mode)
	}
	return string(in.Mesh)
}

// ChartValues parses the user's values of chart (nil when none).
func (in Install) ChartValues(chart string) (map[string]any, error) {
	y, ok := in.Values[chart]
	if !ok {
		return nil, nil
	}
	var v map[string]any
	if err := yaml.Unmarshal([]byte(y), &v); err != nil {
		return nil, fmt.Errorf("values[%q] is not a YAML mapping: %v", chart, err)
	}
	return v, nil
}

// Validate runs the pure checks.
func (in Install) Validate() Problems {
	var ps Problems
	in.validateNames(&ps)
	in.validateVersion(&ps)
	values := map[string]map[string]any{}
	for _, chart := range slices.Sorted(maps.Keys(in.Values)) {
		if !slices.Contains(in.Charts(), chart) {
			ps = append(ps, Problem{SeverityError, "", []any{"values"}, "Unknown chart in values",
				fmt.Sprintf("values[%q]: %s installs no chart %q; use one of %q.", chart, in.describe(), chart, in.Charts())})
			continue
		}
		v, err := in.ChartValues(chart)
		if err != nil {
			ps = append(ps, Problem{SeverityError, "", []any{"values"}, "Invalid values", err.Error() + "."})
			continue
		}
		values[chart] = v
	}
	if in.Mesh == MeshIstio {
		ps = append(ps, in.validateAmbientVersion()...)
		ps = append(ps, in.validateAmbient(values)...)
		ps = append(ps, in.validateDataPlaneVersions(values)...)
		ps = append(ps, in.validateHoldApplication(values)...)
	}
	return ps
}

// validateNames is MESH-INS-015. An empty namespace takes the mesh's
// default. A revision names the istiod release "istiod-<revision>" (see
// internal/install), and Helm release names hold at most 53 characters.
func (in Install) validateNames(ps *Problems) {
	if in.Namespace != "" {
		validateDNSLabel(ps, CodeInsName, []any{"namespace"}, in.Namespace, roleNamespace)
	}
	if in.Revision == "" || !validateDNSLabel(ps, CodeInsName, []any{"revision"}, in.Revision, "an Istio revision") {
		return
	}
	if release := ChartIstiod + "-" + in.Revision; len(release) > maxReleaseName {
		ps.Errorf(CodeInsName, []any{"revision"}, "istiod release name too long",
			"revision = %q names the istiod Helm release %q, %d characters long; Helm release names hold at most %d. Shorten revision by %s.",
			in.Revision, release, len(release), maxReleaseName, characters(len(release)-maxReleaseName))
	}
}

// validateVersion is MESH-INS-016: the charts are fetched at exactly this
// version and a release counts as up to date only when its chart has it, so
// it must be a full SemVer version (a leading "v" is allowed, as some
// repositories use one), not a range or a tag.
func (in Install) validateVersion(ps *Problems) {
	if _, err := semver.StrictNewVersion(strings.TrimPrefix(in.Version, "v")); err == nil {
		return
	}
	ps.Errorf(CodeInsVersion, []any{"version"}, "version is not a chart version",
		`version = %q is not a chart version: use the exact SemVer version of the charts, MAJOR.MINOR.PATCH with an optional "-" pre-release and a leading "v" if the repository uses one, e.g. "1.27.3" (Istio) or "2026.8.3" (Linkerd edge).`,
		in.Version)
}

// atLeast reports whether version v is major.minor or later; a version that
// does not parse (unknown until apply, a digest) is not judged and passes.
func atLeast(v string, major, minor int) bool {
	maj, min, ok := MajorMinor(v)
	return !ok || maj > major || (maj == major && min >= minor)
}

// validateAmbientVersion is MESH-INS-012: the charts install ambient mode
// (ztunnel, the CNI agent's redirection) from Istio 1.24, where it is GA.
func (in Install) validateAmbientVersion() Problems {
	var ps Problems
	if in.Mode == ModeAmbient && !atLeast(in.Version, 1, 24) {
		ps.Errorf(CodeInsAmbientVersion, []any{"version"}, "ambient mode requires Istio 1.24 or later",
			`ambient mode requires Istio ≥ 1.24 (version = %q). Set version to 1.24 or later, or use mode = "sidecar".`, in.Version)
	}
	return ps
}

// validateHoldApplication is MESH-INS-011: from Istio 1.27 istiod injects
// native sidecars (ENABLE_NATIVE_SIDECARS=auto) on every Kubernetes version
// it supports (1.29 and later, which MESH-INS-003 holds it to), and the
// kubelet then starts the proxy first anyway: holdApplicationUntilProxyStarts
// does nothing.
func (in Install) validateHoldApplication(values map[string]map[string]any) Problems {
	var ps Problems
	istiod := values[ChartIstiod]
	istiodVersion := in.istiodVersion(values)
	if _, _, ok := MajorMinor(istiodVersion); !ok || !atLeast(istiodVersion, 1, 27) {
		return ps
	}
	hold, _ := lookupFirst(istiod, []string{"meshConfig", "defaultConfig", "holdApplicationUntilProxyStarts"},
		[]string{"global", "proxy", "holdApplicationUntilProxyStarts"}).(bool)
	native := lookupFirst(istiod, []string{"env", "ENABLE_NATIVE_SIDECARS"}, []string{"pilot", "env", "ENABLE_NATIVE_SIDECARS"})
	if !hold || native == false || native == "false" {
		return ps
	}
	ps.Warnf(CodeInsHoldApplication, []any{"values"}, "holdApplicationUntilProxyStarts has no effect",
		`holdApplicationUntilProxyStarts has no effect when Istio injects native sidecars (ENABLE_NATIVE_SIDECARS=auto): istiod %s runs the proxy as a native sidecar, which the kubelet starts before the application. Remove it from values["istiod"], or set env.ENABLE_NATIVE_SIDECARS = "false" there to keep the proxy a regular container.`, istiodVersion)
	return ps
}

// validateAmbient is MESH-INS-001: ambient needs the CNI node agent's
// ambient redirection, which values could turn off.
func (in Install) validateAmbient(values map[string]map[string]any) Problems {
	var ps Problems
	if in.Mode != ModeAmbient {
		return ps
	}
	off := func(v any) bool { b, ok := v.(bool); return ok && !b }
	cni := values[ChartCNI]
	ambientEnv := lookupFirst(values[ChartIstiod], []string{"env", "PILOT_ENABLE_AMBIENT"}, []string{"pilot", "env", "PILOT_ENABLE_AMBIENT"})
	if off(lookupFirst(cni, []string{"ambient", "enabled"}, []string{"cni", "ambient", "enabled"})) ||
		off(lookupFirst(cni, []string{"enabled"})) || ambientEnv == "false" || off(ambientEnv) {
		ps.Errorf(CodeInsAmbientCNI, []any{"values"}, "ambient mode requires the Istio CNI node agent",
			`ambient mode requires the Istio CNI node agent; remove the values that turn it off (cni: ambient.enabled = false, or istiod: env.PILOT_ENABLE_AMBIENT = "false"): the "cni" and "ztunnel" charts are always installed for mode = "ambient". Use mode = "sidecar" for a mesh without ztunnel.`)
	}
	return ps
}

// validateDataPlaneVersions is MESH-INS-002. One version attribute installs
// every chart at the same version, so a skew can only come from image tag
// overrides in values: ztunnel and the CNI agent must be the same minor as
// istiod or one older.
func (in Install) validateDataPlaneVersions(values map[string]map[string]any) Problems {
	var ps Problems
	istiod := in.istiodVersion(values)
	if in.Mode != ModeAmbient {
		return ps // sidecar mode installs neither ztunnel nor the CNI agent
	}
	for _, chart := range []string{ChartZtunnel, ChartCNI} {
		v := componentVersion(values[chart], in.Version, []string{"tag"}, []string{chart, "tag"}, []string{"global", "tag"})
		if skewOK(v, istiod) {
			continue
		}
		ps.Errorf(CodeInsDataPlaneSkew, []any{"values"}, "data-plane version not supported with istiod",
			"%s version %s is not supported with istiod %s: data-plane components must be the same minor or one minor older than istiod; upgrade istiod first (set its tag, or version, before the %s tag).",
			chart, v, istiod, chart)
	}
	return ps
}

// istiodVersion is istiod's image tag in values, else the chart version.
func (in Install) istiodVersion(values map[string]map[string]any) string {
	return componentVersion(values[ChartIstiod], in.Version, []string{"tag"}, []string{"pilot", "tag"}, []string{"global", "tag"})
}

// componentVersion is the image tag values set at the first path found, else
// the chart version.
func componentVersion(values map[string]any, chartVersion string, paths ...[]string) string {
	if s, ok := lookupFirst(values, paths...).(string); ok && s != "" {
		return s
	}
	return chartVersion
}

var minorPattern = regexp.MustCompile(`^v?(\d+)\.(\d+)`)

// MajorMinor parses "1.31.0-dev" as (1, 31).
func MajorMinor(v string) (int, int, bool) {
	m := minorPattern.FindStringSubmatch(v)
	if m == nil {
		return 0, 0, false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return major, minor, true
}

// skewOK reports whether data-plane version dp may run with control plane
// cp; tags that are not versions (digests, "latest") are not judged.
func skewOK(dp, cp string) bool {
	dMaj, dMin, ok1 := MajorMinor(dp)
	cMaj, cMin, ok2 := MajorMinor(cp)
	if !ok1 || !ok2 {
		return true
	}
	return dMaj == cMaj && dMin <= cMin && dMin >= cMin-1
}

// lookupFirst returns the value at the first of paths that is set.
func lookupFirst(values map[string]any, paths ...[]string) any {
	for _, p := range paths {
		if v, ok := lookup(values, p); ok {
			return v
		}
	}
	return nil
}

func lookup(values map[string]any, p []string) (any, bool) {
	var cur any = values
	for _, k := range p {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// TrustDomain is the trust domain values set (Istio meshConfig.trustDomain,
// Linkerd identityTrustDomain); "" means the chart default.
func (in Install) TrustDomain() string {
	var v any
	if in.Mesh == MeshLinkerd {
		vals, _ := in.ChartValues(ChartLinkerdControlPlane)
		v = lookupFirst(vals, []string{"identityTrustDomain"})
	} else {
		vals, _ := in.ChartValues(ChartIstiod)
		v = lookupFirst(vals, []string{"meshConfig", "trustDomain"}, []string{"pilot", "meshConfig", "trustDomain"})
	}
	s, _ := v.(string)
	return s
}

// TrustDomainChange is MESH-INS-014, a warning on update.
func TrustDomainChange(prev, next Install) Problems {
	var ps Problems
	if prev.TrustDomain() == next.TrustDomain() {
		return ps
	}
	show := func(s string) string {
		if s == "" {
			return "the chart default (" + DefaultTrustDomain + ")"
		}
		return strconv.Quote(s)
	}
	ps.Warnf(CodeInsTrustDomain, []any{"values"}, "trust domain changes",
		"The trust domain changes from %s to %s: changing the trust domain invalidates all workload identities and authorization principals. Workloads get new identities only when restarted, and policies naming the old domain stop matching.",
		show(prev.TrustDomain()), show(next.TrustDomain()))
	return ps
}

// MinKubernetes is the lowest Kubernetes minor (1.x) the mesh version
// supports: Istio 1.30 and later need 1.32 (istioctl's MinK8SVersion),
// 1.29 needs 1.31, older 1.30; Linkerd edge 2026.x (2.20 and later) needs
// 1.31 (the chart's kubeVersion), older edges 1.29.
func MinKubernetes(m InstallMesh, version string) (int, bool) {
	major, minor, ok := MajorMinor(version)
	if !ok {
		return 0, false
	}
	if m == MeshLinkerd {
		if major >= 2026 {
			return 31, true
		}
		return 29, true
	}
	switch {
	case major == 1 && minor >= 30:
		return 32, true
	case major == 1 && minor == 29:
		return 31, true
	}
	return 30, true
}

// KubernetesTooOld is MESH-INS-003 for a cluster at gitVersion ("v1.34.2").
func KubernetesTooOld(m InstallMesh, version, gitVersion string) Problems {
	var ps Problems
	minMinor, ok := MinKubernetes(m, version)
	kMaj, kMin, ok2 := MajorMinor(gitVersion)
	if !ok || !ok2 || (kMaj == 1 && kMin >= minMinor) || kMaj > 1 {
		return ps
	}
	ps.Errorf(CodeInsKubernetesTooOld, []any{"version"}, "Kubernetes version too old",
		"Kubernetes %s is below the minimum supported by %s %s (1.%d). Upgrade the cluster, or install an older %s version.",
		gitVersion, m, version, minMinor, m)
	return ps
}
