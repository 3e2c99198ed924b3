package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/meshform/terraform-provider-mesh/internal/bench"
	"github.com/meshform/terraform-provider-mesh/internal/debugstats"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// env is one benchmark run's tools and cluster.
type env struct {
	cfg        config
	root, work string
	terraform  string
	perf       string // perf, when Terraform itself is profiled
	kubectl    string
	kubeconfig string
	auditLog   string
	cliConfig  string
	meshBin    string
	// beforeCLIConfig, with BENCH_PROVIDER_SRC, points Terraform at the
	// provider built from that checkout instead (the "before" of a change).
	beforeCLIConfig string
	kubectlBin      string
	// pprofDir, when set, is where the running phase's provider processes
	// write their profiles.
	pprofDir string
	// clusterPIDs are kube-apiserver's and etcd's, whose CPU time a phase
	// costs the machine too.
	clusterPIDs []int
	// states and statesURL are the http backend's store (BENCH_BACKEND=http).
	states    *stateStore
	statesURL string
}

func run() error {
	cfg, err := configFromEnv()
	if err != nil {
		return err
	}
	e := &env{cfg: cfg, root: must(os.Getwd())}
	if e.work, err = os.MkdirTemp("", "meshbench-"); err != nil {
		return err
	}
	if !cfg.keep {
		defer func() { _ = os.RemoveAll(e.work) }() // best effort: a scratch directory
	}
	logf("work directory %s", e.work)
	if err := e.buildTools(); err != nil {
		return err
	}
	stop, err := e.startCluster()
	if err != nil {
		return err
	}
	defer stop()
	if cfg.backend == "http" {
		e.states = newStateStore()
		var stopStates func()
		if e.statesURL, stopStates, err = e.states.serve(); err != nil {
			return err
		}
		defer stopStates()
		logf("state in Terraform's http backend, served at %s", e.statesURL)
	}

	var report strings.Builder
	fmt.Fprintf(&report, "%s\n", e.startupTable())
	var workloads []bench.Workload
	for _, n := range cfg.sizes {
		workloads = append(workloads, bench.Workload{Name: "traffic_split", N: n, Backend: cfg.backend})
	}
	if cfg.mixed > 0 {
		workloads = append(workloads, bench.Workload{Name: "mixed", N: cfg.mixed, Backend: cfg.backend})
	}
	for _, w := range workloads {
		table, err := e.workload(w)
		if err != nil {
			return fmt.Errorf("%s N=%d: %w", w.Name, w.N, err)
		}
		report.WriteString(table + "\n")
		fmt.Println(table)
	}
	out := filepath.Join(e.root, "bin", "bench-results.md")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err == nil {
		_ = os.WriteFile(out, []byte(report.String()), 0o644)
		logf("tables written to %s", out)
	}
	fmt.Print(report.String())
	return nil
}

func (e *env) buildTools() error {
	script := func(name string) (string, error) {
		out, err := exec.Command(filepath.Join(e.root, "scripts", name)).Output()
		return strings.TrimSpace(string(out)), describe(name, err)
	}
	var err error
	if e.terraform, err = script("terraform.sh"); err != nil {
		return err
	}
	if e.cfg.perf {
		if e.perf, err = exec.LookPath("perf"); err != nil {
			return fmt.Errorf("BENCH_PERF_TERRAFORM needs perf (Debian: apt-get install linux-perf): %w", err)
		}
	}
	bin, err := script("cluster-tools.sh")
	if err != nil {
		return err
	}
	e.kubectl = filepath.Join(bin, "kubectl")
	kubectlDir, err := script("kubectl-provider.sh")
	if err != nil {
		return err
	}
	e.kubectlBin = filepath.Join(kubectlDir, "terraform-provider-kubectl")
	e.meshBin = filepath.Join(e.work, "bin", "terraform-provider-mesh")
	logf("building the provider")
	// As the releases are built (.goreleaser.yml), and as the peer is: a
	// static binary. With cgo, Go's plugin package (kustomize imports it,
	// through Helm) makes the binary export every symbol to the dynamic
	// loader: 15 MB more of binary and about 12 MB more resident.
	if err := buildProvider(e.root, e.meshBin); err != nil {
		return err
	}
	if e.cliConfig, err = e.writeCLIConfig("", e.meshBin); err != nil {
		return err
	}
	if src := os.Getenv("BENCH_PROVIDER_SRC"); src != "" {
		logf("building the provider from %s (BENCH_PROVIDER_SRC, the before figures)", src)
		before := filepath.Join(e.work, "bin-before", "terraform-provider-mesh")
		if err := buildProvider(src, before); err != nil {
			return err
		}
		if e.beforeCLIConfig, err = e.writeCLIConfig("before", before); err != nil {
			return err
		}
	}
	return nil
}

