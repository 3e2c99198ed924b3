package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
)

func kubernetesFor(t *testing.T, c *kubetest.Cluster) (kubernetes.Interface, dynamic.Interface) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs, dyn
}

// restartTrial is one real restart of a control-plane component
// (SIGKILL, down for a while, started again on the same port over the same
// data) during a terraform apply that updates several instances of a
// resource type at once. For the traffic split each instance is a
// VirtualService and a DestinationRule that both change: the failure the
// issue found leaving VirtualServices that route to subsets their
// DestinationRules no longer define.
type restartTrial struct {
	name string
	// component is "kube-apiserver" or "etcd" (with etcd down the API
	// server stays up and answers with errors).
	component string
	// point is which object update, as the cluster reports them (a watch
	// independent of the provider), triggers the kill: 1 is the first
	// object of the set, faultedResource.updates the last.
	point func(updates int) int
	down  time.Duration
	// timeout is the resources' update timeout: forward retries stop at
	// half of it, so a down longer than that makes the apply roll back.
	timeout time.Duration
}

// restartCanaries is how many instances each trial updates.
const restartCanaries = 4

var (
	firstPoint  = func(int) int { return 1 }
	middlePoint = func(n int) int { return (n + 1) / 2 }
	lastPoint   = func(n int) int { return n }
)

func restartTrials() []restartTrial {
	var trials []restartTrial
	for _, component := range []string{"kube-apiserver", "etcd"} {
		for _, p := range []struct {
			name  string
			point func(int) int
		}{{"first", firstPoint}, {"middle", middlePoint}, {"last", lastPoint}} {
			trials = append(trials,
				restartTrial{component + " down 3 s (within the retries), " + p.name + " object", component, p.point, 3 * time.Second, 2 * time.Minute},
				restartTrial{component + " down 25 s (past the forward retries), " + p.name + " object", component, p.point, 25 * time.Second, 20 * time.Second})
		}
	}
	return trials
}

// restartTrial indexes, in restartTrials' order: component, then point,
// then outage length.
const (
	apiLongFirst    = 1
	apiLongMiddle   = 3
	etcdLongFirst   = 7
	etcdShortMiddle = 8
)

// faultedResource is a resource type the Terraform-level trials apply,
// restartCanaries instances at once.
type faultedResource struct {
	name string
	// address is the resource's address without its for_each key.
	address string
	// kinds are what it writes (watched for the fault point).
	kinds []kube.ID
	// creates is how many objects the first apply creates in all, updates
	// how many object updates the change makes.
	creates, updates int
	// annotations go on the trial's namespace (Linkerd's injection).
	annotations map[string]string
	// quick are the trials make test runs on it (make faults runs all):
	// together, each component and outage length once.
	quick []int
	// fixtures creates what the instances need in ns.
	fixtures func(t *testing.T, c *kubetest.Cluster, ns string)
	// config is the instances before or after the change.
	config func(kubeconfig, ns string, after bool, timeout time.Duration) string
}

