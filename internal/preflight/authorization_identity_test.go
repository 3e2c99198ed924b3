package preflight

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// installedAuthzCRD is the AuthorizationPolicy CRD the test cluster has
// (a current Istio: v1 declares source.serviceAccounts).
func installedAuthzCRD(t *testing.T, m *kube.Manager) *unstructured.Unstructured {
	t.Helper()
	crd, err := m.Get(context.Background(), idAuthzPolicyCRD)
	if err != nil || crd == nil {
		t.Fatalf("get %s: %v (found: %v)", idAuthzPolicyCRD.Name, err, crd != nil)
	}
	return crd
}

// withoutServiceAccounts is crd as Istio < 1.25 ships it for version.
func withoutServiceAccounts(t *testing.T, crd *unstructured.Unstructured, version string) *unstructured.Unstructured {
	t.Helper()
	old := crd.DeepCopy()
	versions, _, _ := unstructured.NestedSlice(old.Object, "spec", "versions")
	for _, v := range versions {
		v := v.(map[string]any)
		if v["name"] != version {
			continue
		}
		props := authzSourceServiceAccounts[:len(authzSourceServiceAccounts)-1]
		source, found, err := unstructured.NestedMap(v, props...)
		if !found || err != nil {
			t.Fatalf("%s has no source properties: %v", version, err)
		}
		delete(source, "serviceAccounts")
		if err := unstructured.SetNestedMap(v, source, props...); err != nil {
			t.Fatal(err)
		}
	}
	_ = unstructured.SetNestedSlice(old.Object, versions, "spec", "versions")
	return old
}

func TestAuthzSchemaHasServiceAccounts(t *testing.T) {
	m, err := kube.New(cluster.Config, kube.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	crd := installedAuthzCRD(t, m)
	if !authzSchemaHasServiceAccounts(crd, "v1") {
		t.Error("the installed CRD's v1 schema has source.serviceAccounts; not detected")
	}
	old := withoutServiceAccounts(t, crd, "v1")
	if authzSchemaHasServiceAccounts(old, "v1") {
		t.Error("v1 without source.serviceAccounts detected as having it")
	}
	if !authzSchemaHasServiceAccounts(old, "v1beta1") {
		t.Error("only v1 lost the property; v1beta1 still has it")
	}
	if !authzSchemaHasServiceAccounts(crd, "v1") || authzSchemaHasServiceAccounts(crd, "v2") {
		t.Error("a version the CRD does not have was detected as having the property (or the copy changed the original)")
	}
}

func TestAuthorizationResolvesIdentityForm(t *testing.T) {
	m, err := kube.New(cluster.Config, kube.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := AuthzLegacyPrincipals(context.Background(), m)
	if err != nil || legacy {
		t.Errorf("AuthzLegacyPrincipals on a current Istio = %v, %v; want false, nil", legacy, err)
	}
	a := authzOrdersPolicy("default", mesh.TargetIstioSidecar, mesh.AuthzWorkload{Selector: map[string]string{"app": "orders"}})
	a.Cluster.LegacyPrincipals = true // resolution must overwrite it
	c, problems, err := ResolveAuthorization(context.Background(), m, a)
	if err != nil || len(problems) != 0 || c.LegacyPrincipals {
		t.Errorf("resolve = %+v, %+v, %v; want LegacyPrincipals false", c, problems, err)
	}

	// A user RBAC does not let read CRDs: assume the modern form.
	cfg := rest.CopyConfig(cluster.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "mesh-test-no-crd-access"}
	denied, err := kube.New(cfg, kube.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := denied.Get(context.Background(), idAuthzPolicyCRD); err == nil {
		t.Fatal("the impersonated user can read CRDs; the test needs one that cannot")
	}
	legacy, err = AuthzLegacyPrincipals(context.Background(), denied)
	if err != nil || legacy {
		t.Errorf("AuthzLegacyPrincipals without RBAC = %v, %v; want false, nil", legacy, err)
	}
}