func buildProvider(src, out string) error {
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build in %s: %v\n%s", src, err, out)
	}
	return nil
}

// writeCLIConfig writes a Terraform CLI configuration whose dev_overrides
// run meshBin and the kubectl provider through this command's wrapper (which
// records each process's figures), and returns its path.
func (e *env) writeCLIConfig(name, meshBin string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	overrides := map[string]string{}
	for source, binary := range map[string]string{"meshform/mesh": meshBin, "gavinbunney/kubectl": e.kubectlBin} {
		dir := filepath.Join(e.work, "overrides"+name, strings.ReplaceAll(source, "/", "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		wrapper := fmt.Sprintf("#!/bin/sh\nexec %q wrap %q \"$@\"\n", self, binary)
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(binary)), []byte(wrapper), 0o755); err != nil {
			return "", err
		}
		overrides[source] = dir
	}
	var cli strings.Builder
	cli.WriteString("provider_installation {\n  dev_overrides {\n")
	for source, dir := range overrides {
		fmt.Fprintf(&cli, "    %q = %q\n", source, dir)
	}
	cli.WriteString("  }\n  direct {}\n}\n")
	path := filepath.Join(e.work, "terraformrc"+name)
	return path, os.WriteFile(path, []byte(cli.String()), 0o644)
}

func (e *env) startCluster() (stop func(), err error) {
	dir := filepath.Join(e.work, "cluster")
	logf("starting the local control plane (audit log on)")
	up := exec.Command("go", "run", "./cmd/localcluster", "up", "--dir", dir, "--audit")
	up.Dir = e.root
	if out, err := up.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("localcluster up: %v\n%s", err, out)
	}
	stop = func() {
		down := exec.Command("go", "run", "./cmd/localcluster", "down", "--dir", dir)
		down.Dir = e.root
		_ = down.Run()
	}
	e.kubeconfig = filepath.Join(dir, "kubeconfig")
	e.auditLog = filepath.Join(dir, "audit.log")
	if e.clusterPIDs, err = serverPIDs(filepath.Join(dir, "pids")); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

// workload runs every tool over w, cfg.runs times, and returns its table.
func (e *env) workload(w bench.Workload) (string, error) {
	dir := filepath.Join(e.work, fmt.Sprintf("%s-%d", w.Name, w.N))
	fixtures := filepath.Join(dir, "fixtures.yaml")
	if err := writeFile(fixtures, w.Fixtures()); err != nil {
		return "", err
	}
	if _, err := e.kubectlRun("apply", "--server-side", "--field-manager=meshbench", "-f", fixtures); err != nil {
		return "", err
	}
	mesh := filepath.Join(dir, "mesh")
	before := filepath.Join(dir, "mesh-before")
	peer := filepath.Join(dir, "kubectl_manifest")
	alone := filepath.Join(dir, "terraform_data")
	configs := map[string]string{mesh: w.MeshConfig(), peer: bench.KubectlManifestConfig, alone: bench.TerraformAloneConfig}
	if e.beforeCLIConfig != "" {
		configs[before] = w.MeshConfig()
	}
	for d, config := range configs {
		if e.states != nil {
			if err := e.initBackend(d, fmt.Sprintf("%s-%d/%s", w.Name, w.N, filepath.Base(d))); err != nil {
				return "", err
			}
		}
		if err := writeFile(filepath.Join(d, "main.tf"), config); err != nil {
			return "", err
		}
	}
	results := bench.Results{}
	objects := 0
	runs := e.cfg.runs
	if w.N >= 1000 {
		runs = e.cfg.runsLarge
	}
	for run := 1; run <= runs; run++ {
		// The provider before a change (BENCH_PROVIDER_SRC) runs beside
		// it, second in odd runs and first in even ones, so that the
		// machine's drift over an invocation falls on both.
		runBefore := func() error {
			if e.beforeCLIConfig == "" {
				return nil
			}
			logf("%s N=%d run %d/%d: mesh before (BENCH_PROVIDER_SRC)", w.Name, w.N, run, runs)
			_, err := e.meshPhases(before, bench.Before, e.beforeCLIConfig, captures{objects: peer, resources: alone}, false, results)
			return err
		}
		if run%2 == 0 {
			if err := runBefore(); err != nil {
				return "", err
			}
		}
		logf("%s N=%d run %d/%d: mesh", w.Name, w.N, run, runs)
		if e.cfg.pprofN == w.N && run == 1 {
			e.pprofDir = filepath.Join(dir, "pprof")
		}
		sets, err := e.meshPhases(mesh, bench.Mesh, e.cliConfig, captures{objects: peer, resources: alone}, run == 1, results)
		e.pprofDir = ""
		if err != nil {
			return "", err
		}
		if run == 1 {
			objects = sets
		}
		if run%2 == 1 {
			if err := runBefore(); err != nil {
				return "", err
			}
		}
		if err := e.runPeers(w, run, runs, peer, alone, results); err != nil {
			return "", err
		}
	}
	tables := bench.Table(w, objects, results) + "\n" + bench.CPUTable(w, results)
	if e.beforeCLIConfig != "" {
		tables += "\n" + bench.BeforeTable(w, results)
	}
	return tables, nil
}