var (
	idVirtualService  = kube.ID{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService"}
	idDestinationRule = kube.ID{Group: "networking.istio.io", Version: "v1", Kind: "DestinationRule"}
	idPeerAuthn       = kube.ID{Group: "security.istio.io", Version: "v1", Kind: "PeerAuthentication"}
	idLinkerdServer   = kube.ID{Group: "policy.linkerd.io", Version: "v1beta3", Kind: "Server"}
	idLinkerdAuthz    = kube.ID{Group: "policy.linkerd.io", Version: "v1alpha1", Kind: "AuthorizationPolicy"}
	idLinkerdMeshTLS  = kube.ID{Group: "policy.linkerd.io", Version: "v1alpha1", Kind: "MeshTLSAuthentication"}
	idLinkerdNetAuthn = kube.ID{Group: "policy.linkerd.io", Version: "v1alpha1", Kind: "NetworkAuthentication"}
)

func faultedResources() []faultedResource {
	apps := func(t *testing.T, c *kubetest.Cluster, ns string, versions ...string) {
		for i := range restartCanaries {
			app := fmt.Sprintf("app-%d", i)
			kubetest.Service(t, c.Config, ns, app, map[string]string{"app": app}, 9080)
			for _, v := range versions {
				kubetest.Deployment(t, c.Config, ns, app+"-"+v, map[string]string{"app": app, "version": v}, 1)
			}
		}
	}
	provider := func(kubeconfig, target string) string {
		return fmt.Sprintf("provider \"mesh\" {\n  kubeconfig_path = %q\n  target          = %q\n}\n", kubeconfig, target)
	}
	return []faultedResource{
		{
			name: "traffic split (Istio sidecar)", address: "mesh_traffic_split.canary",
			kinds: []kube.ID{idVirtualService, idDestinationRule}, creates: 2 * restartCanaries, updates: 2 * restartCanaries,
			quick:    []int{apiLongFirst, etcdShortMiddle},
			fixtures: func(t *testing.T, c *kubetest.Cluster, ns string) { apps(t, c, ns, "v1", "v2", "v3") },
			config: func(kubeconfig, ns string, after bool, timeout time.Duration) string {
				canary, weight := "v2", 10
				if after {
					canary, weight = "v3", 60
				}
				return provider(kubeconfig, "istio-sidecar") + fmt.Sprintf(`
resource "mesh_traffic_split" "canary" {
  for_each  = toset([%s])
  name      = each.key
  namespace = %q
  service   = each.key
  port      = 9080
  backends = [
    { subset_labels = { version = "v1" }, weight = %d },
    { subset_labels = { version = %q }, weight = %d },
  ]
  timeouts = { update = %q }
}
`, quotedApps(), ns, 100-weight, canary, weight, timeout)
			},
		},
		{
			name:    "authorization (Linkerd: Server, AuthorizationPolicy, MeshTLSAuthentication, NetworkAuthentication)",
			address: "mesh_authorization.allow", annotations: map[string]string{"linkerd.io/inject": "enabled"},
			kinds:   []kube.ID{idLinkerdServer, idLinkerdAuthz, idLinkerdMeshTLS, idLinkerdNetAuthn},
			creates: 4 * restartCanaries, updates: 2 * restartCanaries,
			quick:    []int{apiLongMiddle},
			fixtures: func(t *testing.T, c *kubetest.Cluster, ns string) { apps(t, c, ns, "v1") },
			config: func(kubeconfig, ns string, after bool, timeout time.Duration) string {
				caller, cidr := "callers/web", "10.0.0.0/8"
				if after {
					caller, cidr = "callers/api", "10.1.0.0/16"
				}
				return provider(kubeconfig, "linkerd") + fmt.Sprintf(`
resource "mesh_authorization" "allow" {
  for_each  = toset([%s])
  name      = each.key
  namespace = %q
  target    = { workload_selector = { app = each.key }, ports = [9080] }
  rules     = [{ from = [{ service_accounts = [%q] }, { ip_blocks = [%q] }] }]
  timeouts  = { update = %q }
}
`, quotedApps(), ns, caller, cidr, timeout)
			},
		},
		{
			name: "mTLS policy (Istio, workload scope)", address: "mesh_mtls_policy.workload",
			kinds: []kube.ID{idPeerAuthn}, creates: restartCanaries, updates: restartCanaries,
			quick:    []int{etcdLongFirst},
			fixtures: func(t *testing.T, c *kubetest.Cluster, ns string) { apps(t, c, ns, "v1") },
			config: func(kubeconfig, ns string, after bool, timeout time.Duration) string {
				mode := "PERMISSIVE"
				if after {
					mode = "DISABLE"
				}
				return provider(kubeconfig, "istio-sidecar") + fmt.Sprintf(`
resource "mesh_mtls_policy" "workload" {
  for_each          = toset([%s])
  name              = each.key
  namespace         = %q
  scope             = "workload"
  workload_selector = { app = each.key }
  mode              = %q
  timeouts          = { update = %q }
}
`, quotedApps(), ns, mode, timeout)
			},
		},
	}
}

// TestAccControlPlaneRestartMidApply restarts the real kube-apiserver, or
// etcd, of a cluster of the test's own in the middle of an apply that
// updates several instances of a traffic split, a Linkerd authorization
// (several objects each) and an mTLS policy, and checks the result with an
// oracle that does not use the provider's code (the API server's objects,
// `terraform show -json`, `terraform plan`): every instance's live objects
// equal exactly the state's before the apply or the plan's, never a mix;
// state matches the cluster (a refresh-only plan is clean); terraform
// reports an error for exactly the instances left at their old objects,
// and says "rolled back" only for those; the apply returns within its
// timeout plus the rollback budget and 30 s. Then one recovery apply
// converges, and one with the previous configuration reverts, each leaving
// a clean plan. make test runs four trials (each component and outage
// length once); make faults (MESH_FAULT_POINTS=all) twelve per resource
// type: two components, two outage lengths, three points.
func TestAccControlPlaneRestartMidApply(t *testing.T) {
	testAccPreCheck(t)
	all := restartTrials()
	full := os.Getenv("MESH_FAULT_POINTS") == "all"
	// make test's few trials share one cluster. make faults gives each
	// resource type a cluster of its own and runs them in parallel (two at
	// a time on two cores, go test's default -parallel): a trial mostly
	// waits for an outage, a timeout or kube-apiserver's start, so this
	// takes about 30% off the matrix's longest part (both lanes compete for
	// the CPU when they restart) without a trial less.
	var shared *restartCluster
	if !full {
		shared = newRestartCluster(t)
	}
	for _, res := range faultedResources() {
		trials := all
		if !full {
			trials = nil
			for _, i := range res.quick {
				trials = append(trials, all[i])
			}
		}
		t.Run(res.name, func(t *testing.T) {
			rc := shared
			if rc == nil {
				t.Parallel()
				rc = newRestartCluster(t)
			}
			for _, trial := range trials {
				t.Run(trial.name, func(t *testing.T) { runRestartTrial(t, rc.c, rc.identity, res, trial) })
			}
		})
	}
}

// restartCluster is a cluster of the restart trials' own (they kill its
// kube-apiserver and etcd) with the least-privilege identity they apply as.
type restartCluster struct {
	c        *kubetest.Cluster
	identity *kubetest.Identity
}

func newRestartCluster(t *testing.T) *restartCluster {
	t.Helper()
	c, err := kubetest.Start(context.Background(), kubetest.Options{})
	if err != nil {
		t.Fatalf("start the test's own cluster: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	rbac, err := kubetest.LoadRBAC(rbacFiles(intentRoles...)...)
	if err != nil {
		t.Fatal(err)
	}
	identity, err := kubetest.NewIdentity(t.Context(), c.Config, t.TempDir(), "mesh-system", "terraform-mesh", rbac)
	if err != nil {
		t.Fatal(err)
	}
	return &restartCluster{c, identity}
}

func runRestartTrial(t *testing.T, c *kubetest.Cluster, identity *kubetest.Identity, res faultedResource, trial restartTrial) {
	ns := kubetest.Namespace(t, c.Config, map[string]string{"istio-injection": "enabled"})
	if err := identity.Grant(t.Context(), ns); err != nil {
		t.Fatal(err)
	}
	if len(res.annotations) > 0 {
		cs, _ := kubernetesFor(t, c)
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": res.annotations}})
		if _, err := cs.CoreV1().Namespaces().Patch(t.Context(), ns, "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	res.fixtures(t, c, ns)
	before, after := res.config(identity.Kubeconfig, ns, false, trial.timeout), res.config(identity.Kubeconfig, ns, true, trial.timeout)
	tf, reattach := terraformIn(t, before)
	applied(t, tf, reattach)
	old := stateManifests(t, tf, reattach)

	// The plan of the change, saved: what the apply is checked against.
	if err := os.WriteFile(filepath.Join(tf.WorkingDir(), "main.tf"), []byte(after), 0o600); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(t.TempDir(), "change.tfplan")
	if changed, err := tf.Plan(t.Context(), tfexec.Out(planFile), reattach); err != nil || !changed {
		t.Fatalf("plan the change: %v (changes %v)", err, changed)
	}
	plan, err := tf.ShowPlanFile(t.Context(), planFile, reattach)
	if err != nil {
		t.Fatal(err)
	}
	planned := plannedManifestsByAddress(t, plan)

	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	restarted := killAtUpdate(t, c, dyn, ns, res, trial)
	var stderr strings.Builder
	tf.SetStderr(&stderr)
	start := time.Now()
	applyErr := tf.Apply(t.Context(), tfexec.DirOrPlan(planFile), reattach)
	took := time.Since(start)
	tf.SetStderr(io.Discard)
	if applyErr != nil {
		applyErr = fmt.Errorf("%w: %s", applyErr, stderr.String())
	}
	if err := <-restarted; err != nil {
		t.Fatalf("the API server did not come back: %v", err)
	}
	t.Logf("apply after %s: %v", took.Round(time.Second), applyErr)

	// (5) Bounded: the timeout plus the rollback's budget and 30 s.
	if bound := trial.timeout + kube.RollbackBudget + 30*time.Second; took > bound {
		t.Errorf("the apply took %s, more than its timeout plus the rollback budget and 30 s (%s)", took, bound)
	}
	// (1) Each resource exactly old or exactly new, never a mix.
	outcome := map[string]string{}
	for addr := range planned {
		outcome[addr] = liveOutcome(t, dyn, old[addr], planned[addr])
		if outcome[addr] == "mixed" {
			t.Errorf("%s is half-applied: its live objects are neither the state's before the apply nor the plan's", addr)
		}
	}
	// (2) State matches the cluster.
	now := stateManifests(t, tf, reattach)
	for addr, o := range outcome {
		want := map[string]map[string]map[string]string{"old": old, "new": planned}[o]
		if want != nil && !sameSpecs(t, now[addr], want[addr]) {
			t.Errorf("%s: the cluster holds the %s objects, but state records others", addr, o)
		}
	}
	if changed, err := tf.Plan(t.Context(), tfexec.RefreshOnly(true), reattach); err != nil || changed {
		t.Errorf("refresh-only plan after the fault: changes %v, %v; want a state that matches the cluster", changed, err)
	}
	// (3) The errors tell the truth, resource by resource.
	reported := errorsByResource(stderr.String())
	for addr, o := range outcome {
		summary, failed := reported[addr]
		switch {
		case !failed && o != "new":
			t.Errorf("%s holds its %s objects, but terraform reported no error for it", addr, o)
		case failed && strings.Contains(summary, "could not be rolled back"):
			if o != "mixed" {
				t.Errorf("%s: %q, yet its objects are all %s", addr, summary, o)
			}
		case failed && o != "old":
			t.Errorf("%s: %q, yet it holds the %s objects", addr, summary, o)
		}
	}
	if applyErr == nil && len(reported) > 0 {
		t.Errorf("the apply succeeded but reported errors for %v", reported)
	}
	// Recovery: the same configuration converges; the previous one reverts.
	for _, step := range []struct {
		name, config string
		want         map[string]map[string]string
	}{{"recovery apply", after, planned}, {"revert", before, old}} {
		if err := os.WriteFile(filepath.Join(tf.WorkingDir(), "main.tf"), []byte(step.config), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := tf.Apply(t.Context(), reattach); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		for addr := range step.want {
			if o := liveOutcome(t, dyn, old[addr], planned[addr]); (o == "new") != (step.name == "recovery apply") || o == "mixed" {
				t.Errorf("%s: %s holds the %s objects", step.name, addr, o)
			}
		}
		if changed, err := tf.Plan(t.Context(), reattach); err != nil || changed {
			t.Errorf("%s: the next plan has changes %v, %v", step.name, changed, err)
		}
	}
}

// errorsByResource maps each resource terraform reported an error for to the
// error's summary, from terraform's human-readable output.
func errorsByResource(out string) map[string]string {
	plain := strings.NewReplacer("│", "", "╷", "", "╵", "").Replace(out)
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`Error: ([^\n]+)\n\s*\n\s*with ([^\s,]+),`).FindAllStringSubmatch(plain, -1) {
		got[m[2]] = strings.TrimSpace(m[1])
	}
	return got
}

func quotedApps() string {
	apps := make([]string, restartCanaries)
	for i := range apps {
		apps[i] = fmt.Sprintf("%q", fmt.Sprintf("app-%d", i))
	}
	return strings.Join(apps, ", ")
}

// killAtUpdate watches the namespace's objects of res's kinds (as the
// admin, independently of the provider) and, at the trial's point (the Nth
// object update the cluster reports), kills the trial's component and
// starts it again after trial.down. The channel yields once the API server
// is ready again.
func killAtUpdate(t *testing.T, c *kubetest.Cluster, dyn dynamic.Interface, ns string, res faultedResource, trial restartTrial) <-chan error {
	t.Helper()
	updates, stop := watchEvents(t, dyn, ns, res.kinds, watch.Modified)
	point := trial.point(res.updates)
	done := make(chan error, 1)
	go func() {
		defer stop()
		if err := awaitEvents(updates, point, 3*time.Minute); err != nil {
			done <- err
			return
		}
		if trial.component == "etcd" {
			done <- c.RestartEtcd(context.Background(), trial.down, true)
		} else {
			done <- c.RestartAPIServer(context.Background(), trial.down, true)
		}
	}()
	return done
}

// watchEvents watches ns's objects of kinds (as whoever dyn is, the admin
// here: independently of the provider) and sends one value per event of
// type typ, until stop is called.
func watchEvents(t *testing.T, dyn dynamic.Interface, ns string, kinds []kube.ID, typ watch.EventType) (<-chan struct{}, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	events := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for _, kind := range kinds {
		w, err := dyn.Resource(gvr(t, kind)).Namespace(ns).Watch(ctx, metav1.ListOptions{})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.Stop()
			for ev := range w.ResultChan() {
				if ev.Type != typ {
					continue
				}
				select {
				case events <- struct{}{}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	return events, func() { cancel(); wg.Wait() }
}

// awaitEvents waits for n events, or fails after timeout.
func awaitEvents(events <-chan struct{}, n int, timeout time.Duration) error {
	deadline := time.After(timeout)
	for i := 0; i < n; i++ {
		select {
		case <-events:
		case <-deadline:
			return fmt.Errorf("only %d of %d events seen", i, n)
		}
	}
	return nil
}

// stateManifests is, per resource address, the manifests state records, as
// `terraform show -json` prints them.
func stateManifests(t *testing.T, tf *tfexec.Terraform, reattach *tfexec.ReattachOption) map[string]map[string]string {
	t.Helper()
	st, err := tf.Show(t.Context(), reattach)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	if st.Values == nil {
		return out
	}
	for _, r := range st.Values.RootModule.Resources {
		out[r.Address] = manifestsAttr(t, r.AttributeValues)
	}
	return out
}

// plannedManifestsByAddress is, per resource address, the manifests the plan shows.
func plannedManifestsByAddress(t *testing.T, plan *tfjson.Plan) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, r := range plan.PlannedValues.RootModule.Resources {
		out[r.Address] = manifestsAttr(t, r.AttributeValues)
	}
	return out
}

func manifestsAttr(t *testing.T, values map[string]any) map[string]string {
	t.Helper()
	m, _ := values["manifests"].(map[string]any)
	out := map[string]string{}
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("manifest %s is not known: %v", k, v)
		}
		out[k] = s
	}
	return out
}

// liveOutcome is "new" when every object of the resource in the cluster has
// the spec the plan shows, "old" when every one has the spec state had
// before, else "mixed".
func liveOutcome(t *testing.T, dyn dynamic.Interface, old, planned map[string]string) string {
	t.Helper()
	isOld, isNew := true, true
	for _, m := range []map[string]string{old, planned} {
		for key := range m {
			id, err := kube.ParseKey(key)
			if err != nil {
				t.Fatal(err)
			}
			live, err := dyn.Resource(gvr(t, id)).Namespace(id.Namespace).Get(t.Context(), id.Name, metav1.GetOptions{})
			var spec any
			if err == nil {
				spec = normalized(live.Object["spec"])
			}
			isOld = isOld && owns(spec, specOf(t, old[key]))
			isNew = isNew && owns(spec, specOf(t, planned[key]))
		}
	}
	switch {
	case isNew:
		return "new"
	case isOld:
		return "old"
	}
	return "mixed"
}

// specOf is a manifest's spec as the API server returns it (JSON numbers);
// nil for no manifest (the object should not exist).
func specOf(t *testing.T, manifest string) any {
	t.Helper()
	if manifest == "" {
		return nil
	}
	var obj unstructured.Unstructured
	j, err := yaml.YAMLToJSON([]byte(manifest))
	if err == nil {
		err = json.Unmarshal(j, &obj.Object)
	}
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	return normalized(obj.Object["spec"])
}

// normalized is v through JSON, so that integers compare alike however they
// were decoded.
func normalized(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// owns is written apart from internal/kube's covers on purpose: the oracle
// must not share the code it judges.
//
// owns reports whether live holds exactly what the manifest sets: every
// field of want with its value (the API server may add defaults beside
// them), lists element by element; a nil want (no manifest) wants no
// object.
func owns(live, want any) bool {
	switch w := want.(type) {
	case nil:
		return live == nil
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !owns(l[k], v) {
				return false
			}
		}
		return true
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(w) {
			return false
		}
		for i := range w {
			if !owns(l[i], w[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(live, want)
}

func sameSpecs(t *testing.T, a, b map[string]string) bool {
	t.Helper()
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !reflect.DeepEqual(specOf(t, a[k]), specOf(t, b[k])) {
			return false
		}
	}
	return true
}

func TestErrorsByResource(t *testing.T) {
	out := "\n\u2577\n\u2502 Error: Apply failed; the change was rolled back\n\u2502 \n\u2502   with mesh_traffic_split.canary[\"app-1\"],\n\u2502   on main.tf line 6\n\u2575\nError: Apply failed\n\n  with mesh_mtls_policy.workload[\"app-3\"],\n  on main.tf line 6\n"
	got := errorsByResource(out)
	want := map[string]string{
		`mesh_traffic_split.canary["app-1"]`: "Apply failed; the change was rolled back",
		`mesh_mtls_policy.workload["app-3"]`: "Apply failed",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errorsByResource = %v, want %v", got, want)
	}
}
