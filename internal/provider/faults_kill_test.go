package provider

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-exec/tfexec"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/meshform/terraform-provider-mesh/internal/install"
	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/protoserver"
)

// serveProviderEnv makes the test binary a provider process of its own
// (TestMain): a child the kill trials can SIGKILL mid-apply, as a CI runner
// killed by its OOM killer or a cancelled job would.
const serveProviderEnv = "MESH_TEST_SERVE_PROVIDER"

// faultsPendingStaleAfter is how long a Helm release stays pending before
// the provider process of the fault tests recovers it (2 m in the
// provider): long enough that an apply right after a kill still finds it
// fresh and refuses it, short enough that the kill trials do not sit
// through two minutes each.
const faultsPendingStaleAfter = 30 * time.Second

// serveProviderProcess serves the provider in debug mode and prints its
// reattach configuration on stdout; it never returns.
func serveProviderProcess() {
	install.PendingStaleAfter = faultsPendingStaleAfter
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	address := providerAddress()
	go func() {
		err := tf6server.Serve(address, func() tfprotov6.ProviderServer { return protoserver.New(New("test")()) },
			tf6server.WithDebug(context.Background(), reattach, closed), tf6server.WithoutLogStderrOverride())
		if err != nil {
			fmt.Fprintln(os.Stderr, "serve the provider:", err)
			os.Exit(1)
		}
	}()
	cfg := <-reattach
	info := tfexec.ReattachInfo{address: {
		Protocol: string(cfg.Protocol), ProtocolVersion: cfg.ProtocolVersion, Pid: os.Getpid(), Test: true,
		Addr: tfexec.ReattachConfigAddr{Network: cfg.Addr.Network(), String: cfg.Addr.String()},
	}}
	b, _ := json.Marshal(info)
	fmt.Println("REATTACH " + string(b))
	<-closed
	os.Exit(0)
}

func providerAddress() string {
	host := os.Getenv("TF_ACC_PROVIDER_HOST")
	if host == "" {
		host = "registry.terraform.io"
	}
	return host + "/hashicorp/mesh"
}

// providerProcess starts the provider as a child process and returns how
// to reattach to it.
func providerProcess(t *testing.T) (*exec.Cmd, tfexec.ReattachInfo) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveProviderEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "REATTACH "); ok {
			var info tfexec.ReattachInfo
			if err := json.Unmarshal([]byte(rest), &info); err != nil {
				t.Fatal(err)
			}
			go func() {
				for lines.Scan() {
				}
			}()
			return cmd, info
		}
	}
	t.Fatalf("the provider process printed no reattach configuration: %v", lines.Err())
	return nil, nil
}

// TestAccProviderKilledMidCreate SIGKILLs the provider process while
// terraform apply creates several instances of a traffic split, a Linkerd
// authorization (four objects each) and an mTLS policy, at the first, the
// middle or the last object of the set, and checks the cluster and state
// without the provider's code: what a completed create wrote is in state;
// the objects of the create that was killed are in no state and carry
// mesh.terraform.io/committed=false. Running the same apply again adopts
// them and converges (clean plan, every labelled object in state). With
// the configuration reverted instead (the one case no provider can clean
// up: nothing ever reached state), the leftovers are exactly the killed
// create's objects, all uncommitted, and the command the docs give lists
// exactly them. make test runs two trials; make faults
// (MESH_FAULT_POINTS=all) every point with either recovery on each type.
func TestAccProviderKilledMidCreate(t *testing.T) {
	testAccPreCheck(t)
	type trial struct {
		name   string
		point  func(int) int // kill at the Nth object created
		revert bool
	}
	var trials []trial
	for _, p := range []struct {
		name  string
		point func(int) int
	}{{"first", firstPoint}, {"middle", middlePoint}, {"last", lastPoint}} {
		trials = append(trials,
			trial{p.name + " object, same config again", p.point, false},
			trial{p.name + " object, config reverted", p.point, true})
	}
	quick := map[string][]int{"mesh_traffic_split.canary": {0}, "mesh_authorization.allow": {5}}
	for _, res := range faultedResources() {
		run := trials
		if os.Getenv("MESH_FAULT_POINTS") != "all" {
			run = nil
			for _, i := range quick[res.address] {
				run = append(run, trials[i])
			}
		}
		if len(run) == 0 {
			continue
		}
		t.Run(res.name, func(t *testing.T) {
			for _, tc := range run {
				t.Run(tc.name, func(t *testing.T) { runKillTrial(t, res, tc.point(res.creates), tc.revert) })
			}
		})
	}
}

