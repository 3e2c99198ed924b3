package provider

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/linkerd"
)

const mtlsName = "web-mtls"

func TestAccMTLSPolicy_IstioSidecarWorkload(t *testing.T) {
	testAccMTLSPolicyLifecycle(t, istioFixture(t, mesh.TargetIstioSidecar, mesh.MTLSScopeWorkload))
}

func TestAccMTLSPolicy_IstioAmbientNamespace(t *testing.T) {
	testAccMTLSPolicyLifecycle(t, istioFixture(t, mesh.TargetIstioAmbient, mesh.MTLSScopeNamespace))
}

func TestAccMTLSPolicy_IstioSidecarMesh(t *testing.T) {
	testAccMTLSPolicyLifecycle(t, istioFixture(t, mesh.TargetIstioSidecar, mesh.MTLSScopeMesh))
}

func TestAccMTLSPolicy_LinkerdNamespace(t *testing.T) {
	testAccMTLSPolicyLifecycle(t, linkerdNamespaceFixture(t))
}

func TestAccMTLSPolicy_LinkerdWorkload(t *testing.T) {
	testAccMTLSPolicyLifecycle(t, linkerdWorkloadFixture(t))
}

// testAccMTLSPolicyLifecycle walks one policy through create (PERMISSIVE),
// an update to STRICT, drift, import and destroy, with the real terraform
// binary.
func testAccMTLSPolicyLifecycle(t *testing.T, f mtlsFixture) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		CheckDestroy:             func(*terraform.State) error { return f.checkGone(t) },
		Steps: []resource.TestStep{
			{
				Config: f.config("PERMISSIVE"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(mtlsAddress, plancheck.ResourceActionCreate),
					// The exact objects are in the plan, before anything is applied.
					plancheck.ExpectKnownValue(mtlsAddress, tfjsonpath.New("manifests"), knownvalue.MapSizeExact(len(f.keys))),
					expectMTLSManifest(f.modeKey, f.rendered("PERMISSIVE")),
					plancheck.ExpectKnownValue(mtlsAddress, tfjsonpath.New("requires_restart"), knownvalue.Bool(f.restart)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mtlsAddress, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(mtlsAddress, tfjsonpath.New("id"), knownvalue.StringExact(f.importID)),
				},
				Check: func(*terraform.State) error { return f.expectLive(t, "PERMISSIVE") },
			},
			{
				// PERMISSIVE → STRICT: the plan shows the manifest diff, then an empty plan.
				Config: f.config("STRICT"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(mtlsAddress, plancheck.ResourceActionUpdate),
						expectMTLSManifest(f.modeKey, f.rendered("STRICT")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mtlsAddress, tfjsonpath.New("revision"), knownvalue.Int64Exact(2)),
				},
				Check: func(*terraform.State) error { return f.expectLive(t, "STRICT") },
			},
			{
				// Drift: a kubectl-edit-style change shows up in the refresh and is reverted.
				PreConfig: func() { f.drift(t) },
				Config:    f.config("STRICT"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(mtlsAddress, plancheck.ResourceActionUpdate),
					expectMTLSManifest(f.modeKey, f.rendered("STRICT")),
				}},
				Check: func(*terraform.State) error { return f.expectLive(t, "STRICT") },
			},
			{
				ResourceName:      mtlsAddress,
				ImportState:       true,
				ImportStateId:     f.importID,
				ImportStateVerify: true,
				// The revision counts applies, which an import cannot know.
				ImportStateVerifyIgnore: []string{"revision", "timeouts"},
			},
		},
	})
}

func (f mtlsFixture) expectLive(t *testing.T, mode string) error {
	if got, want := f.liveMode(t), f.rendered(mode); got != want {
		return fmt.Errorf("live mode %q, want %q", got, want)
	}
	return nil
}

// istioFixture renders a PeerAuthentication: scope workload selects app=web
// with a PERMISSIVE override on container port 8080; scope mesh lives in
// istio-system under a random name.
func istioFixture(t *testing.T, target mesh.Target, scope mesh.MTLSScope) mtlsFixture {
	t.Helper()
	testAccPreCheck(t)
	labels := map[string]string{"istio-injection": "enabled"}
	if target == mesh.TargetIstioAmbient {
		labels = map[string]string{"istio.io/dataplane-mode": "ambient"}
	}
	ns := testNamespace(t, labels)
	mtlsPod(t, ns, "web-1", nil, 8080, 9090)
	name, objNS, body := mtlsName, ns, fmt.Sprintf("  scope     = %q\n  namespace = %q\n", scope, ns)
	switch scope {
	case mesh.MTLSScopeMesh:
		ensureNamespace(t, mesh.DefaultRootNamespace)
		name, objNS, body = uniqueName("mtls-mesh"), mesh.DefaultRootNamespace, "  scope = \"mesh\"\n"
	case mesh.MTLSScopeWorkload:
		body += "  workload_selector = { app = \"web\" }\n  ports = [{ port = 8080, mode = \"PERMISSIVE\" }]\n"
	}
	key := mtlsKey("security.istio.io/v1", "PeerAuthentication", objNS, name)
	t.Cleanup(func() { _ = resourceOf(t, keyID(t, key)).Delete(ctx, name, metav1.DeleteOptions{}) })
	return mtlsFixture{
		ns: objNS, importID: objNS + "/" + name, keys: []string{key}, modeKey: key,
		config: func(mode string) string {
			return mtlsHCL(target, name, body+fmt.Sprintf("  mode = %q\n", mode))
		},
		rendered: istioMode,
		liveMode: func(t *testing.T) string {
			mode, _, _ := unstructured.NestedString(liveObject(t, key).Object, "spec", "mtls", "mode")
			return mode
		},
		drift: func(t *testing.T) {
			editObject(t, key, func(o *unstructured.Unstructured) {
				_ = unstructured.SetNestedField(o.Object, "PERMISSIVE", "spec", "mtls", "mode")
			})
		},
		checkGone: func(t *testing.T) error { return objectsGone(t, key) },
	}
}

