package provider

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// installFault is one fault during a terraform apply that upgrades an Istio
// install: its istiod release changes two objects (the istiod Deployment's
// environment and the mesh ConfigMap).
type installFault struct {
	name string
	// kill SIGKILLs the provider process; otherwise kube-apiserver is
	// SIGKILLed and started again after down.
	kill bool
	down time.Duration
	// timeout is mesh_install's timeout: forward retries stop at half of
	// it, so a down longer than that makes the upgrade fail and roll back.
	timeout string
	// point is when, as the cluster reports the upgrade (a watch as the
	// admin, independent of the provider and of Helm).
	point installPoint
}

// installPoint is a moment of a Helm upgrade of istiod, as the cluster
// shows it: the first, the middle and the last write of the set.
type installPoint string

const (
	// pointRecorded: the new revision's release Secret is created
	// (pending-upgrade), before any object changes.
	pointRecorded installPoint = "release recorded pending"
	// pointPatched: the istiod Deployment's spec changes.
	pointPatched installPoint = "Deployment patched"
	// pointDeployed: the new revision is marked deployed.
	pointDeployed installPoint = "release marked deployed"
)

func installFaults() []installFault {
	var out []installFault
	for _, p := range []installPoint{pointRecorded, pointPatched, pointDeployed} {
		out = append(out,
			installFault{name: "kube-apiserver down 3 s, " + string(p), down: 3 * time.Second, timeout: "2m", point: p},
			installFault{name: "kube-apiserver down 25 s (past the forward retries), " + string(p), down: 25 * time.Second, timeout: "20s", point: p},
			installFault{name: "provider killed, " + string(p), kill: true, timeout: "2m", point: p})
	}
	return out
}