func runKillTrial(t *testing.T, res faultedResource, point int, revert bool) {
	ns := testNamespace(t, map[string]string{"istio-injection": "enabled"})
	for k, v := range res.annotations {
		annotateNamespace(t, ns, k, v)
	}
	res.fixtures(t, cluster, ns)
	config := res.config(providerKubeconfig(), ns, false, 2*time.Minute)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	tf, err := tfexec.NewTerraform(dir, os.Getenv("TF_ACC_TERRAFORM_PATH"))
	if err != nil {
		t.Fatal(err)
	}
	cmd, info := providerProcess(t)
	if err := tf.Init(t.Context(), tfexec.Reattach(info)); err != nil {
		t.Fatal(err)
	}
	killed := killAtCreate(t, ns, res.kinds, point, cmd)
	applyErr := tf.Apply(t.Context(), tfexec.Reattach(info))
	if err := <-killed; err != nil {
		t.Fatalf("kill: %v", err)
	}
	if applyErr == nil {
		t.Fatal("the apply succeeded although its provider was killed")
	}
	t.Logf("apply: %v", applyErr)

	// A new provider process, as the next run would have (terraform show
	// needs one for the schemas).
	_, info = providerProcess(t)
	inState := map[string]bool{}
	for _, m := range stateManifests(t, tf, tfexec.Reattach(info)) {
		for key := range m {
			inState[key] = true
		}
	}
	live := labelledObjects(t, ns, res.kinds)
	uncommittedOwners := map[string]bool{}
	for _, o := range live {
		if o.committed == "false" {
			uncommittedOwners[o.owner] = true
		}
	}
	// Leftovers are in no state. A set with an uncommitted object is a
	// create that died before its commit finished (objects it committed
	// already included). A set committed in full is the one window no
	// label can close: the commit's last write landed and the process died
	// before Terraform had the reply. A re-run refuses such a set, naming
	// terraform import (checked below).
	var leftovers, lost []string
	lostOwners := map[string]string{}
	for key, o := range live {
		switch {
		case inState[key] && o.committed != "":
			t.Errorf("%s is in state but not committed (%s=%q)", key, mesh.LabelCommitted, o.committed)
		case !inState[key]:
			leftovers = append(leftovers, key)
			if !uncommittedOwners[o.owner] {
				lost = append(lost, key)
				lostOwners[o.owner] = ownerResource(res, ns, o.owner)
			}
		}
	}
	sort.Strings(lost)
	t.Logf("committed in full but in no state (the reply was lost): %v", lost)
	sort.Strings(leftovers)
	t.Logf("in no state after the kill: %v", leftovers)

	if revert {
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(strings.SplitN(config, "\nresource ", 2)[0]), 0o600); err != nil { // the provider block only
			t.Fatal(err)
		}
	}
	err = tf.Apply(t.Context(), tfexec.Reattach(info))
	if err != nil && len(lostOwners) > 0 && !revert {
		// The documented recovery for a set whose reply was lost: the
		// re-run refuses it, naming terraform import; import it and apply.
		for _, id := range lostOwners {
			name := id[strings.Index(id, "/")+1:]
			if !strings.Contains(err.Error(), "terraform import") || !strings.Contains(err.Error(), name) {
				t.Errorf("the re-run's error does not name %s and terraform import: %v", id, err)
			}
			if ierr := tf.Import(t.Context(), fmt.Sprintf("%s[%q]", res.address, name), id, tfexec.Reattach(info)); ierr != nil {
				t.Fatalf("terraform import %s: %v", id, ierr)
			}
		}
		err = tf.Apply(t.Context(), tfexec.Reattach(info))
	}
	if err != nil {
		t.Fatalf("the apply after the kill: %v", err)
	}
	if changed, err := tf.Plan(t.Context(), tfexec.Reattach(info)); err != nil || changed {
		t.Errorf("the plan after recovery: changes %v, %v", changed, err)
	}
	t.Cleanup(func() {
		if err := tf.Destroy(context.Background(), tfexec.Reattach(info)); err != nil {
			t.Errorf("destroy: %v", err)
		}
	})
	after := labelledObjects(t, ns, res.kinds)
	inState = map[string]bool{}
	for _, m := range stateManifests(t, tf, tfexec.Reattach(info)) {
		for key := range m {
			inState[key] = true
		}
	}
	var outside []string
	for key := range after {
		if !inState[key] {
			outside = append(outside, key)
		}
	}
	sort.Strings(outside)
	if !revert {
		if len(outside) > 0 {
			t.Errorf("after running the same apply again, objects are outside every state: %v", outside)
		}
		return
	}
	// Reverted: exactly the killed create's objects are left, and the
	// documented way to find them (the owners of what
	// mesh.terraform.io/committed=false selects, then everything with those
	// owner labels) finds exactly them.
	if !slices.Equal(outside, leftovers) {
		t.Errorf("after the revert, the objects outside every state are %v; want exactly the killed create's %v", outside, leftovers)
	}
	want := slices.DeleteFunc(slices.Clone(leftovers), func(k string) bool { return slices.Contains(lost, k) })
	if listed := uncommittedSets(t, ns, res.kinds); !slices.Equal(listed, want) {
		t.Errorf("the documented selectors find %v; want every leftover of a create that died before its commit, %v", listed, want)
	}
}