// initBackend points the configuration in dir at key in the http backend's
// store and runs terraform init (not timed: a working directory is
// initialised once, not on every plan). It runs before the configuration is
// written: the providers are dev_overrides, which init would look up in the
// registry, while plan and apply need no init for them.
func (e *env) initBackend(dir, key string) error {
	if err := writeFile(filepath.Join(dir, "backend.tf"), backendConfig(e.statesURL, key)); err != nil {
		return err
	}
	cmd := exec.Command(e.terraform, "init", "-input=false", "-no-color")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+e.cliConfig)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("terraform init in %s: %v\n%s", dir, err, tail(string(out), 40))
	}
	return nil
}

// runPeers runs the peers BENCH_PEERS asks for, after our provider's run.
func (e *env) runPeers(w bench.Workload, run, runs int, peer, alone string, results bench.Results) error {
	for _, p := range []struct {
		name, what string
		phases     func(string, bench.Results) error
		dir        string
	}{
		{"kubectl_manifest", "kubectl_manifest", e.peerPhases, peer},
		{"floor", "kubectl server-side apply", e.floorPhases, peer},
		{"terraform", "Terraform alone (terraform_data)", e.alonePhases, alone},
	} {
		if !e.cfg.peers[p.name] {
			continue
		}
		logf("%s N=%d run %d/%d: %s", w.Name, w.N, run, runs, p.what)
		if err := p.phases(p.dir, results); err != nil {
			return err
		}
	}
	return nil
}

// captures are where meshPhases writes what the peers manage: each rendered
// object as YAML (kubectl_manifest, the floor) and each resource's manifests
// as JSON (Terraform alone), one directory per set (create, update).
type captures struct{ objects, resources string }

// meshPhases times our provider. On the first run it also writes the
// rendered objects after create and after update into the captures, so that
// the peers manage the identical YAML; it returns how many objects there are.
func (e *env) meshPhases(dir, tool, cliConfig string, peer captures, capture bool, r bench.Results) (int, error) {
	objects := 0
	steps := []struct {
		phase   string
		args    []string
		exit    int
		capture string
		drift   bool
	}{
		{"create", []string{"apply", "-auto-approve", "-var", "weight=10"}, 0, "create", false},
		{"plan (no changes)", []string{"plan", "-detailed-exitcode", "-var", "weight=10"}, 0, "", false},
		{"update every weight", []string{"apply", "-auto-approve", "-var", "weight=20"}, 0, "update", false},
		{"plan (10% drifted)", []string{"plan", "-detailed-exitcode", "-var", "weight=20"}, 2, "", true},
		{"destroy", []string{"destroy", "-auto-approve", "-var", "weight=20"}, 0, "", false},
	}
	for _, s := range steps {
		if s.drift {
			if err := e.drift(filepath.Join(peer.objects, "update")); err != nil {
				return 0, err
			}
		}
		sample, err := e.terraformPhase(dir, cliConfig, s.phase, s.exit, s.args...)
		if err != nil {
			return 0, err
		}
		r.Add(tool, s.phase, sample)
		if capture && s.capture != "" {
			n, err := e.captureManifests(dir, filepath.Join(peer.objects, s.capture), filepath.Join(peer.resources, s.capture))
			if err != nil {
				return 0, err
			}
			objects = n
		}
	}
	return objects, nil
}

