package install

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshform/terraform-provider-mesh/internal/certs"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	helmtime "helm.sh/helm/v3/pkg/time"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

const applyTimeout = 2 * time.Minute

// failingApplyTimeout bounds an Apply whose readiness wait must time out:
// long enough that Helm's own writes finish first on a loaded machine (8 s
// was not, with other packages' clusters running), so that the wait is
// what fails.
const failingApplyTimeout = 20 * time.Second

// unschedulable pins istiod to a node label no node has, so its pod stays
// Pending and readiness must time out.
const unschedulable = "nodeSelector:\n  mesh.terraform.io/test: nowhere\n"

func newInstaller(t *testing.T) *Installer {
	t.Helper()
	needCluster(t)
	inst, err := New(cluster.Config, Options{CacheDir: t.TempDir(), Log: func(s string) { t.Log("helm: " + s) }})
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

func istio(t *testing.T, o IstioOptions) Plan {
	t.Helper()
	o.Repository, o.Version = repoURL, istioVersion
	p, err := IstioPlan(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// uninstallAtEnd removes p whatever the test did.
func uninstallAtEnd(t *testing.T, inst *Installer, p Plan) {
	t.Cleanup(func() {
		if err := inst.Uninstall(context.Background(), p, applyTimeout); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
}

func apply(t *testing.T, inst *Installer, p Plan) *Result {
	t.Helper()
	start := time.Now()
	res, err := inst.Apply(context.Background(), p, ApplyOptions{Wait: true, Timeout: applyTimeout})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	t.Logf("Apply took %s, revisions %v", time.Since(start).Round(time.Millisecond), res.Revisions)
	return res
}

func wantReady(t *testing.T, comps []Component, want ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, c := range comps {
		if !c.Ready {
			t.Errorf("component not ready: %s", c)
		}
		have[c.Kind+"/"+c.Name] = true
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("components lack %s; have %v", w, comps)
		}
	}
}

func clientset(t *testing.T) kubernetes.Interface {
	return kubernetes.NewForConfigOrDie(cluster.Config)
}

func TestIstioAmbientInstallUpgradeUninstall(t *testing.T) {
	inst := newInstaller(t)
	p := istio(t, IstioOptions{Ambient: true})
	uninstallAtEnd(t, inst, p)
	ctx := context.Background()

	downloads.reset()
	if _, err := inst.Render(ctx, p); err != nil {
		t.Fatal(err)
	}
	res := apply(t, inst, p)
	for _, chart := range []string{"base", "istiod", "cni", "ztunnel"} {
		if n := downloads.count("/" + chart + "-" + istioVersion + ".tgz"); n != 1 {
			t.Errorf("chart %s downloaded %d times by Render and Apply, want once", chart, n)
		}
	}
	want := map[string]int{"istio-base": 1, "istiod": 1, "istio-cni": 1, "ztunnel": 1}
	if !maps.Equal(res.Revisions, want) {
		t.Errorf("revisions %v, want %v", res.Revisions, want)
	}
	wantReady(t, res.Components, "Deployment/istiod", "DaemonSet/ztunnel", "DaemonSet/istio-cni-node",
		"MutatingWebhookConfiguration/istio-sidecar-injector", "CustomResourceDefinition/virtualservices.networking.istio.io")
	st, err := inst.Status(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.ManifestsDigest(p); got != res.ManifestsDigest {
		t.Errorf("Status digest %s != Apply digest %s", got, res.ManifestsDigest)
	}
	if v := st.Releases["istiod"].UserValues["profile"]; v != "ambient" {
		t.Errorf("istiod user values: profile = %v", v)
	}

	// A values change upgrades istiod only: the other releases are unchanged.
	up := istio(t, IstioOptions{Ambient: true, Values: map[string]string{"istiod": "env:\n  MESH_TEST_MARKER: upgraded\n"}})
	res2 := apply(t, inst, up)
	want["istiod"] = 2
	if !maps.Equal(res2.Revisions, want) {
		t.Errorf("after upgrade revisions %v, want %v", res2.Revisions, want)
	}
	if res2.ManifestsDigest == res.ManifestsDigest {
		t.Error("manifests digest did not change with the upgrade")
	}
	d, err := clientset(t).AppsV1().Deployments("istio-system").Get(ctx, "istiod", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !hasEnv(d.Spec.Template.Spec.Containers[0].Env, "MESH_TEST_MARKER", "upgraded") {
		t.Errorf("istiod env lacks MESH_TEST_MARKER=upgraded: %v", d.Spec.Template.Spec.Containers[0].Env)
	}

	if err := inst.Uninstall(ctx, up, applyTimeout); err != nil {
		t.Fatal(err)
	}
	st, err = inst.Status(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range st.Releases {
		if r.Exists {
			t.Errorf("release %s still exists after Uninstall", name)
		}
	}
	if _, err := clientset(t).AppsV1().DaemonSets("istio-system").Get(ctx, "ztunnel", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ztunnel DaemonSet after Uninstall: %v", err)
	}
	// The CRDs predate the install (kubetest applied them): they were
	// adopted with resource-policy keep, so uninstalling leaves them.
	crd, err := inst.dyn.Resource(readinessKinds["CustomResourceDefinition"]).Get(ctx, "virtualservices.networking.istio.io", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("pre-existing CRD deleted by Uninstall: %v", err)
	}
	if crd.GetAnnotations()[keepAnnotation] != "keep" {
		t.Errorf("adopted CRD annotations %v", crd.GetAnnotations())
	}
}

func TestIstioSidecarWithRevision(t *testing.T) {
	inst := newInstaller(t)
	p := istio(t, IstioOptions{Revision: "canary"})
	uninstallAtEnd(t, inst, p)
	res := apply(t, inst, p)
	if want := map[string]int{"istio-base": 1, "istiod-canary": 1}; !maps.Equal(res.Revisions, want) {
		t.Errorf("revisions %v, want %v", res.Revisions, want)
	}
	wantReady(t, res.Components, "Deployment/istiod-canary", "MutatingWebhookConfiguration/istio-sidecar-injector-canary")
	for _, c := range res.Components {
		if c.Kind == "DaemonSet" {
			t.Errorf("sidecar mode installed %s", c)
		}
	}
}

func TestLinkerdWithGeneratedCertificates(t *testing.T) {
	inst := newInstaller(t)
	anchor, crt, key, err := certs.GenerateLinkerdIdentity(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if ps := certs.ValidateLinkerdIdentity(anchor, crt, key, time.Now()); len(ps) > 0 {
		t.Fatalf("generated identity has problems: %v", ps)
	}
	p, err := LinkerdPlan(LinkerdOptions{Repository: repoURL, Version: linkerdVersion,
		Identity: LinkerdIdentity{TrustAnchorsPEM: anchor, IssuerCertPEM: crt, IssuerKeyPEM: key}})
	if err != nil {
		t.Fatal(err)
	}
	uninstallAtEnd(t, inst, p)
	ctx := context.Background()
	// The control plane chart generates webhook certificates on every
	// render; Render masks them so that a plan is stable.
	r1, err := inst.Render(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := inst.Render(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r1["linkerd-control-plane"], r2["linkerd-control-plane"]) {
		t.Error("two renders of linkerd-control-plane differ")
	}
	res := apply(t, inst, p)
	wantReady(t, res.Components, "Deployment/linkerd-destination", "Deployment/linkerd-identity",
		"Deployment/linkerd-proxy-injector", "CustomResourceDefinition/servers.policy.linkerd.io",
		"MutatingWebhookConfiguration/linkerd-proxy-injector-webhook-config")
	secret, err := clientset(t).CoreV1().Secrets("linkerd").Get(ctx, "linkerd-identity-issuer", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["crt.pem"]) != strings.TrimSpace(crt) { // the chart trims it
		t.Error("linkerd-identity-issuer does not hold the generated issuer certificate")
	}
}

func TestFailedUpgradeRollsBackToPreviousRevision(t *testing.T) {
	inst := newInstaller(t)
	p := istio(t, IstioOptions{})
	uninstallAtEnd(t, inst, p)
	ctx := context.Background()
	apply(t, inst, p)

	bad := istio(t, IstioOptions{Values: map[string]string{"istiod": unschedulable}})
	start := time.Now()
	_, err := inst.Apply(ctx, bad, ApplyOptions{Wait: true, Timeout: failingApplyTimeout})
	t.Logf("failed Apply took %s:\n%v", time.Since(start).Round(time.Millisecond), err)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %T %v", err, err)
	}
	if e.Release != "istiod" || !slices.Equal(e.RolledBack, []string{"istiod to revision 1"}) || len(e.Uninstalled) > 0 || e.RollbackErr != nil {
		t.Errorf("release %q rolled back %v uninstalled %v rollback error %v", e.Release, e.RolledBack, e.Uninstalled, e.RollbackErr)
	}
	for _, want := range []string{"Deployment/istio-system/istiod: 0/1 replicas ready (pod istiod-", "not scheduled", "didn't match Pod's node affinity/selector", "rolled back: istiod to revision 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q", want)
		}
	}
	st, err := inst.Status(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if r := st.Releases["istiod"]; r.Revision != 3 || r.Status != "deployed" || r.UserValues["nodeSelector"] != nil {
		t.Errorf("istiod after rollback: %+v (want revision 3 = rollback to 1, deployed, no nodeSelector)", r)
	}
	if r := st.Releases["istio-base"]; r.Revision != 1 {
		t.Errorf("istio-base was touched: %+v", r)
	}
	d, err := clientset(t).AppsV1().Deployments("istio-system").Get(ctx, "istiod", metav1.GetOptions{})
	if err != nil || d.Spec.Template.Spec.NodeSelector["mesh.terraform.io/test"] != "" {
		t.Errorf("istiod nodeSelector after rollback: %v %v", d.Spec.Template.Spec.NodeSelector, err)
	}
}

func TestFailedFirstInstallRemovesWhatItCreated(t *testing.T) {
	inst := newInstaller(t)
	p := istio(t, IstioOptions{Values: map[string]string{"istiod": unschedulable}})
	uninstallAtEnd(t, inst, p)
	ctx := context.Background()
	_, err := inst.Apply(ctx, p, ApplyOptions{Wait: true, Timeout: failingApplyTimeout})
	t.Logf("failed Apply:\n%v", err)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %T %v", err, err)
	}
	if !slices.Equal(e.Uninstalled, []string{"istiod", "istio-base"}) || len(e.RolledBack) > 0 {
		t.Errorf("uninstalled %v rolled back %v", e.Uninstalled, e.RolledBack)
	}
	if !strings.Contains(err.Error(), "Deployment/istio-system/istiod: 0/1 replicas ready") {
		t.Errorf("error does not name istiod's readiness")
	}
	st, err := inst.Status(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range st.Releases {
		if r.Exists {
			t.Errorf("release %s exists after a failed first install", name)
		}
	}
	if _, err := inst.dyn.Resource(readinessKinds["CustomResourceDefinition"]).Get(ctx, "gateways.networking.istio.io", metav1.GetOptions{}); err != nil {
		t.Errorf("undoing the install deleted a CRD that predates it: %v", err)
	}
}

func TestRenderIsStableAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	p := istio(t, IstioOptions{Ambient: true})
	got1, err := newInstaller(t).Render(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	got2, err := newInstaller(t).Render(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Releases {
		if len(got1[r.Name]) == 0 || !slices.Equal(got1[r.Name], got2[r.Name]) {
			t.Errorf("release %s: renders differ or are empty", r.Name)
		}
		if !slices.IsSortedFunc(got1[r.Name], func(a, b RenderedObject) int {
			return strings.Compare(a.Kind+"/"+a.Namespace+"/"+a.Name, b.Kind+"/"+b.Namespace+"/"+b.Name)
		}) {
			t.Errorf("release %s: objects not sorted", r.Name)
		}
	}
	istiod := find(got1["istiod"], "Deployment", "istio-system", "istiod")
	if istiod == nil || len(istiod.SHA256) != 64 {
		t.Fatalf("no Deployment/istio-system/istiod with a digest in %v", got1["istiod"])
	}
	// A values change shows up in exactly the objects it touches.
	changed, err := newInstaller(t).Render(ctx, istio(t, IstioOptions{Ambient: true, Values: map[string]string{"istiod": unschedulable}}))
	if err != nil {
		t.Fatal(err)
	}
	if find(changed["istiod"], "Deployment", "istio-system", "istiod").SHA256 == istiod.SHA256 {
		t.Error("nodeSelector change did not change istiod's digest")
	}
	if !slices.Equal(changed["ztunnel"], got1["ztunnel"]) {
		t.Error("an istiod values change changed ztunnel's objects")
	}
	// Nothing was written: no Helm release records, no istiod.
	cfg, err := newInstaller(t).actionConfig("istio-system")
	if err != nil {
		t.Fatal(err)
	}
	rels, err := action.NewList(cfg).Run()
	if err != nil || len(rels) > 0 {
		t.Errorf("releases after Render: %v %v", rels, err)
	}
	if _, err := clientset(t).AppsV1().Deployments("istio-system").Get(ctx, "istiod", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("istiod exists after Render: %v", err)
	}
}

func TestStatusSeesOutOfBandChangesAndDiscoverFindsInstall(t *testing.T) {
	inst := newInstaller(t)
	p := istio(t, IstioOptions{Revision: "blue"})
	uninstallAtEnd(t, inst, p)
	ctx := context.Background()
	res := apply(t, inst, p)

	found, err := inst.Discover(ctx, Istio, "istio-system")
	if err != nil {
		t.Fatal(err)
	}
	if found.Version != istioVersion || len(found.Releases) != 2 ||
		found.Releases[0].Name != "istio-base" || found.Releases[1].Name != "istiod-blue" ||
		found.Releases[1].Values["revision"] != "blue" || found.Repository != "" {
		t.Errorf("Discover: %+v", found)
	}
	if _, err := inst.Discover(ctx, Linkerd, "istio-system"); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("Discover linkerd in istio-system: %v", err)
	}

	// Someone runs helm upgrade --reuse-values --set pilot.traceSampling=5.
	cfg, err := inst.actionConfig("istio-system")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := inst.loadChart(ctx, repoURL, "istiod", istioVersion)
	if err != nil {
		t.Fatal(err)
	}
	up := action.NewUpgrade(cfg)
	up.Namespace, up.ReuseValues = "istio-system", true
	if _, err := up.Run("istiod-blue", ch, map[string]any{"traceSampling": 5}); err != nil {
		t.Fatal(err)
	}
	st, err := inst.Status(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	r := st.Releases["istiod-blue"]
	if r.Revision != 2 || r.UserValues["traceSampling"] == nil || st.ManifestsDigest(p) == res.ManifestsDigest {
		t.Errorf("Status after an out-of-band upgrade: %+v", r)
	}

	// Someone runs helm uninstall istiod-blue.
	if _, err := action.NewUninstall(cfg).Run("istiod-blue"); err != nil {
		t.Fatal(err)
	}
	st, err = inst.Status(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Releases["istiod-blue"].Exists || !st.Releases["istio-base"].Exists {
		t.Errorf("Status after an out-of-band uninstall: %+v", st.Releases)
	}
}

func find(objs []RenderedObject, kind, ns, name string) *RenderedObject {
	for n := range objs {
		if o := objs[n]; o.Kind == kind && o.Namespace == ns && o.Name == name {
			return &objs[n]
		}
	}
	return nil
}

func hasEnv(env []corev1.EnvVar, name, value string) bool {
	for _, e := range env {
		if e.Name == name && e.Value == value {
			return true
		}
	}
	return false
}

// downloads counts chart repository requests by path.
var downloads = &counter{m: map[string]int{}}

type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) add(path string) { c.mu.Lock(); c.m[path]++; c.mu.Unlock() }
func (c *counter) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[path]
}
func (c *counter) reset() { c.mu.Lock(); c.m = map[string]int{}; c.mu.Unlock() }

// markPending rewrites the newest record of a release as an interrupted run
// leaves it: pending (install or upgrade), last touched age ago.
func markPending(t *testing.T, inst *Installer, namespace, name string, status release.Status, age time.Duration) {
	t.Helper()
	cfg, err := inst.actionConfig(namespace)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := cfg.Releases.Last(name)
	if err != nil {
		t.Fatal(err)
	}
	rel.Info.Status = status
	rel.Info.LastDeployed = helmtime.Time{Time: time.Now().Add(-age)}
	if err := cfg.Releases.Update(rel); err != nil {
		t.Fatal(err)
	}
}

// A release an interrupted run left pending blocks nothing for long: a
// fresh one (another Helm operation may be running) fails the apply with
// what to do; once stale, the apply rolls a pending upgrade back to the
// deployed revision (or uninstalls a pending install), says so, and goes
// on. Status counts a pending or failed revision as not deployed.
func TestStalePendingReleasesAreRecovered(t *testing.T) {
	inst := newInstaller(t)
	p := istio(t, IstioOptions{})
	uninstallAtEnd(t, inst, p)
	ctx := context.Background()
	apply(t, inst, p)

	// An interrupted upgrade: a second revision left pending-upgrade.
	upgraded := istio(t, IstioOptions{Values: map[string]string{"istiod": "env:\n  MESH_TEST_MARKER: pending\n"}})
	apply(t, inst, upgraded)
	markPending(t, inst, "istio-system", "istiod", release.StatusPendingUpgrade, 10*time.Second)
	st, err := inst.Status(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Releases["istiod"].Deployed() || !st.Releases["istio-base"].Deployed() {
		t.Errorf("Status: istiod %+v counts as deployed while pending", st.Releases["istiod"])
	}
	_, err = inst.Apply(ctx, p, ApplyOptions{Wait: true, Timeout: applyTimeout})
	if err == nil || !strings.Contains(err.Error(), "another Helm operation may be in progress") {
		t.Fatalf("Apply over a fresh pending release: %v; want it refused", err)
	}
	markPending(t, inst, "istio-system", "istiod", release.StatusPendingUpgrade, PendingStaleAfter+time.Minute)
	res := apply(t, inst, p)
	if len(res.Recovered) != 1 || !strings.Contains(res.Recovered[0], "left pending-upgrade at revision 2 by an interrupted run") ||
		!strings.Contains(res.Recovered[0], "rolled it back to revision 1") {
		t.Errorf("Recovered = %q", res.Recovered)
	}
	if st, err = inst.Status(ctx, p); err != nil || !st.Releases["istiod"].Deployed() {
		t.Fatalf("istiod after recovery: %+v %v", st.Releases["istiod"], err)
	}

	// An interrupted first install of a release: uninstalled, installed again.
	markPending(t, inst, "istio-system", "istio-base", release.StatusPendingInstall, PendingStaleAfter+time.Minute)
	cfg, err := inst.actionConfig("istio-system")
	if err != nil {
		t.Fatal(err)
	}
	// Only one revision of istio-base exists, so it counts as never deployed.
	if _, err := cfg.Releases.Deployed("istio-base"); err == nil {
		t.Fatal("istio-base still has a deployed revision")
	}
	res = apply(t, inst, p)
	if len(res.Recovered) != 1 || !strings.Contains(res.Recovered[0], "release istio-base was left pending-install") ||
		!strings.Contains(res.Recovered[0], "uninstalled it, then installed it again") {
		t.Errorf("Recovered = %q", res.Recovered)
	}
	if st, err = inst.Status(ctx, p); err != nil || !st.Releases["istio-base"].Deployed() {
		t.Fatalf("istio-base after recovery: %+v %v", st.Releases["istio-base"], err)
	}
}