type labelled struct{ owner, committed string }

// labelledObjects are the namespace's objects of kinds that carry an owner
// label, by manifest key, with their owner and committed labels.
func labelledObjects(t *testing.T, ns string, kinds []kube.ID) map[string]labelled {
	t.Helper()
	_, dyn := clients(t)
	out := map[string]labelled{}
	for _, id := range kinds {
		list, err := dyn.Resource(gvr(t, id)).Namespace(ns).List(t.Context(), metav1.ListOptions{LabelSelector: mesh.LabelOwner})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range list.Items {
			id.Namespace, id.Name = o.GetNamespace(), o.GetName()
			out[id.Key()] = labelled{owner: o.GetLabels()[mesh.LabelOwner], committed: o.GetLabels()[mesh.LabelCommitted]}
		}
	}
	return out
}

// uncommittedSets finds what creates that died left, the way the docs say:
// the owner labels of the objects mesh.terraform.io/committed=false
// selects, then every object with one of those owner labels.
func uncommittedSets(t *testing.T, ns string, kinds []kube.ID) []string {
	t.Helper()
	_, dyn := clients(t)
	list := func(selector string) map[string]string {
		out := map[string]string{}
		for _, id := range kinds {
			l, err := dyn.Resource(gvr(t, id)).Namespace(ns).List(t.Context(), metav1.ListOptions{LabelSelector: selector})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range l.Items {
				id.Namespace, id.Name = o.GetNamespace(), o.GetName()
				out[id.Key()] = o.GetLabels()[mesh.LabelOwner]
			}
		}
		return out
	}
	owners := map[string]bool{}
	for _, owner := range list(mesh.LabelCommitted + "=false") {
		owners[owner] = true
	}
	var out []string
	for key, owner := range list(mesh.LabelOwner) {
		if owners[owner] {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}

// killAtCreate SIGKILLs cmd when the cluster reports the point-th object
// created in ns (a watch as the admin, independent of the provider).
func killAtCreate(t *testing.T, ns string, kinds []kube.ID, point int, cmd *exec.Cmd) <-chan error {
	t.Helper()
	_, dyn := clients(t)
	created, stop := watchEvents(t, dyn, ns, kinds, watch.Added)
	done := make(chan error, 1)
	go func() {
		defer stop()
		if err := awaitEvents(created, point, 2*time.Minute); err != nil {
			done <- err
			return
		}
		done <- cmd.Process.Kill()
	}()
	return done
}

// ownerResource is the import ID (namespace/name) of the instance of res in
// ns whose owner label is owner: one of the for_each keys.
func ownerResource(res faultedResource, ns, owner string) string {
	resourceType, _, _ := strings.Cut(res.address, ".")
	for i := range restartCanaries {
		if name := fmt.Sprintf("app-%d", i); mesh.Owner(resourceType, ns, name) == owner {
			return ns + "/" + name
		}
	}
	return "(no instance has owner " + owner + ")"
}