// peerSteps are the phases a Terraform-driven peer runs, as our provider
// does: the same variables, the same expected exit codes.
var peerSteps = []struct {
	phase string
	args  []string
	exit  int
	drift bool
}{
	{"create", []string{"apply", "-auto-approve", "-var", "set=create"}, 0, false},
	{"plan (no changes)", []string{"plan", "-detailed-exitcode", "-var", "set=create"}, 0, false},
	{"update every weight", []string{"apply", "-auto-approve", "-var", "set=update"}, 0, false},
	{"plan (10% drifted)", []string{"plan", "-detailed-exitcode", "-var", "set=update"}, 2, true},
	{"destroy", []string{"destroy", "-auto-approve", "-var", "set=update"}, 0, false},
}

// peerPhases times kubectl_manifest over the captured YAML in dir.
func (e *env) peerPhases(dir string, r bench.Results) error {
	return e.terraformPeerPhases(bench.KubectlManifest, dir, true, r)
}

// alonePhases times Terraform with no provider: terraform_data resources
// holding the same manifests. Nothing can drift, so it has no drift plan.
func (e *env) alonePhases(dir string, r bench.Results) error {
	return e.terraformPeerPhases(bench.TerraformAlone, dir, false, r)
}

func (e *env) terraformPeerPhases(tool, dir string, drift bool, r bench.Results) error {
	for _, s := range peerSteps {
		if s.drift {
			if !drift {
				continue
			}
			if err := e.drift(filepath.Join(dir, "update")); err != nil {
				return err
			}
		}
		sample, err := e.terraformPhase(dir, e.cliConfig, s.phase, s.exit, s.args...)
		if err != nil {
			return err
		}
		r.Add(tool, s.phase, sample)
	}
	return nil
}

// floorPhases does the same with one kubectl call per phase: apply
// --server-side of every object, and get of them all.
func (e *env) floorPhases(peer string, r bench.Results) error {
	create, update := filepath.Join(peer, "create"), filepath.Join(peer, "update")
	kinds, err := kindsOf(create)
	if err != nil {
		return err
	}
	get := []string{"get", kinds, "-A", "-l", mesh.LabelOwner, "-o", "name"}
	steps := []struct {
		phase string
		args  []string
		drift bool
	}{
		{"create", []string{"apply", "--server-side", "--field-manager=floor", "-R", "-f", create}, false},
		{"plan (no changes)", get, false},
		{"update every weight", []string{"apply", "--server-side", "--field-manager=floor", "-R", "-f", update}, false},
		{"plan (10% drifted)", get, true},
		// --wait=false: kubectl waits for each object in turn (minutes
		// for 2,000); the floor is the requests, not that wait.
		{"destroy", []string{"delete", "--wait=false", "-R", "-f", update}, false},
	}
	for _, s := range steps {
		if s.drift {
			if err := e.drift(update); err != nil {
				return err
			}
		}
		offset, clusterCPU := fileSize(e.auditLog), e.clusterCPU()
		start := time.Now()
		cmd, err := e.kubectlRun(s.args...)
		if err != nil {
			return err
		}
		sample := bench.Sample{Wall: time.Since(start), ClientRequests: -1}
		sample.CPU = bench.CPU{Client: cpuOf(cmd.ProcessState), Cluster: e.clusterCPU() - clusterCPU}
		if sample.ServerRequests, err = e.serverRequests(offset); err != nil {
			return err
		}
		r.Add(bench.Floor, s.phase, sample)
	}
	return nil
}

