package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	k8stypes "k8s.io/apimachinery/pkg/types"

	"github.com/meshform/terraform-provider-mesh/internal/kube"

	"github.com/hashicorp/terraform-exec/tfexec"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// Two Terraform states declare the same resource (same type, namespace and
// name: the same owner label). State A applies it; its objects are deleted
// out of band; state B then creates the resource. B's objects carry A's
// owner label, but A recorded other uids: A must neither adopt, change nor
// delete them. A's destroy without a refresh leaves them, saying so; A's
// refresh drops them from its state, saying why; A's apply is refused,
// naming terraform import; B's objects stay as B applied them throughout.
// One case per resource type (the lifecycle is shared), over the three
// targets.
func TestAccOwnershipAcrossStates(t *testing.T) {
	testAccPreCheck(t)
	for _, c := range driftCasesNamed(t, "mesh_traffic_split/istio-sidecar", "mesh_mirror_route/istio-ambient", "mesh_authorization/linkerd", "mesh_mtls_policy/istio-ambient") {
		t.Run(c.name, func(t *testing.T) {
			config, _ := c.config(t)
			ctx := context.Background()
			a, reattachA := terraformIn(t, config)
			applied(t, a, reattachA)
			quietRefresh(t, a, reattachA)
			owned := ownedKeys(t, a, reattachA)
			if len(owned) == 0 {
				t.Fatal("the resource owns no object; pick a case that does")
			}
			for _, key := range owned {
				id := keyID(t, key)
				if err := resourceOf(t, id).Delete(ctx, id.Name, metav1.DeleteOptions{}); err != nil {
					t.Fatalf("out-of-band delete of %s: %v", id, err)
				}
			}
			if err := objectsGone(t, owned...); err != nil {
				t.Fatal(err)
			}
			b, reattachB := terraformIn(t, config)
			applied(t, b, reattachB)
			quietRefresh(t, b, reattachB) // B's objects are B's own
			versions := map[string]string{}
			for _, key := range owned {
				versions[key] = liveObject(t, key).GetResourceVersion()
			}
			unchanged := func(step string) {
				t.Helper()
				for _, key := range owned {
					if got := liveObject(t, key).GetResourceVersion(); got != versions[key] {
						t.Fatalf("after %s: B's %s was changed (resourceVersion %s, was %s)", step, key, got, versions[key])
					}
				}
			}

			var out bytes.Buffer
			a.SetStdout(&out)
			changes, err := a.Plan(ctx, tfexec.RefreshOnly(true), reattachA)
			if err != nil {
				t.Fatalf("A's refresh-only plan: %v", err)
			}
			if !changes {
				t.Error("A's refresh-only plan found no change; want B's objects dropped from A's state")
			}
			assertContains(t, out.String(), "Objects created again outside this resource", "terraform import")
			unchanged("A's refresh")

			// A plan saves nothing: A's state still records the objects. A
			// destroy that does not refresh must leave them too.
			out.Reset()
			if err := a.Destroy(ctx, tfexec.Refresh(false), reattachA); err != nil {
				t.Fatalf("A's destroy without a refresh: %v", err)
			}
			assertContains(t, out.String(), "Objects left in the cluster", "is not the one this resource created")
			unchanged("A's destroy")

			// A declares the resource again: a create, refused while B's
			// objects exist.
			var errOut bytes.Buffer
			a.SetStderr(&errOut)
			if err := a.Apply(ctx, reattachA); err == nil {
				t.Fatal("A's apply over B's objects succeeded; want it refused")
			}
			t.Logf("A's apply: %s", errOut.String())
			assertContains(t, errOut.String(), "another resource instance", "terraform import")
			unchanged("A's apply")
		})
	}
}

// quietRefresh fails unless a refresh-only plan of tf finds nothing and
// warns of nothing: the state's objects are its own.
func quietRefresh(t *testing.T, tf *tfexec.Terraform, reattach *tfexec.ReattachOption) {
	t.Helper()
	var out bytes.Buffer
	tf.SetStdout(&out)
	defer tf.SetStdout(io.Discard)
	changes, err := tf.Plan(context.Background(), tfexec.RefreshOnly(true), reattach)
	if err != nil {
		t.Fatalf("refresh-only plan: %v", err)
	}
	if changes || strings.Contains(out.String(), "Warning") {
		t.Fatalf("a refresh-only plan of the state's own objects found changes (%v) or warned:\n%s", changes, out.String())
	}
}

// driftCasesNamed are the drift cases of these names, one per resource
// type here (the lifecycle is shared); a name no case has fails the test.
func driftCasesNamed(t *testing.T, names ...string) []driftCase {
	t.Helper()
	var out []driftCase
	for _, c := range driftCases() {
		if slices.Contains(names, c.name) {
			out = append(out, c)
		}
	}
	if len(out) != len(names) {
		t.Fatalf("found %d of the drift cases %v: driftCases renamed one", len(out), names)
	}
	return out
}

