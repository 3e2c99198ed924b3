package render

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/istio"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/linkerd"
)

// Authorization renders a Normalize()d authorization for its target, with
// a.Cluster filled by the provider's lookups.
func Authorization(a mesh.Authorization) ([]*unstructured.Unstructured, error) {
	switch a.Target {
	case mesh.TargetIstioSidecar, mesh.TargetIstioAmbient:
		return istio.RenderAuthorization(a)
	case mesh.TargetLinkerd:
		return linkerd.RenderAuthorization(a)
	}
	return nil, fmt.Errorf("unknown target %q: use one of %q", a.Target, mesh.Targets)
}

// ParseAuthorization is the inverse of Authorization, for terraform import,
// with the parser of the renderer that made the objects. For Istio objs hold
// one AuthorizationPolicy; for Linkerd the objects carrying the resource's
// owner label, whose Servers are "<name>-<port>". legacyPrincipals says the
// cluster renders service accounts as principals (Istio < 1.25, see
// mesh.AuthzCluster).
func ParseAuthorization(objs []*unstructured.Unstructured, target mesh.Target, name string, legacyPrincipals bool) (mesh.Authorization, error) {
	switch target {
	case mesh.TargetLinkerd:
		return linkerd.ParseAuthorization(objs, name)
	case mesh.TargetIstioSidecar, mesh.TargetIstioAmbient:
	default:
		return mesh.Authorization{}, fmt.Errorf("unknown target %q: use one of %q", target, mesh.Targets)
	}
	var policies []*unstructured.Unstructured
	for _, obj := range objs {
		if obj.GroupVersionKind().GroupKind() == mesh.GVKIstioAuthorizationPolicy.GroupKind() {
			policies = append(policies, obj)
		}
	}
	if len(policies) != 1 {
		return mesh.Authorization{}, fmt.Errorf("an Istio authorization is imported from exactly one AuthorizationPolicy (%s), got %d", mesh.GroupIstioSecurity, len(policies))
	}
	return istio.ParseAuthorization(policies[0], target, legacyPrincipals)
}