// terraformPhase runs one terraform command in dir and collects its figures.
func (e *env) terraformPhase(dir, cliConfig, phase string, wantExit int, args ...string) (bench.Sample, error) {
	phaseDir, err := os.MkdirTemp(e.work, "phase-")
	if err != nil {
		return bench.Sample{}, err
	}
	defer func() { _ = os.RemoveAll(phaseDir) }() // best effort: a scratch directory
	argv := append([]string{e.terraform}, append(args, "-input=false", "-no-color")...)
	var perfData, pprof string
	if e.pprofDir != "" {
		pprof = filepath.Join(e.pprofDir, strings.NewReplacer(" ", "-", "(", "", ")", "", "%", "pct").Replace(phase))
		if err := os.MkdirAll(pprof, 0o755); err != nil {
			return bench.Sample{}, err
		}
		if e.perf != "" {
			perfData = filepath.Join(pprof, "terraform.perf.data") // not in phaseDir, whose files are the processes' figures
			argv = perfRecord(e.perf, perfData, argv)
		}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+cliConfig, "KUBECONFIG="+e.kubeconfig, "TF_IN_AUTOMATION=1",
		"MESH_DEBUG_STATS_DIR="+phaseDir, "MESHBENCH_RSS_DIR="+phaseDir)
	if pprof != "" {
		cmd.Env = append(cmd.Env, "MESH_DEBUG_PPROF_DIR="+pprof)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	offset, clusterCPU, snapshots := fileSize(e.auditLog), e.clusterCPU(), e.snapshots()
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if code := exitCode(err); code != wantExit {
		return bench.Sample{}, fmt.Errorf("terraform %s in %s: exit %d, want %d\n%s", strings.Join(args, " "), dir, code, wantExit, tail(out.String(), 60))
	}
	if perfData != "" {
		// Terraform's CPU figure then includes perf's own.
		err := perfToPprof(e.perf, perfData, "terraform", filepath.Join(pprof, "terraform.cpu.pprof"))
		if err != nil {
			return bench.Sample{}, fmt.Errorf("profiling terraform %s: %w", strings.Join(args, " "), err)
		}
		_ = os.Remove(perfData) // tens of MB, and converted
	}
	s := bench.Sample{Wall: wall}
	s.CPU.Cluster = e.clusterCPU() - clusterCPU
	if s.ServerRequests, err = e.serverRequests(offset); err != nil {
		return s, err
	}
	f, err := processFigures(phaseDir)
	s.ClientRequests, s.PeakRSS, s.CPU.Providers = f.requests, f.peakRSS, f.cpu
	// Terraform's rusage includes the providers it reaped.
	s.CPU.Client = cpuOf(cmd.ProcessState) - f.cpu
	// Each run's figures, which the tables reduce to medians and maxima.
	line := fmt.Sprintf("  %s: %.2f s, %d requests, provider peak RSS %.0f MiB", phase, wall.Seconds(), s.ServerRequests, float64(s.PeakRSS)/(1<<20))
	if e.states != nil {
		line += fmt.Sprintf(", %d state snapshots persisted", e.snapshots()-snapshots)
	}
	logf("%s%s", line, f.gc)
	return s, err
}

// snapshots is how many states the http backend's store has been sent.
func (e *env) snapshots() int {
	if e.states == nil {
		return 0
	}
	return e.states.Writes()
}

// figures are what a phase's provider processes recorded.
type figures struct {
	requests, peakRSS int64
	cpu               time.Duration
	gc                gcFigures
}

// gcFigures sum what the garbage collector did in a phase's provider
// processes, and keep the largest peaks: the log shows them beside the peak
// RSS, to tell a heap the soft memory limit held from one the collector's
// CPU limiter let grow past it.
type gcFigures struct {
	processes, limited int
	cycles             uint64
	cpuSeconds         float64
	peakRuntime        uint64
	peakLive           uint64
}

func (g gcFigures) add(s debugstats.GC) gcFigures {
	g.processes++
	if s.LimiterCycle > 0 {
		g.limited++
	}
	g.cycles += s.Cycles
	g.cpuSeconds += s.CPUSeconds
	g.peakRuntime = max(g.peakRuntime, s.PeakRuntimeBytes)
	g.peakLive = max(g.peakLive, s.PeakLiveHeapBytes)
	return g
}

func (g gcFigures) String() string {
	if g.processes == 0 {
		return ""
	}
	return fmt.Sprintf("; GC %d cycles, %.1f CPU s, CPU limiter on in %d of %d processes, Go memory peak %.0f MiB, live heap peak %.0f MiB",
		g.cycles, g.cpuSeconds, g.limited, g.processes, float64(g.peakRuntime)/(1<<20), float64(g.peakLive)/(1<<20))
}

// processFigures sums the requests our provider processes counted and their
// CPU time, and takes the largest peak RSS any provider process of the
// phase reached.
func processFigures(dir string) (figures, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return figures{}, err
	}
	out := figures{requests: -1}
	for _, entry := range entries {
		data, err := os.ReadFile(filepath.Join(dir, entry.Name()))
		if err != nil {
			return figures{}, err
		}
		var f struct {
			Requests    *int64        `json:"requests"`
			GC          debugstats.GC `json:"gc"`
			MaxRSSBytes int64         `json:"max_rss_bytes"`
			CPU         int64         `json:"cpu_nanoseconds"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			return figures{}, fmt.Errorf("%s: %w", entry.Name(), err)
		}
		if f.Requests != nil { // the provider's own record (debugstats.Stats)
			out.requests = max(out.requests, 0) + *f.Requests
			out.gc = out.gc.add(f.GC)
			continue
		}
		// The wrapper's measures, the same for every provider.
		out.peakRSS = max(out.peakRSS, f.MaxRSSBytes)
		out.cpu += time.Duration(f.CPU)
	}
	return out, nil
}

func cpuOf(p *os.ProcessState) time.Duration {
	if p == nil {
		return 0
	}
	return p.UserTime() + p.SystemTime()
}

func (e *env) serverRequests(offset int64) (int64, error) {
	f, err := os.Open(e.auditLog)
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }() // read only
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Size() < offset {
		return 0, fmt.Errorf("%s is shorter than at the start of the phase: it was rotated, so the phase's requests cannot be counted", e.auditLog)
	}
	if _, err := f.Seek(offset, 0); err != nil {
		return 0, err
	}
	return bench.CountRequests(f)
}

// captureManifests writes every object in dir's state into objects, one
// YAML file each, and each resource's manifests into resources, one JSON
// file each.
func (e *env) captureManifests(dir, objects, resources string) (int, error) {
	cmd := exec.Command(e.terraform, "show", "-json")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+e.cliConfig)
	data, err := cmd.Output()
	if err != nil {
		return 0, describe("terraform show -json", err)
	}
	var state struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string `json:"address"`
					Values  struct {
						Manifests map[string]string `json:"manifests"`
					} `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal(data, &state); err != nil {
		return 0, err
	}
	for _, out := range []string{objects, resources} {
		if err := os.RemoveAll(out); err != nil {
			return 0, err
		}
	}
	fileName := strings.NewReplacer("/", "_", ".", "-", "[", "_", "]", "").Replace
	n := 0
	for _, r := range state.Values.RootModule.Resources {
		for key, manifest := range r.Values.Manifests {
			if err := writeFile(filepath.Join(objects, fileName(key)+".yaml"), manifest); err != nil {
				return 0, err
			}
			n++
		}
		data, err := json.Marshal(r.Values.Manifests)
		if err != nil {
			return 0, err
		}
		if err := writeFile(filepath.Join(resources, fileName(r.Address)+".json"), string(data)); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// kindsOf lists the resource kinds of the YAML files in dir, as kubectl get
// takes them (virtualservices.networking.istio.io,...).
func kindsOf(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	seen := map[string]bool{}
	for _, entry := range entries {
		// File names are apiVersion_Kind_ns_name with dots as dashes;
		// read the kind from the file instead.
		data, err := os.ReadFile(filepath.Join(dir, entry.Name()))
		if err != nil {
			return "", err
		}
		seen[kindOf(string(data))] = true
	}
	var kinds []string
	for k := range seen {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return strings.Join(kinds, ","), nil
}

func (e *env) kubectlRun(args ...string) (*exec.Cmd, error) {
	cmd := exec.Command(e.kubectl, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("kubectl %s: %v\n%s", strings.Join(args, " "), err, tail(string(out), 40))
	}
	return cmd, nil
}

func writeFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode()
	}
	return -1
}

func describe(what string, err error) error {
	if err == nil {
		return nil
	}
	if exit, ok := err.(*exec.ExitError); ok {
		return fmt.Errorf("%s: %v\n%s", what, err, exit.Stderr)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "meshbench: "+format+"\n", args...)
}
