package linkerd

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// The Linkerd policy kinds the renderers emit. linkerd2 publishes no Go module
// that builds with current Gateway API types, so these mirror the schemas of
// the linkerd-crds chart (linkerd/linkerd2, Apache-2.0), edge-26.8.3:
// charts/linkerd-crds/templates/policy/{server,authorization-policy,
// meshtls-authentication,network-authentication}.yaml. Only the fields the
// provider sets are defined; omitempty keeps unset ones out of the apply.

// API groups, versions and kinds, from the registry.
const (
	PolicyGroup   = mesh.GroupLinkerdPolicy
	ServerVersion = mesh.LinkerdServerVersion
)

var (
	PolicyAPIVersion = mesh.GVKLinkerdAuthorization.GroupVersion().String()
	ServerAPIVersion = mesh.GVKPolicyServer.GroupVersion().String()
	ServerKind       = mesh.GVKPolicyServer.Kind
	AuthzPolicyKind  = mesh.GVKLinkerdAuthorization.Kind
	MeshTLSAuthKind  = mesh.GVKMeshTLSAuthentication.Kind
	NetworkAuthKind  = mesh.GVKNetworkAuthentication.Kind
)

// Access policies: the values of Server.spec.accessPolicy and of the
// config.linkerd.io/default-inbound-policy annotation.
const (
	AllUnauthenticated     = "all-unauthenticated"
	AllAuthenticated       = "all-authenticated"
	ClusterAuthenticated   = "cluster-authenticated"
	ClusterUnauthenticated = "cluster-unauthenticated"
	Deny                   = "deny"
	Audit                  = "audit"
)

// Server selects a port of a set of pods for inbound policy.
type Server struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ServerSpec `json:"spec"`
}

type ServerSpec struct {
	PodSelector   *metav1.LabelSelector `json:"podSelector,omitempty"`
	Port          intstr.IntOrString    `json:"port"`
	ProxyProtocol string                `json:"proxyProtocol,omitempty"`
	AccessPolicy  string                `json:"accessPolicy,omitempty"`
}

// AuthorizationPolicy authorizes traffic to its target when ALL required
// authentications are satisfied.
type AuthorizationPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              AuthorizationPolicySpec `json:"spec"`
}

type AuthorizationPolicySpec struct {
	TargetRef                  Ref   `json:"targetRef"`
	RequiredAuthenticationRefs []Ref `json:"requiredAuthenticationRefs"`
}

// Ref names another object; an empty group is the core group.
type Ref struct {
	Group     string `json:"group,omitempty"`
	Kind      string `json:"kind"`
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// MeshTLSAuthentication matches clients by mesh identity. Exactly one of
// Identities and IdentityRefs may be set; entries are ORed.
type MeshTLSAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              MeshTLSAuthenticationSpec `json:"spec"`
}

type MeshTLSAuthenticationSpec struct {
	Identities   []string `json:"identities,omitempty"`
	IdentityRefs []Ref    `json:"identityRefs,omitempty"`
}

// NetworkAuthentication matches clients by source network.
type NetworkAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              NetworkAuthenticationSpec `json:"spec"`
}

type NetworkAuthenticationSpec struct {
	Networks []Network `json:"networks"`
}

type Network struct {
	Cidr   string   `json:"cidr"`
	Except []string `json:"except,omitempty"`
}
