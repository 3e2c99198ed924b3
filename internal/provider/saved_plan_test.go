package provider

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// A reviewer approves a saved plan (`terraform plan -out`), and CI applies
// that file later: what is applied must be exactly the planned manifests.

// plannedManifests are the manifests a saved plan shows for its one mesh
// resource.
func plannedManifests(t *testing.T, plan *tfjson.Plan) (address string, m map[string]string) {
	t.Helper()
	for _, rc := range plan.ResourceChanges {
		if !strings.HasPrefix(rc.Type, "mesh_") {
			continue
		}
		after, _ := rc.Change.After.(map[string]any)
		raw, _ := after["manifests"].(map[string]any)
		if len(raw) == 0 {
			t.Fatalf("%s: the saved plan shows no manifests", rc.Address)
		}
		m = map[string]string{}
		for k, v := range raw {
			m[k], _ = v.(string)
		}
		return rc.Address, m
	}
	t.Fatal("the saved plan changes no mesh resource")
	return "", nil
}

// savedPlan runs `terraform plan -out` and returns the plan file and what
// it shows for its mesh resource.
func savedPlan(t *testing.T, tf *tfexec.Terraform, reattach *tfexec.ReattachOption) (file, address string, planned map[string]string) {
	t.Helper()
	ctx := context.Background()
	file = filepath.Join(t.TempDir(), "reviewed.tfplan")
	if _, err := tf.Plan(ctx, tfexec.Out(file), reattach); err != nil {
		t.Fatalf("plan -out: %v", err)
	}
	plan, err := tf.ShowPlanFile(ctx, file, reattach)
	if err != nil {
		t.Fatalf("show the plan: %v", err)
	}
	address, planned = plannedManifests(t, plan)
	return file, address, planned
}

func TestAccSavedPlanAppliesThePlannedManifests(t *testing.T) {
	testAccPreCheck(t)
	for _, c := range driftCases() {
		t.Run(c.name, func(t *testing.T) {
			config, _ := c.config(t)
			tf, reattach := terraformIn(t, config)
			ctx := context.Background()
			planFile, address, planned := savedPlan(t, tf, reattach)
			applied(t, tf, reattach, tfexec.DirOrPlan(planFile))
			for key, y := range planned {
				want, err := decodeYAML(y)
				if err != nil {
					t.Fatal(err)
				}
				if live := liveObject(t, key); !kube.Covers(live.Object, want.Object) {
					t.Errorf("%s: the live object is not the planned manifest:\nplanned:\n%s\nlive: %v", key, y, live.Object)
				}
			}
			state, err := tf.Show(ctx, reattach)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range state.Values.RootModule.Resources {
				if r.Address != address {
					continue
				}
				recorded, _ := r.AttributeValues["manifests"].(map[string]any)
				if len(recorded) != len(planned) {
					t.Errorf("state records %d manifests, the plan showed %d", len(recorded), len(planned))
				}
				for k, v := range recorded {
					if v != planned[k] {
						t.Errorf("state records %s as\n%v\nthe plan showed\n%s", k, v, planned[k])
					}
				}
			}
		})
	}
}

// TestAccSavedPlanClusterChangedSincePlan: what mesh_authorization looked up
// at plan (the Service's selector, for target.service) changes before the
// saved plan is applied. The apply must fail before it writes anything.
// (Terraform plans the resource again at apply, and the lookup then gives
// other manifests than the saved plan's: Terraform itself rejects the
// apply, as "Provider produced inconsistent final plan", before the
// provider's apply could say MESH-GEN-007. The plan protocol gives a
// provider no way to tell that second plan from a first one.)
func TestAccSavedPlanClusterChangedSincePlan(t *testing.T) {
	f := newAuthzFixture(t, mesh.TargetIstioSidecar)
	config := providerConfig(string(mesh.TargetIstioSidecar)) + fmt.Sprintf(`
resource "mesh_authorization" "test" {
  name      = %q
  namespace = %q
  target    = { service = "orders" }
  rules     = [{ from = [{ service_accounts = ["frontend/web"] }] }]
}
`, authzName, f.ns)
	tf, reattach := terraformIn(t, config)
	ctx := context.Background()
	planFile, _, planned := savedPlan(t, tf, reattach)
	if !strings.Contains(planned[f.key], "app: orders") {
		t.Fatalf("the plan does not select the Service's pods:\n%s", planned[f.key])
	}
	cs, _ := clients(t)
	svc, err := cs.CoreV1().Services(f.ns).Get(ctx, "orders", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Spec.Selector = map[string]string{"app": "orders", "tier": "api"}
	if _, err := cs.CoreV1().Services(f.ns).Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = tf.Apply(ctx, tfexec.DirOrPlan(planFile), reattach)
	if err == nil {
		t.Fatal("the saved plan applied although the Service it looked up changed")
	}
	t.Logf("apply failed as it must: %v", err)
	if err := objectsGone(t, f.key); err != nil {
		t.Errorf("the failed apply wrote: %v", err)
	}
}
