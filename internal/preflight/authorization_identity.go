package preflight

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// idAuthzPolicyCRD is the CRD of the Istio AuthorizationPolicy.
var idAuthzPolicyCRD = kube.ID{
	Group: mesh.GVKCRD.Group, Version: mesh.GVKCRD.Version, Kind: mesh.GVKCRD.Kind,
	Name: "authorizationpolicies." + mesh.GroupIstioSecurity,
}

// authzSourceServiceAccounts is where the CRD schema of one version declares
// source.serviceAccounts (Istio ≥ 1.25).
var authzSourceServiceAccounts = []string{
	"schema", "openAPIV3Schema", "properties", "spec", "properties", "rules", "items",
	"properties", "from", "items", "properties", "source", "properties", "serviceAccounts",
}

// AuthzLegacyPrincipals reports whether service accounts must render as
// principals (MESH-AUTHZ-022): the installed AuthorizationPolicy CRD lacks
// source.serviceAccounts in the version the provider renders. It GETs the
// CRD on every call, once per resolution: kube.Manager has no cache that
// would keep the answer for the rest of the run.
func AuthzLegacyPrincipals(ctx context.Context, m *kube.Manager) (bool, error) {
	crd, err := m.Get(ctx, idAuthzPolicyCRD)
	switch {
	case apierrors.IsForbidden(err):
		// RBAC does not let the provider read CRDs: assume Istio ≥ 1.25
		// (the provider's floor is 1.28). On an older Istio the Strict
		// apply then fails naming serviceAccounts rather than dropping it.
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read the AuthorizationPolicy CRD: %w", err)
	case crd == nil:
		// Not installed yet (e.g. by a mesh_install in the same apply, which
		// installs a current Istio); apisServed reports a missing API.
		return false, nil
	}
	return !authzSchemaHasServiceAccounts(crd, mesh.GVKIstioAuthorizationPolicy.Version), nil
}

// authzSchemaHasServiceAccounts reports whether the CRD's schema for version
// declares spec.rules[].from[].source.serviceAccounts. A version without a
// structural schema (old Istio CRDs preserved unknown fields) has no such
// property, and an Istio that old does not know the field either.
func authzSchemaHasServiceAccounts(crd *unstructured.Unstructured, version string) bool {
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	for _, v := range versions {
		v, _ := v.(map[string]any)
		if v["name"] != version {
			continue
		}
		_, found, _ := unstructured.NestedFieldNoCopy(v, authzSourceServiceAccounts...)
		return found
	}
	return false
}