// ownedKeys are the manifests' keys of the objects the one mesh resource of
// tf's state owns (those it renders with the owner label).
func ownedKeys(t *testing.T, tf *tfexec.Terraform, reattach *tfexec.ReattachOption) []string {
	t.Helper()
	state, err := tf.Show(context.Background(), reattach)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range state.Values.RootModule.Resources {
		recorded, _ := r.AttributeValues["manifests"].(map[string]any)
		for key, y := range recorded {
			s, _ := y.(string)
			obj, err := decodeYAML(s)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := obj.GetLabels()[mesh.LabelOwner]; ok {
				keys = append(keys, key)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// assertContains fails unless out holds every one of want; terraform
// wraps long lines, so spaces and line breaks count as one.
func assertContains(t *testing.T, out string, want ...string) {
	t.Helper()
	flat := strings.Join(strings.Fields(strings.ReplaceAll(out, "│", " ")), " ")
	for _, w := range want {
		if !strings.Contains(flat, w) {
			t.Errorf("the output does not say %q:\n%s", w, out)
		}
	}
}

// A create died before its commit, and the user adopts what it left with
// `terraform import` rather than running the apply again: the import
// clears the committed label, saying so, and a create in another state is
// then refused instead of taking the objects over.
func TestAccImportCommitsWhatADeadCreateLeft(t *testing.T) {
	testAccPreCheck(t)
	for _, c := range driftCasesNamed(t, "mesh_traffic_split/linkerd", "mesh_authorization/linkerd") {
		t.Run(c.name, func(t *testing.T) {
			config, _ := c.config(t)
			ctx := context.Background()
			a, reattachA := terraformIn(t, config)
			applied(t, a, reattachA)
			address, id, recorded := stateResource(t, a, reattachA)
			owned := ownedKeys(t, a, reattachA)
			for _, key := range owned {
				leaveUncommitted(t, key, recorded[key])
			}
			if err := a.StateRm(ctx, address); err != nil {
				t.Fatalf("state rm: %v", err)
			}
			var out bytes.Buffer
			a.SetStdout(&out)
			if err := a.Import(ctx, address, id, reattachA); err != nil {
				t.Fatalf("import: %v", err)
			}
			a.SetStdout(io.Discard)
			assertContains(t, out.String(), "Imported what an unfinished create left", mesh.LabelCommitted+"=false")
			for _, key := range owned {
				if v, marked := liveObject(t, key).GetLabels()[mesh.LabelCommitted]; marked {
					t.Errorf("%s: %s=%q after the import", key, mesh.LabelCommitted, v)
				}
			}
			b, reattachB := terraformIn(t, config)
			var errOut bytes.Buffer
			b.SetStderr(&errOut)
			if err := b.Apply(ctx, reattachB); err == nil {
				t.Cleanup(func() { _ = b.Destroy(ctx, reattachB) })
				t.Fatal("another state's create took the imported objects over")
			}
			assertContains(t, errOut.String(), "another resource instance", "terraform import")
		})
	}
}

// stateResource is the one mesh resource of tf's state: its address, id
// and manifests.
func stateResource(t *testing.T, tf *tfexec.Terraform, reattach *tfexec.ReattachOption) (address, id string, recorded map[string]string) {
	t.Helper()
	state, err := tf.Show(context.Background(), reattach)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range state.Values.RootModule.Resources {
		if !strings.HasPrefix(r.Type, "mesh_") {
			continue
		}
		recorded = map[string]string{}
		raw, _ := r.AttributeValues["manifests"].(map[string]any)
		for k, v := range raw {
			recorded[k], _ = v.(string)
		}
		id, _ = r.AttributeValues["id"].(string)
		return r.Address, id, recorded
	}
	t.Fatal("the state holds no mesh resource")
	return "", "", nil
}

// leaveUncommitted makes key's object as a create that died before its
// commit leaves it: applied by the provider's field manager, marked
// committed=false.
func leaveUncommitted(t *testing.T, key, manifest string) {
	t.Helper()
	obj, err := decodeYAML(manifest)
	if err != nil {
		t.Fatal(err)
	}
	labels := obj.GetLabels()
	labels[mesh.LabelCommitted] = "false"
	obj.SetLabels(labels)
	data, err := json.Marshal(obj.Object)
	if err != nil {
		t.Fatal(err)
	}
	id := keyID(t, key)
	if _, err := resourceOf(t, id).Patch(context.Background(), id.Name, k8stypes.ApplyPatchType, data, metav1.PatchOptions{FieldManager: kube.DefaultFieldManager}); err != nil {
		t.Fatalf("mark %s uncommitted: %v", id, err)
	}
}
