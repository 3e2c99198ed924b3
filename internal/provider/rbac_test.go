package provider

import (
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-helpers/auth/rbac/validation"
	"sigs.k8s.io/yaml"

	"github.com/meshform/terraform-provider-mesh/internal/certs"
	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// sharedKinds are objects the provider only labels or annotates (a
// Service's use-waypoint label, a Namespace's default inbound policy): it
// patches them and, on destroy, releases its fields; it never creates or
// deletes them.
var sharedKinds = []string{"Service", "Namespace"}

// requiredRule is the rule writing id needs.
func requiredRule(id kube.ID) rbacv1.PolicyRule {
	verbs := []string{"get", "create", "patch", "delete"}
	if slices.Contains(sharedKinds, id.Kind) {
		verbs = []string{"get", "patch"}
	}
	return rbacv1.PolicyRule{APIGroups: []string{id.Group}, Resources: []string{resourceName(id.Kind)}, Verbs: verbs}
}

// resourceName is the resource name of a kind, as the CRDs and built-in
// types of these APIs spell it (apimachinery's guess makes "gatewaies").
func resourceName(kind string) string {
	r := strings.ToLower(kind)
	switch {
	case strings.HasSuffix(r, "s"):
		return r + "es"
	case strings.HasSuffix(r, "y") && !strings.ContainsAny(r[len(r)-2:len(r)-1], "aeiou"):
		return r[:len(r)-1] + "ies"
	}
	return r + "s"
}

func loadRoles(t *testing.T, typeName string) kubetest.RBAC {
	t.Helper()
	rbac, err := kubetest.LoadRBAC(rbacFiles(typeName)...)
	if err != nil {
		t.Fatalf("examples/rbac/%s.yaml: %v", typeName, err)
	}
	if len(rbac.ClusterRoles) != 1 || len(rbac.Roles) != 1 {
		t.Fatalf("examples/rbac/%s.yaml holds %d ClusterRoles and %d Roles, want one of each", typeName, len(rbac.ClusterRoles), len(rbac.Roles))
	}
	return rbac
}

// TestShippedRolesCoverEveryRenderedKind: for every resource type of the
// schema there is a role file, and for every object any committed example
// renders, on any target, that type's Role (namespaced objects) or
// ClusterRole (cluster-scoped ones) grants the verbs writing it takes. A
// new resource type, or a renderer emitting a new kind, fails here until
// its role says so. (What the cluster checks read is proven by the
// acceptance tests, which run as a ServiceAccount with these roles.)
func TestShippedRolesCoverEveryRenderedKind(t *testing.T) {
	_, schemas := unknownsServer(t, "istio-sidecar", false)
	for typeName := range schemas.ResourceSchemas {
		loadRoles(t, typeName)
	}
	checked := map[string]bool{}
	for _, b := range exampleBlocks(t) {
		if b.typeName == installType {
			continue // TestInstallRoleCoversTheCharts
		}
		s := schemas.ResourceSchemas[b.typeName]
		rbac := loadRoles(t, b.typeName)
		for _, target := range targetsOf(b) {
			server, _ := unknownsServer(t, target, false)
			manifests, errs := planOf(t, server, s, b.typeName, blockValue(t, s, b))
			if len(errs) > 0 || !manifests.IsKnown() || manifests.IsNull() {
				continue
			}
			var m map[string]tftypes.Value
			if err := manifests.As(&m); err != nil {
				t.Fatal(err)
			}
			for key := range m {
				id, err := kube.ParseKey(key)
				if err != nil {
					t.Fatal(err)
				}
				rules := rbac.Roles[0].Rules
				if id.Namespace == "" {
					rules = rbac.ClusterRoles[0].Rules
				}
				need := requiredRule(id)
				if ok, missing := validation.Covers(rules, []rbacv1.PolicyRule{need}); !ok {
					t.Errorf("%s renders %s (%s, %s): examples/rbac/%s.yaml does not grant %v", b.file, id, b.name, target, b.typeName, missing)
				}
				checked[b.typeName+" "+id.Kind] = true
			}
		}
	}
	for _, typeName := range intentRoles {
		if !slices.ContainsFunc(mapKeys(checked), func(k string) bool { return strings.HasPrefix(k, typeName+" ") }) {
			t.Errorf("no example of %s rendered any object, so its role was not checked", typeName)
		}
	}
	t.Logf("checked: %v", mapKeys(checked))
}

func mapKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestInstallRoleCoversTheCharts renders every chart mesh_install installs
// (from the offline repository, client-side) and checks that its role
// grants creating, upgrading and deleting every object: cluster-scoped ones
// in the ClusterRole, namespaced ones in the Role bound in the control
// plane's namespace.
func TestInstallRoleCoversTheCharts(t *testing.T) {
	rbac := loadRoles(t, installType)
	anchor, issuer, key, err := certs.GenerateLinkerdIdentity(timeNow())
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]map[string]any{
		"linkerd-control-plane": {"identityTrustAnchorsPEM": anchor, "identity": map[string]any{"issuer": map[string]any{"tls": map[string]any{"crtPEM": issuer, "keyPEM": key}}}},
		"istiod":                {"profile": "ambient"},
		"cni":                   {"profile": "ambient"},
	}
	archives, err := filepath.Glob(filepath.Join(sharedDir(t), "charts", "*.tgz"))
	if err != nil || len(archives) == 0 {
		t.Fatalf("no chart archives in %s: %v", filepath.Join(sharedDir(t), "charts"), err)
	}
	installed := map[string]bool{"base": true, "istiod": true, "cni": true, "ztunnel": true, "linkerd-crds": true, "linkerd-control-plane": true}
	verbs := []string{"get", "list", "create", "update", "patch", "delete"}
	rendered := 0
	for _, archive := range archives {
		ch, err := loader.Load(archive)
		if err != nil {
			t.Fatal(err)
		}
		if !installed[ch.Name()] {
			continue // multicluster and gateway charts: not installed by mesh_install yet
		}
		inst := action.NewInstall(&action.Configuration{})
		inst.DryRun, inst.ClientOnly, inst.ReleaseName, inst.Namespace = true, true, ch.Name(), "mesh"
		inst.KubeVersion = &chartutil.KubeVersion{Version: "v1.34.2", Major: "1", Minor: "34"}
		rel, err := inst.Run(ch, values[ch.Name()])
		if err != nil {
			t.Fatalf("render %s: %v", ch.Name(), err)
		}
		for _, doc := range strings.Split(rel.Manifest, "\n---") {
			var o struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Namespace string `json:"namespace"`
				} `json:"metadata"`
			}
			if yaml.Unmarshal([]byte(doc), &o) != nil || o.Kind == "" {
				continue
			}
			rendered++
			gv := strings.SplitN(o.APIVersion, "/", 2)
			group := ""
			if len(gv) == 2 {
				group = gv[0]
			}
			need := rbacv1.PolicyRule{APIGroups: []string{group}, Resources: []string{resourceName(o.Kind)}, Verbs: verbs}
			rules := rbac.Roles[0].Rules
			if clusterScoped[o.Kind] {
				rules = rbac.ClusterRoles[0].Rules
			}
			if ok, missing := validation.Covers(rules, []rbacv1.PolicyRule{need}); !ok {
				t.Errorf("chart %s renders a %s %s: examples/rbac/mesh_install.yaml does not grant %v", ch.Name(), o.APIVersion, o.Kind, missing)
			}
		}
	}
	if rendered == 0 {
		t.Fatal("no chart rendered any object")
	}
	// Helm keeps its release records as Secrets in the release namespace.
	if ok, missing := validation.Covers(rbac.Roles[0].Rules, []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: verbs}}); !ok {
		t.Errorf("examples/rbac/mesh_install.yaml does not grant Helm's release storage: %v", missing)
	}
}

