// Package install installs, upgrades, rolls back and uninstalls mesh control
// planes as ordered sets of Helm releases, with the Helm SDK in-process, and
// decides readiness the way istioctl install and linkerd check do (not
// Helm's generic wait). The releases stay ordinary Helm releases: helm list
// shows them and the charts' documented Helm commands work on them.
package install

// Mesh is the control plane a Plan installs.
type Mesh string

const (
	Istio   Mesh = "istio"
	Linkerd Mesh = "linkerd"
)

// Release is one Helm release of a Plan.
type Release struct {
	// Name is the Helm release name (istio-base, istiod, istio-cni, ztunnel,
	// linkerd-crds, linkerd-control-plane).
	Name string
	// Chart is the chart's name in the repository (base, istiod, cni,
	// ztunnel, linkerd-crds, linkerd-control-plane).
	Chart     string
	Namespace string
	// Values are the provider's values with the user's deep-merged over them.
	Values map[string]any
}

// Plan is a whole control plane: its releases in install order. Upgrades go
// control plane first (see UpgradeOrder); uninstall goes in reverse.
type Plan struct {
	Mesh       Mesh
	Namespace  string
	Repository string // http(s):// Helm repository or oci:// registry
	Version    string // chart version, the same for every chart of the mesh
	Releases   []Release
}

// Component is one workload or object whose readiness Apply waits for.
type Component struct {
	Name      string // e.g. "istiod", "ztunnel", "CRDs", "sidecar-injector webhook"
	Kind      string // Deployment, DaemonSet, CustomResourceDefinition, MutatingWebhookConfiguration, ...
	Namespace string
	Ready     bool
	Message   string // why it is not ready; empty when ready
}

// RenderedObject is one object a release would create, for the plan:
// "Kind/namespace/name sha256" lines show which objects a change touches.
type RenderedObject struct {
	Kind, Namespace, Name string
	SHA256                string // of the object's canonical YAML
}