// TestAccInstallFaultsMidUpgrade restarts kube-apiserver, or SIGKILLs the
// provider process, in the middle of a terraform apply that upgrades an
// Istio install, at the first, the middle and the last write of the upgrade,
// and checks with an oracle of Helm's release records (what `helm list -a`
// and `helm history` read), the cluster's objects and terraform's own output:
// after a restart, the release's objects are all at the old values or all
// at the new ones, the latest revision of every release is deployed, state
// records the revisions Helm has and a refresh-only plan is clean, and
// "rolled back" is said only when the old values are back; the apply returns
// within its timeout, a rollback's wait of the same and a minute. A kill leaves the release pending: the next apply refuses it
// while another run may still hold it, and recovers it once stale, saying
// so. After every trial, one apply of the new configuration and one of the
// old converge, each leaving no pending or failed release and a clean plan.
// make test runs one trial; make faults (MESH_FAULT_POINTS=all) nine.
func TestAccInstallFaultsMidUpgrade(t *testing.T) {
	top := t // provider processes outlive the trial that started them
	ic := newInstallCluster(t)
	faults := installFaults()
	if os.Getenv("MESH_FAULT_POINTS") != "all" {
		faults = faults[4:5] // kube-apiserver down 25 s at the Deployment's patch
	}
	config := func(marker, timeout string) string {
		return ic.config(fmt.Sprintf(`
  mesh    = "istio"
  mode    = "sidecar"
  version = %q
  timeout = %q
  values  = { istiod = yamlencode({ env = { MESH_TEST_MARKER = %q }, meshConfig = { accessLogFile = "/dev/%s" } }) }
`, istioVersion, timeout, marker, marker))
	}
	tf, err := tfexec.NewTerraform(t.TempDir(), os.Getenv("TF_ACC_TERRAFORM_PATH"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T, config string) {
		if err := os.WriteFile(filepath.Join(tf.WorkingDir(), "main.tf"), []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd, info := providerProcess(t)
	write(t, config("old", "2m"))
	if err := tf.Init(t.Context(), tfexec.Reattach(info)); err != nil {
		t.Fatal(err)
	}
	if err := tf.Apply(t.Context(), tfexec.Reattach(info)); err != nil {
		t.Fatalf("install: %v", err)
	}
	for _, fault := range faults {
		t.Run(fault.name, func(t *testing.T) {
			before, after := config("old", fault.timeout), config("new", fault.timeout)
			write(t, before)
			if err := tf.Apply(t.Context(), tfexec.Reattach(info)); err != nil {
				t.Fatalf("apply the old configuration: %v", err)
			}
			write(t, after)
			faulted := ic.faultAt(t, fault, cmd)
			var stderr strings.Builder
			tf.SetStderr(&stderr)
			start := time.Now()
			applyErr := tf.Apply(t.Context(), tfexec.Reattach(info))
			took := time.Since(start)
			tf.SetStderr(io.Discard)
			if err := <-faulted; err != nil {
				t.Fatalf("fault: %v", err)
			}
			out := strings.NewReplacer("│", "", "╷", "", "╵", "").Replace(stderr.String())
			t.Logf("apply after %s: %v\n%s", took.Round(time.Second), applyErr, out)
			if fault.kill {
				if applyErr == nil {
					t.Fatal("the apply succeeded although its provider was killed")
				}
				cmd, info = providerProcess(top)
				ic.recoverKilled(t, tf, info)
			} else {
				timeout, _ := time.ParseDuration(fault.timeout)
				if bound := 2*timeout + time.Minute; took > bound {
					t.Errorf("the apply took %s, more than its timeout, a rollback's wait of the same and a minute (%s)", took, bound)
				}
				ic.checkAfterRestart(t, tf, info, applyErr, out)
			}
			// Recovery: the new configuration converges; the old one reverts.
			// With a longer timeout: after a restart of kube-apiserver the
			// test cluster's kube-controller-manager reconnects its watches
			// with backoff and takes a while to observe rollouts again.
			for _, step := range []struct{ marker, config string }{{"new", config("new", "2m")}, {"old", config("old", "2m")}} {
				write(t, step.config)
				if err := tf.Apply(t.Context(), tfexec.Reattach(info)); err != nil {
					t.Fatalf("apply the %s configuration after the fault: %v", step.marker, err)
				}
				if got := ic.istiodValues(t); got != step.marker {
					t.Errorf("after applying the %s configuration, istiod's objects hold %s", step.marker, got)
				}
				ic.expectReleasesDeployed(t)
				if changed, err := tf.Plan(t.Context(), tfexec.Reattach(info)); err != nil || changed {
					t.Errorf("after applying the %s configuration, the plan has changes %v, %v", step.marker, changed, err)
				}
			}
		})
	}
	// Not in a cleanup: the last provider process's own cleanup, registered
	// later, would run first.
	if err := tf.Destroy(t.Context(), tfexec.Reattach(info)); err != nil {
		t.Errorf("destroy: %v", err)
	}
	ic.expectNoReleases(t)
}

// checkAfterRestart is the oracle right after an apply during which
// kube-apiserver restarted.
func (ic *installCluster) checkAfterRestart(t *testing.T, tf *tfexec.Terraform, info tfexec.ReattachInfo, applyErr error, out string) {
	t.Helper()
	live := ic.istiodValues(t)
	if live == "mixed" {
		t.Errorf("istiod's objects are half-upgraded: the Deployment and the mesh ConfigMap hold different values")
	}
	ic.expectReleasesDeployed(t)
	if changed, err := tf.Plan(t.Context(), tfexec.Reattach(info), tfexec.RefreshOnly(true)); err != nil || changed {
		t.Errorf("refresh-only plan after the fault: changes %v, %v; want a state that matches the cluster", changed, err)
	}
	st, err := tf.Show(t.Context(), tfexec.Reattach(info))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Values.RootModule.Resources {
		revisions, _ := r.AttributeValues["release_revisions"].(map[string]any)
		for name, rel := range ic.helmReleases(t) {
			chart := rel.Chart.Metadata.Name // release_revisions is keyed by chart
			if fmt.Sprint(revisions[chart]) != fmt.Sprint(rel.Version) {
				t.Errorf("state records release %s (chart %s) at revision %v; Helm's latest is %d (%s)", name, chart, revisions[chart], rel.Version, rel.Info.Status)
			}
		}
	}
	switch {
	case applyErr == nil && live != "new":
		t.Errorf("the apply succeeded, but istiod's objects hold the %s values", live)
	case applyErr != nil && strings.Contains(out, "could not be rolled back"):
		if live != "mixed" && live != "new" {
			t.Errorf("terraform said the upgrade could not be rolled back, yet the old values are back")
		}
	case applyErr != nil && strings.Contains(out, "rolled back") && live != "old":
		t.Errorf("terraform said the upgrade was rolled back, yet istiod's objects hold the %s values", live)
	case applyErr != nil && !strings.Contains(out, "rolled back") && live != "old":
		t.Errorf("the apply failed without a rollback, yet istiod's objects hold the %s values (state keeps the old)", live)
	}
}

// recoverKilled checks the run after a provider killed mid-upgrade: a
// release left pending is refused while another run may still hold it,
// then recovered once stale, with a message that says what was done.
func (ic *installCluster) recoverKilled(t *testing.T, tf *tfexec.Terraform, info tfexec.ReattachInfo) {
	t.Helper()
	rel := ic.helmReleases(t)["istiod"]
	if rel == nil || !rel.Info.Status.IsPending() {
		t.Logf("the kill left no pending istiod release: nothing to recover")
		return
	}
	var stderr strings.Builder
	tf.SetStderr(&stderr)
	defer tf.SetStderr(io.Discard)
	err := tf.Apply(t.Context(), tfexec.Reattach(info))
	if err == nil || !strings.Contains(stderr.String(), "another Helm operation may be in progress") {
		t.Errorf("an apply right after the kill, over a release pending for seconds: %v; want it refused as possibly in progress", err)
	}
	wait := time.Until(rel.Info.LastDeployed.Time.Add(faultsPendingStaleAfter + 5*time.Second))
	t.Logf("istiod is %s at revision %d; waiting %s for it to be stale", rel.Info.Status, rel.Version, wait.Round(time.Second))
	time.Sleep(wait)
	var out strings.Builder
	tf.SetStdout(&out)
	defer tf.SetStdout(io.Discard)
	stderr.Reset()
	if err := tf.Apply(t.Context(), tfexec.Reattach(info)); err != nil {
		t.Fatalf("the apply once the pending release is stale: %v", err)
	}
	said := strings.NewReplacer("│", "", "╷", "", "╵", "").Replace(out.String() + stderr.String())
	if !strings.Contains(said, "Recovered an interrupted Helm operation") || !strings.Contains(said, "istiod") {
		t.Errorf("the recovering apply does not say what it did:\n%s", said)
	}
}

// istiodValues is "old" or "new" when the istiod Deployment's marker and the
// mesh ConfigMap's access log both hold that configuration's value, else
// "mixed".
func (ic *installCluster) istiodValues(t *testing.T) string {
	t.Helper()
	d, err := ic.cs.AppsV1().Deployments("istio-system").Get(t.Context(), "istiod", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm, err := ic.cs.CoreV1().ConfigMaps("istio-system").Get(t.Context(), "istio", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var env string
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, e := range c.Env {
			if e.Name == "MESH_TEST_MARKER" {
				env = e.Value
			}
		}
	}
	for _, v := range []string{"old", "new"} {
		if env == v && strings.Contains(cm.Data["mesh"], "accessLogFile: /dev/"+v) {
			return v
		}
	}
	t.Logf("istiod's Deployment has MESH_TEST_MARKER=%q; the mesh ConfigMap holds:\n%s", env, cm.Data["mesh"])
	return "mixed"
}

// helmConfig is Helm's configuration for istio-system, as the admin.
func (ic *installCluster) helmConfig(t *testing.T) *action.Configuration {
	t.Helper()
	kubeconfig, namespace := ic.Kubeconfig, "istio-system"
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Namespace = &kubeconfig, &namespace
	cfg := new(action.Configuration)
	if err := cfg.Init(flags, namespace, "secret", func(string, ...any) {}); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// helmReleases is the latest revision of every release in istio-system, as
// `helm list -a` shows them (any status).
func (ic *installCluster) helmReleases(t *testing.T) map[string]*release.Release {
	t.Helper()
	list := action.NewList(ic.helmConfig(t))
	list.All = true
	list.SetStateMask()
	rels, err := list.Run()
	if err != nil {
		t.Fatalf("helm list -a: %v", err)
	}
	out := map[string]*release.Release{}
	for _, r := range rels {
		out[r.Name] = r
	}
	return out
}

func (ic *installCluster) expectNoReleases(t *testing.T) {
	t.Helper()
	for name, r := range ic.helmReleases(t) {
		t.Errorf("release %s is still installed (%s, revision %d) after destroy", name, r.Info.Status, r.Version)
	}
}

func (ic *installCluster) expectReleasesDeployed(t *testing.T) {
	t.Helper()
	for name, r := range ic.helmReleases(t) {
		if r.Info.Status != release.StatusDeployed {
			t.Errorf("release %s is %s at revision %d; want deployed", name, r.Info.Status, r.Version)
		}
	}
}

// faultAt watches the upgrade in istio-system (as the admin) and, at the
// fault's point, kills the provider or restarts kube-apiserver. The channel
// yields once the fault is over (the API server is ready again).
func (ic *installCluster) faultAt(t *testing.T, fault installFault, provider *exec.Cmd) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	// Watches from the current state on: the history may hold an old
	// revision still marked pending (an upgrade whose record could not be
	// updated during an outage, then rolled back to a new revision).
	d, err := ic.cs.AppsV1().Deployments("istio-system").Get(ctx, "istiod", metav1.GetOptions{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	generation := d.Generation
	deployments, err := ic.cs.AppsV1().Deployments("istio-system").Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=istiod", ResourceVersion: d.ResourceVersion})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	list, err := ic.cs.CoreV1().Secrets("istio-system").List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=istiod"})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	secrets, err := ic.cs.CoreV1().Secrets("istio-system").Watch(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=istiod", ResourceVersion: list.ResourceVersion})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	reached := func(ev watch.Event) bool {
		switch o := ev.Object.(type) {
		case *appsv1.Deployment:
			return fault.point == pointPatched && o.Generation > generation
		case *corev1.Secret:
			switch fault.point {
			case pointRecorded:
				return ev.Type == watch.Added && o.Labels["status"] == string(release.StatusPendingUpgrade)
			case pointDeployed:
				return ev.Type == watch.Modified && o.Labels["status"] == string(release.StatusDeployed)
			}
		}
		return false
	}
	done := make(chan error, 1)
	go func() {
		defer cancel()
		deadline := time.After(5 * time.Minute)
		for {
			var ev watch.Event
			select {
			case ev = <-deployments.ResultChan():
			case ev = <-secrets.ResultChan():
			case <-deadline:
				done <- fmt.Errorf("the upgrade never reached %q", fault.point)
				return
			}
			if !reached(ev) {
				continue
			}
			if fault.kill {
				done <- provider.Process.Kill()
			} else {
				done <- ic.RestartAPIServer(context.Background(), fault.down, true)
			}
			return
		}
	}()
	return done
}

// TestAccInstallFaultsKilledFirstInstall SIGKILLs the provider during a
// first install (the create of an Istio install), once Helm has marked the
// istiod release deployed and the provider waits for readiness: the create
// never reaches state, and its releases are left carrying committed=false.
// Running the same apply again takes them over, saying so, and converges:
// the releases deployed, committed, in state, and a clean plan; destroy then
// leaves no release. make faults runs it (MESH_FAULT_POINTS=all).
func TestAccInstallFaultsKilledFirstInstall(t *testing.T) {
	if os.Getenv("MESH_FAULT_POINTS") != "all" {
		t.Skip("make faults runs it (MESH_FAULT_POINTS=all)")
	}
	top := t
	ic := newInstallCluster(t)
	tf, err := tfexec.NewTerraform(t.TempDir(), os.Getenv("TF_ACC_TERRAFORM_PATH"))
	if err != nil {
		t.Fatal(err)
	}
	config := ic.config(`
  mesh    = "istio"
  mode    = "sidecar"
  version = "` + istioVersion + `"
  timeout = "2m"
`)
	if err := os.WriteFile(filepath.Join(tf.WorkingDir(), "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd, info := providerProcess(t)
	if err := tf.Init(t.Context(), tfexec.Reattach(info)); err != nil {
		t.Fatal(err)
	}
	// The istiod release's record as it is marked deployed.
	killed := ic.onIstiodRecord(t, "marked deployed", func(ev watch.Event, s *corev1.Secret) bool {
		return s.Labels["status"] == string(release.StatusDeployed)
	}, cmd.Process.Kill)
	if err := tf.Apply(t.Context(), tfexec.Reattach(info)); err == nil {
		t.Fatal("the create succeeded although its provider was killed")
	}
	if err := <-killed; err != nil {
		t.Fatalf("kill: %v", err)
	}
	_, info = providerProcess(top)
	st, err := tf.Show(t.Context(), tfexec.Reattach(info))
	if err != nil {
		t.Fatal(err)
	}
	if st.Values != nil && len(st.Values.RootModule.Resources) > 0 {
		t.Fatalf("the killed create reached state: %+v", st.Values.RootModule.Resources)
	}
	cfg := ic.helmConfig(t)
	if rel, err := cfg.Releases.Last("istiod"); err != nil || rel.Labels[mesh.LabelCommitted] != "false" {
		t.Fatalf("the killed create left istiod %v (labels %v); want it deployed and uncommitted", err, rel.Labels)
	}

	var out strings.Builder
	tf.SetStdout(&out)
	if err := tf.Apply(t.Context(), tfexec.Reattach(info)); err != nil {
		t.Fatalf("the same apply again: %v", err)
	}
	tf.SetStdout(io.Discard)
	said := strings.Join(strings.Fields(strings.NewReplacer("│", "", "╷", "", "╵", "").Replace(out.String())), " ")
	if !strings.Contains(said, "Taking over releases an unfinished create left") || !strings.Contains(said, "istio-system/istiod (revision 1, deployed") {
		t.Errorf("the apply after the kill does not say it took the releases over:\n%s", said)
	}
	ic.expectConvergedThenDestroyed(t, tf, info)
}

// onIstiodRecord watches the istiod release's records (Helm's Secrets, a
// watch as the admin, independent of the provider and of Helm) and runs
// fault once one matches, as it is written. The channel gets fault's error,
// or why it never ran (the watch ended, or no record matched within five
// minutes); what names the record in that message.
func (ic *installCluster) onIstiodRecord(t *testing.T, what string, match func(watch.Event, *corev1.Secret) bool, fault func() error) <-chan error {
	t.Helper()
	secrets, err := ic.cs.CoreV1().Secrets("istio-system").Watch(t.Context(), metav1.ListOptions{LabelSelector: "owner=helm,name=istiod"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		defer secrets.Stop()
		deadline := time.After(5 * time.Minute)
		for {
			select {
			case ev, open := <-secrets.ResultChan():
				if !open {
					done <- fmt.Errorf("the watch of the istiod release ended")
					return
				}
				if s, ok := ev.Object.(*corev1.Secret); ok && match(ev, s) {
					done <- fault()
					return
				}
			case <-deadline:
				done <- fmt.Errorf("the istiod release was never %s", what)
				return
			}
		}
	}()
	return done
}

// expectConvergedThenDestroyed checks the install after an apply that
// converged: every release deployed and committed, a clean plan; then
// destroy leaves no release.
func (ic *installCluster) expectConvergedThenDestroyed(t *testing.T, tf *tfexec.Terraform, info tfexec.ReattachInfo) {
	t.Helper()
	ic.expectReleasesDeployed(t)
	cfg := ic.helmConfig(t)
	for name := range ic.helmReleases(t) {
		if rel, err := cfg.Releases.Last(name); err != nil || rel.Labels[mesh.LabelCommitted] != "" {
			t.Errorf("release %s after the converging apply: %v, labels %v; want it committed", name, err, rel.Labels)
		}
	}
	if changed, err := tf.Plan(t.Context(), tfexec.Reattach(info)); err != nil || changed {
		t.Errorf("after the converging apply, the plan has changes %v, %v", changed, err)
	}
	if err := tf.Destroy(t.Context(), tfexec.Reattach(info)); err != nil {
		t.Errorf("destroy: %v", err)
	}
	ic.expectNoReleases(t)
}

// TestAccInstallFaultsRestartDuringFirstInstall restarts kube-apiserver
// during a first install (the create of an Istio install), as Helm records
// the istiod release pending-install: for 3 s (within the forward retries)
// and for 25 s past a 20 s timeout (the create fails and is undone). The
// 3 s outage must not fail the create: Helm writes the release record with
// a create (POST), whose reply the restart loses, and which is sent again
// (kube's createOf). The oracle reads Helm's records and terraform's state: no release is left
// pending or failed; a create that succeeded is in state with every release
// deployed and committed; one said to be rolled back left no release and no
// state; one that failed otherwise left only releases marked uncommitted
// (or recorded them in state); a refresh-only plan is clean; the apply
// returns within its timeout, a rollback's wait of the same and a minute.
// The same apply then converges (taking over what is left, saying so), and
// destroy leaves no release. make faults runs it (MESH_FAULT_POINTS=all).
func TestAccInstallFaultsRestartDuringFirstInstall(t *testing.T) {
	if os.Getenv("MESH_FAULT_POINTS") != "all" {
		t.Skip("make faults runs it (MESH_FAULT_POINTS=all)")
	}
	ic := newInstallCluster(t) // one cluster: each trial ends with no release left
	for _, fault := range []installFault{
		{name: "kube-apiserver down 3 s, istiod recorded pending-install", down: 3 * time.Second, timeout: "2m"},
		{name: "kube-apiserver down 25 s (past the forward retries), istiod recorded pending-install", down: 25 * time.Second, timeout: "20s"},
	} {
		t.Run(fault.name, func(t *testing.T) {
			tf, err := tfexec.NewTerraform(t.TempDir(), os.Getenv("TF_ACC_TERRAFORM_PATH"))
			if err != nil {
				t.Fatal(err)
			}
			write := func(timeout string) {
				config := ic.config(`
  mesh    = "istio"
  mode    = "sidecar"
  version = "` + istioVersion + `"
  timeout = "` + timeout + `"
`)
				if err := os.WriteFile(filepath.Join(tf.WorkingDir(), "main.tf"), []byte(config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			write(fault.timeout)
			_, info := providerProcess(t)
			if err := tf.Init(t.Context(), tfexec.Reattach(info)); err != nil {
				t.Fatal(err)
			}
			restarted := ic.onIstiodRecord(t, "recorded pending-install", func(ev watch.Event, s *corev1.Secret) bool {
				return ev.Type == watch.Added && s.Labels["status"] == string(release.StatusPendingInstall)
			}, func() error { return ic.RestartAPIServer(context.Background(), fault.down, true) })
			var stderr strings.Builder
			tf.SetStderr(&stderr)
			start := time.Now()
			applyErr := tf.Apply(t.Context(), tfexec.Reattach(info))
			took := time.Since(start)
			tf.SetStderr(io.Discard)
			if err := <-restarted; err != nil {
				t.Fatalf("restart: %v", err)
			}
			out := strings.Join(strings.Fields(strings.NewReplacer("│", "", "╷", "", "╵", "").Replace(stderr.String())), " ")
			t.Logf("apply after %s: %v\n%s", took.Round(time.Second), applyErr, out)
			timeout, _ := time.ParseDuration(fault.timeout)
			if bound := 2*timeout + time.Minute; took > bound {
				t.Errorf("the apply took %s, more than its timeout, a rollback's wait of the same and a minute (%s)", took, bound)
			}
			if forward := timeout / 2; fault.down < forward/4 && applyErr != nil {
				t.Errorf("an outage of %s, well within the forward retries (%s), failed the create", fault.down, forward)
			}

			releases := ic.helmReleases(t)
			for name, rel := range releases {
				if rel.Info.Status != release.StatusDeployed {
					t.Errorf("release %s is %s after the fault; want deployed or none", name, rel.Info.Status)
				}
			}
			st, err := tf.Show(t.Context(), tfexec.Reattach(info))
			if err != nil {
				t.Fatal(err)
			}
			inState := st.Values != nil && len(st.Values.RootModule.Resources) > 0
			switch {
			case applyErr == nil:
				if !inState || len(releases) == 0 {
					t.Errorf("the create succeeded, but state holds it: %v, and %d releases exist", inState, len(releases))
				}
				for name, rel := range releases {
					if v, marked := rel.Labels[mesh.LabelCommitted]; marked {
						t.Errorf("the create succeeded, but release %s carries %s=%s", name, mesh.LabelCommitted, v)
					}
				}
			case strings.Contains(out, "could not be rolled back"):
				if len(releases) == 0 {
					t.Error("terraform said the install could not be rolled back, yet no release is left")
				}
			case strings.Contains(out, "rolled back"):
				if len(releases) > 0 || inState {
					t.Errorf("terraform said the install was rolled back, yet %d releases are left (in state: %v)", len(releases), inState)
				}
			default:
				for name, rel := range releases {
					if rel.Labels[mesh.LabelCommitted] != "false" && !inState {
						t.Errorf("the failed create left release %s committed and in no state", name)
					}
				}
			}
			if changed, err := tf.Plan(t.Context(), tfexec.Reattach(info), tfexec.RefreshOnly(true)); err != nil || changed {
				t.Errorf("refresh-only plan after the fault: changes %v, %v; want a state that matches the cluster", changed, err)
			}

			// Recovery: the same configuration converges. (With a longer
			// timeout: the test cluster's kube-controller-manager takes a
			// while to observe rollouts again after a restart.)
			write("2m")
			if err := tf.Apply(t.Context(), tfexec.Reattach(info)); err != nil {
				t.Fatalf("the same apply after the fault: %v", err)
			}
			ic.expectConvergedThenDestroyed(t, tf, info)
		})
	}
}