// clusterScoped are the cluster-scoped kinds the charts render.
var clusterScoped = map[string]bool{
	"CustomResourceDefinition": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"MutatingWebhookConfiguration": true, "ValidatingWebhookConfiguration": true, "Namespace": true,
}

func TestResourceName(t *testing.T) {
	for kind, want := range map[string]string{
		"Gateway": "gateways", "AuthorizationPolicy": "authorizationpolicies", "HTTPRoute": "httproutes",
		"Service": "services", "Namespace": "namespaces", "MeshTLSAuthentication": "meshtlsauthentications",
		"PeerAuthentication": "peerauthentications", "IngressClass": "ingressclasses", "HorizontalPodAutoscaler": "horizontalpodautoscalers",
	} {
		if got := resourceName(kind); got != want {
			t.Errorf("resourceName(%s) = %s, want %s", kind, got, want)
		}
	}
}

// TestAccMissingPermissionIsNamed: the provider runs as the least-privilege
// ServiceAccount (not as the admin the fixtures use), so in a namespace
// where its Role was never granted the apply is refused, and the error says
// "Permission denied" with the verb, resource, group and namespace, never a
// connection or configuration problem; nothing is left behind.
func TestAccMissingPermissionIsNamed(t *testing.T) {
	testAccPreCheck(t)
	ns := kubetest.Namespace(t, cluster.Config, map[string]string{"istio-injection": "enabled"}) // no Grant
	kubetest.Service(t, cluster.Config, ns, "reviews", map[string]string{"app": "reviews"}, 9080)
	for _, v := range []string{"v1", "v2"} {
		kubetest.Service(t, cluster.Config, ns, "reviews-"+v, map[string]string{"app": "reviews", "version": v}, 9080)
	}
	config := providerConfig(string(mesh.TargetIstioSidecar)) + splitHCL(ns, `
  service  = "reviews"
  port     = 9080
  backends = [{ service = "reviews-v1", weight = 90 }, { service = "reviews-v2", weight = 10 }]`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			ExpectError: regexp.MustCompile(strings.ReplaceAll(`Permission denied: Apply failed[\s\S]*User "system:serviceaccount:mesh-system:terraform-mesh" `+
				`cannot (create|patch) resource "virtualservices" in API group "networking.istio.io" in the namespace "`+ns+`"[\s\S]*examples/rbac`, " ", `\s+`)),
		}},
	})
	_, dyn := clients(t)
	list, err := dyn.Resource(mesh.GVKVirtualService.GroupVersion().WithResource("virtualservices")).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 0 {
		t.Errorf("VirtualServices left in %s: %v %v", ns, list, err)
	}
}