// linkerdNamespaceFixture sets the namespace's default inbound policy:
// destroy must leave the Namespace and drop only the annotation.
func linkerdNamespaceFixture(t *testing.T) mtlsFixture {
	t.Helper()
	testAccPreCheck(t)
	ns := testNamespace(t, nil)
	annotateNamespace(t, ns, "linkerd.io/inject", "enabled")
	key := mtlsKey("v1", "Namespace", "", ns)
	annotation := func(t *testing.T) (string, bool) {
		v, ok := liveObject(t, key).GetAnnotations()[mesh.AnnotationDefaultInboundPolicy]
		return v, ok
	}
	return mtlsFixture{
		ns: ns, importID: ns + "/default", keys: []string{key}, modeKey: key, restart: true,
		config: func(mode string) string {
			return mtlsHCL(mesh.TargetLinkerd, "default", fmt.Sprintf("  scope     = \"namespace\"\n  namespace = %q\n  mode      = %q\n", ns, mode))
		},
		rendered: linkerdPolicy,
		liveMode: func(t *testing.T) string { v, _ := annotation(t); return v },
		drift: func(t *testing.T) {
			editObject(t, key, func(o *unstructured.Unstructured) {
				a := o.GetAnnotations()
				a[mesh.AnnotationDefaultInboundPolicy] = linkerd.Deny
				o.SetAnnotations(a)
			})
		},
		checkGone: func(t *testing.T) error {
			obj := liveObject(t, key) // fails the test if the Namespace was deleted
			if obj.GetDeletionTimestamp() != nil {
				return fmt.Errorf("destroy deleted namespace %s; it must only release the annotation", ns)
			}
			if v, ok := annotation(t); ok {
				return fmt.Errorf("namespace %s still has %s=%s after destroy", ns, mesh.AnnotationDefaultInboundPolicy, v)
			}
			if obj.GetAnnotations()["linkerd.io/inject"] != "enabled" {
				return fmt.Errorf("destroy touched the namespace's other annotations: %v", obj.GetAnnotations())
			}
			return nil
		},
	}
}

// linkerdWorkloadFixture renders one Server per port; the apiserver checks
// each against the linkerd-crds schema with fieldValidation=Strict.
func linkerdWorkloadFixture(t *testing.T) mtlsFixture {
	t.Helper()
	testAccPreCheck(t)
	ns := testNamespace(t, nil)
	annotateNamespace(t, ns, "linkerd.io/inject", "enabled")
	mtlsPod(t, ns, "web-1", nil, 8080, 9090)
	server := func(port int) string {
		return mtlsKey("policy.linkerd.io/v1beta3", "Server", ns, fmt.Sprintf("%s-%d", mtlsName, port))
	}
	keys := []string{server(8080), server(9090)}
	owner := mesh.Owner("mesh_mtls_policy", ns, mtlsName)
	return mtlsFixture{
		ns: ns, importID: ns + "/" + mtlsName, keys: keys, modeKey: keys[0],
		config: func(mode string) string {
			return mtlsHCL(mesh.TargetLinkerd, mtlsName, fmt.Sprintf(`  scope     = "workload"
  namespace = %q
  workload_selector = { app = "web" }
  mode  = %q
  ports = [{ port = 8080, mode = %q }, { port = 9090, mode = %q }]
`, ns, mode, mode, mode))
		},
		rendered: linkerdPolicy,
		liveMode: func(t *testing.T) string {
			if err := ownerLabelled(t, owner, keys...); err != nil {
				t.Error(err)
			}
			a, _, _ := unstructured.NestedString(liveObject(t, keys[0]).Object, "spec", "accessPolicy")
			b, _, _ := unstructured.NestedString(liveObject(t, keys[1]).Object, "spec", "accessPolicy")
			if a != b {
				return a + " and " + b
			}
			return a
		},
		drift: func(t *testing.T) {
			editObject(t, keys[0], func(o *unstructured.Unstructured) {
				_ = unstructured.SetNestedField(o.Object, linkerd.Deny, "spec", "accessPolicy")
			})
		},
		checkGone: func(t *testing.T) error { return objectsGone(t, keys...) },
	}
}

// TestAccMTLSPolicy_IstioctlAnalyze checks the PeerAuthentications with an
// independent validator: istioctl analyze must report no errors.
func TestAccMTLSPolicy_IstioctlAnalyze(t *testing.T) {
	istioctl := os.Getenv("ISTIOCTL")
	if istioctl == "" {
		t.Skip("ISTIOCTL is not set; make test builds istioctl and sets it")
	}
	f := istioFixture(t, mesh.TargetIstioSidecar, mesh.MTLSScopeWorkload)
	namespaceWide := fmt.Sprintf(`
resource "mesh_mtls_policy" "namespace" {
  name      = "default"
  scope     = "namespace"
  namespace = %q
  mode      = "PERMISSIVE"
}
`, f.ns)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{{
			Config: f.config("STRICT") + namespaceWide,
			Check: func(*terraform.State) error {
				out, err := exec.Command(istioctl, "analyze", "--kubeconfig", cluster.Kubeconfig,
					"--namespace", f.ns, "--failure-threshold", "Error").CombinedOutput()
				t.Logf("istioctl analyze:\n%s", out)
				if err != nil {
					return fmt.Errorf("istioctl analyze reported errors: %v\n%s", err, out)
				}
				return nil
			},
		}},
	})
}
