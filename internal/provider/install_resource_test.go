package provider

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-exec/tfexec"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// renderedKnown asserts that the plan already lists every object of chart.
func renderedKnown(chart string) plancheck.PlanCheck {
	return plancheck.ExpectKnownValue(installAddress, tfjsonpath.New("rendered_objects").AtMapKey(chart), knownvalue.NotNull())
}

func revisions(want map[string]int64) statecheck.StateCheck {
	m := map[string]knownvalue.Check{}
	for k, v := range want {
		m[k] = knownvalue.Int64Exact(v)
	}
	return statecheck.ExpectKnownValue(installAddress, tfjsonpath.New("release_revisions"), knownvalue.MapExact(m))
}

// TestAccInstall_IstioAmbient installs ambient Istio, upgrades istiod's
// values, repairs a release uninstalled out of band, imports and destroys.
func TestAccInstall_IstioAmbient(t *testing.T) {
	ic := newInstallCluster(t)
	base := `
  mesh    = "istio"
  version = "` + istioVersion + `"
`
	upgraded := base + `
  values = {
    istiod = yamlencode({ env = { MESH_TEST_MARKER = "upgraded" } })
  }
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			return ic.expectDeployment(t, "istio-system", "istiod", false)
		},
		Steps: []resource.TestStep{
			{
				Config: ic.config(base),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(installAddress, plancheck.ResourceActionCreate),
					renderedKnown("base"), renderedKnown("istiod"), renderedKnown("cni"), renderedKnown("ztunnel"),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(installAddress, tfjsonpath.New("id"), knownvalue.StringExact("istio/istio-system")),
					statecheck.ExpectKnownValue(installAddress, tfjsonpath.New("mode"), knownvalue.StringExact("ambient")),
					revisions(map[string]int64{"base": 1, "istiod": 1, "cni": 1, "ztunnel": 1}),
				},
				Check: func(*terraform.State) error { return ic.expectDeployment(t, "istio-system", "istiod", true) },
			},
			{
				// The plan shows that only istiod's objects change.
				Config: ic.config(upgraded),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(installAddress, plancheck.ResourceActionUpdate),
						expectRenderedChange([]string{"istiod"}, []string{"base", "cni", "ztunnel"}),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(installAddress, tfjsonpath.New("release_revisions").AtMapKey("istiod"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(installAddress, tfjsonpath.New("release_revisions").AtMapKey("ztunnel"), knownvalue.Int64Exact(1)),
				},
				Check: func(*terraform.State) error { return ic.expectIstiodEnv(t, "MESH_TEST_MARKER", "upgraded") },
			},
			{
				// Drift: ztunnel uninstalled with Helm; the plan shows it, apply restores it.
				PreConfig: func() { ic.helmUninstall(t, "istio-system", "ztunnel") },
				Config:    ic.config(upgraded),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(installAddress, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(installAddress, tfjsonpath.New("release_revisions")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error { return ic.expectDaemonSet(t, "istio-system", "ztunnel") },
			},
			{
				ResourceName:      installAddress,
				ImportState:       true,
				ImportStateId:     "istio/istio-system",
				ImportStateVerify: true,
				// Helm does not record the repository, so an import cannot render the
				// charts; values come back as equivalent YAML, not the same text;
				// components are readiness at the time.
				ImportStateVerifyIgnore: []string{"components", "chart_repository", "rendered_objects", "values"},
			},
		},
	})
}

// TestAccInstall_IstioSidecarRevision installs sidecar Istio as a revision.
// A second Terraform state on the same cluster that declares the same
// install is refused, at plan and at the apply of a plan saved before the
// first state installed, and changes nothing.
func TestAccInstall_IstioSidecarRevision(t *testing.T) {
	ic := newInstallCluster(t)
	config := ic.config(`
  mesh     = "istio"
  mode     = "sidecar"
  revision = "canary"
  version  = "` + istioVersion + `"
`)
	var other *otherState
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			return ic.expectDeployment(t, "istio-system", "istiod-canary", false)
		},
		Steps: []resource.TestStep{{
			PreConfig: func() {
				other = newOtherState(t, config)
				other.planOut(t) // before the mesh is installed: nothing to refuse yet
			},
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply:             []plancheck.PlanCheck{renderedKnown("base"), renderedKnown("istiod")},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				revisions(map[string]int64{"base": 1, "istiod": 1}),
				statecheck.ExpectKnownValue(installAddress, tfjsonpath.New("components"), knownvalue.NotNull()),
			},
			Check: func(*terraform.State) error {
				if err := ic.expectDeployment(t, "istio-system", "istiod-canary", true); err != nil {
					return err
				}
				if err := ic.expectDaemonSetAbsent(t, "istio-system", "ztunnel"); err != nil {
					return err
				}
				if err := other.expectRefused(t, ic); err != nil {
					return err
				}
				if err := other.expectTakesOverUncommitted(t, ic); err != nil {
					return err
				}
				return other.expectImportCommits(t, ic)
			},
		}},
	})
}

// expectTakesOverUncommitted: releases marked as left by a create that
// did not finish (committed=false, as Apply marks them until its last
// write) are taken over by a create, with a warning naming them, and are
// committed at its end. The second state then forgets them, leaving them
// to the first.
func (o *otherState) expectTakesOverUncommitted(t *testing.T, ic *installCluster) error {
	if err := markUncommitted(t, ic); err != nil {
		return err
	}
	cfg := ic.helmConfig(t)
	var stdout strings.Builder
	o.tf.SetStdout(&stdout)
	defer o.tf.SetStdout(io.Discard)
	if err := o.tf.Apply(t.Context(), tfexec.Reattach(o.info)); err != nil {
		return fmt.Errorf("the create over releases an unfinished create left: %v", err)
	}
	out := strings.Join(strings.Fields(strings.NewReplacer("│", "", "╷", "", "╵", "").Replace(stdout.String())), " ")
	for _, want := range []string{"Taking over releases an unfinished create left", "istio-system/istiod-canary (revision"} {
		if !strings.Contains(out, want) {
			return fmt.Errorf("the create over uncommitted releases does not warn %q:\n%s", want, out)
		}
	}
	for name := range ic.helmReleases(t) {
		rel, err := cfg.Releases.Last(name)
		if err != nil {
			return err
		}
		if v, ok := rel.Labels[mesh.LabelCommitted]; ok {
			return fmt.Errorf("release %s still carries %s=%s after the create finished", name, mesh.LabelCommitted, v)
		}
	}
	return o.tf.StateRm(t.Context(), installAddress)
}

// markUncommitted marks every release as a create that did not finish
// leaves it.
func markUncommitted(t *testing.T, ic *installCluster) error {
	cfg := ic.helmConfig(t)
	for name := range ic.helmReleases(t) {
		rel, err := cfg.Releases.Last(name)
		if err != nil {
			return err
		}
		if rel.Labels == nil {
			rel.Labels = map[string]string{}
		}
		rel.Labels[mesh.LabelCommitted] = "false"
		if err := cfg.Releases.Update(rel); err != nil {
			return err
		}
	}
	return nil
}

// expectImportCommits: `terraform import` of releases an unfinished create
// left clears their uncommitted mark, with a warning naming them, so that
// no other create takes them over. The second state then forgets them.
func (o *otherState) expectImportCommits(t *testing.T, ic *installCluster) error {
	if err := markUncommitted(t, ic); err != nil {
		return err
	}
	var stdout strings.Builder
	o.tf.SetStdout(&stdout)
	defer o.tf.SetStdout(io.Discard)
	if err := o.tf.Import(t.Context(), installAddress, "istio/istio-system", tfexec.Reattach(o.info)); err != nil {
		return fmt.Errorf("the import of releases an unfinished create left: %v", err)
	}
	out := strings.Join(strings.Fields(strings.NewReplacer("│", "", "╷", "", "╵", "").Replace(stdout.String())), " ")
	for _, want := range []string{"Imported what an unfinished create left", "istio-system/istiod-canary", mesh.LabelCommitted + "=false"} {
		if !strings.Contains(out, want) {
			return fmt.Errorf("the import of uncommitted releases does not warn %q:\n%s", want, out)
		}
	}
	cfg := ic.helmConfig(t)
	for name := range ic.helmReleases(t) {
		rel, err := cfg.Releases.Last(name)
		if err != nil {
			return err
		}
		if v, ok := rel.Labels[mesh.LabelCommitted]; ok {
			return fmt.Errorf("release %s still carries %s=%s after the import", name, mesh.LabelCommitted, v)
		}
	}
	return o.tf.StateRm(t.Context(), installAddress)
}

// otherState is a second Terraform working directory, so a second state, on
// the same cluster, run through terraform-exec with a provider process of
// its own.
type otherState struct {
	tf   *tfexec.Terraform
	info tfexec.ReattachInfo
	plan string // a plan saved by planOut
}

func newOtherState(t *testing.T, config string) *otherState {
	t.Helper()
	_, info := providerProcess(t)
	tf, err := tfexec.NewTerraform(t.TempDir(), os.Getenv("TF_ACC_TERRAFORM_PATH"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tf.WorkingDir(), "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := tf.Init(t.Context(), tfexec.Reattach(info)); err != nil {
		t.Fatal(err)
	}
	return &otherState{tf: tf, info: info}
}

func (o *otherState) planOut(t *testing.T) {
	t.Helper()
	o.plan = filepath.Join(o.tf.WorkingDir(), "saved.tfplan")
	if _, err := o.tf.Plan(t.Context(), tfexec.Reattach(o.info), tfexec.Out(o.plan)); err != nil {
		t.Fatalf("the second state's plan, before the mesh is installed: %v", err)
	}
}

// expectRefused: the second state's plan, and the apply of its saved plan,
// fail with the provider's message naming the releases and the import
// command, and the first state's releases stay at their revisions.
func (o *otherState) expectRefused(t *testing.T, ic *installCluster) error {
	before := map[string]int{}
	for name, rel := range ic.helmReleases(t) {
		before[name] = rel.Version
	}
	var stderr strings.Builder
	o.tf.SetStderr(&stderr)
	defer o.tf.SetStderr(io.Discard)
	for _, run := range []struct {
		what string
		do   func() error
	}{
		{"plan", func() error { _, err := o.tf.Plan(t.Context(), tfexec.Reattach(o.info)); return err }},
		{"apply of the plan saved before the install", func() error {
			return o.tf.Apply(t.Context(), tfexec.Reattach(o.info), tfexec.DirOrPlan(o.plan))
		}},
	} {
		stderr.Reset()
		err := run.do()
		out := strings.Join(strings.Fields(strings.NewReplacer("│", "", "╷", "", "╵", "").Replace(stderr.String())), " ")
		for _, want := range []string{"The mesh is already installed", "istio-system/istio-base (revision 1, deployed", "istio-system/istiod-canary (revision 1, deployed", "terraform import mesh_install.NAME istio/istio-system"} {
			if err == nil || !strings.Contains(out, want) {
				return fmt.Errorf("the second state's %s: %v, %q; want it refused, saying %q", run.what, err, out, want)
			}
		}
	}
	for name, rel := range ic.helmReleases(t) {
		if before[name] != rel.Version {
			return fmt.Errorf("release %s went from revision %d to %d: the second state changed the first one's install", name, before[name], rel.Version)
		}
	}
	return nil
}

// expectRenderedChange asserts which charts' object lines the plan changes.
func expectRenderedChange(changed, unchanged []string) plancheck.PlanCheck {
	return renderedChangeCheck{changed, unchanged}
}

type renderedChangeCheck struct{ changed, unchanged []string }

func (c renderedChangeCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != installAddress {
			continue
		}
		before, _ := rc.Change.Before.(map[string]any)["rendered_objects"].(map[string]any)
		after, _ := rc.Change.After.(map[string]any)["rendered_objects"].(map[string]any)
		for chart := range before {
			differs := !reflect.DeepEqual(before[chart], after[chart])
			switch {
			case slices.Contains(c.changed, chart) && !differs:
				resp.Error = fmt.Errorf("rendered_objects[%q] does not change, want a change", chart)
			case slices.Contains(c.unchanged, chart) && differs:
				resp.Error = fmt.Errorf("rendered_objects[%q] changes:\n%v\n->\n%v", chart, before[chart], after[chart])
			}
		}
		return
	}
	resp.Error = fmt.Errorf("%s not in plan", installAddress)
}

func (ic *installCluster) expectIstiodEnv(t *testing.T, name, want string) error {
	d, err := ic.cs.AppsV1().Deployments("istio-system").Get(context.Background(), "istiod", metav1.GetOptions{})
	if err != nil {
		return err
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, e := range c.Env {
			if e.Name == name && e.Value == want {
				return nil
			}
		}
	}
	return fmt.Errorf("istiod has no env %s=%s", name, want)
}

func (ic *installCluster) expectDaemonSet(t *testing.T, namespace, name string) error {
	_, err := ic.cs.AppsV1().DaemonSets(namespace).Get(context.Background(), name, metav1.GetOptions{})
	return err
}

func (ic *installCluster) expectDaemonSetAbsent(t *testing.T, namespace, name string) error {
	if ic.expectDaemonSet(t, namespace, name) == nil {
		return fmt.Errorf("DaemonSet %s/%s exists, want none in sidecar mode", namespace, name)
	}
	return nil
}

// expectTrustRoots asserts Linkerd's trust-roots ConfigMap holds anchors.
func (ic *installCluster) expectTrustRoots(t *testing.T, anchors string) error {
	cm, err := ic.cs.CoreV1().ConfigMaps("linkerd").Get(context.Background(), "linkerd-identity-trust-roots", metav1.GetOptions{})
	if err != nil {
		return err
	}
	if got := cm.Data["ca-bundle.crt"]; anchors == "" || !containsTrimmed(got, anchors) {
		return fmt.Errorf("linkerd-identity-trust-roots ca-bundle.crt does not hold the trust anchor:\n%s", got)
	}
	return nil
}
