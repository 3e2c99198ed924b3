package bench

import (
	"fmt"
	"strings"
	"time"
)

// Tools, in report order: ours, the two peers, and Terraform alone.
const (
	Mesh            = "mesh"
	KubectlManifest = "kubectl_manifest"
	Floor           = "kubectl --server-side"
	// TerraformAlone is terraform_data resources holding our resources'
	// manifests: what Terraform itself costs for that many resources and
	// that much state, with no provider and no cluster.
	TerraformAlone = "terraform alone"
	// Before is this provider built from another checkout
	// (BENCH_PROVIDER_SRC): the figures before a change.
	Before = "mesh before"
)

// Phases, in run order.
var Phases = []string{"create", "plan (no changes)", "update every weight", "plan (10% drifted)", "destroy"}

// Sample is one timed phase of one tool.
type Sample struct {
	Wall time.Duration
	// ClientRequests is what the provider counted on its own client (ours
	// only; -1 for the peers).
	ClientRequests int64
	// ServerRequests is what the API server's audit log recorded.
	ServerRequests int64
	// PeakRSS is the largest peak resident set of the provider processes
	// the phase started, in bytes (0 for kubectl).
	PeakRSS int64
	CPU     CPU
}

// CPU is where a phase's processor time went. The machine's cores are
// shared, so a phase can take no less wall time than its busiest share
// divided by the cores it can use.
type CPU struct {
	// Client is Terraform's own (the providers' taken out), or kubectl's.
	Client time.Duration
	// Providers is the provider processes' total.
	Providers time.Duration
	// Cluster is kube-apiserver's and etcd's.
	Cluster time.Duration
}

// Results maps tool and phase to the samples of every run.
type Results map[string]map[string][]Sample

// Add records one sample.
func (r Results) Add(tool, phase string, s Sample) {
	if r[tool] == nil {
		r[tool] = map[string][]Sample{}
	}
	r[tool][phase] = append(r[tool][phase], s)
}

// Summary is the medians of one tool's phase.
type Summary struct {
	Wall           time.Duration
	ClientRequests int64
	ServerRequests int64
	// PeakRSS is the largest of the runs, not their median: the target is
	// a ceiling.
	PeakRSS int64
	CPU     CPU
	Runs    int
}

// Summarize takes the median of each figure but the peak RSS, of which it
// takes the largest.
func Summarize(samples []Sample) Summary {
	var wall, cpuClient, cpuProviders, cpuCluster []time.Duration
	var client, server []int64
	var rss int64
	for _, s := range samples {
		wall = append(wall, s.Wall)
		client = append(client, s.ClientRequests)
		server = append(server, s.ServerRequests)
		rss = max(rss, s.PeakRSS)
		cpuClient = append(cpuClient, s.CPU.Client)
		cpuProviders = append(cpuProviders, s.CPU.Providers)
		cpuCluster = append(cpuCluster, s.CPU.Cluster)
	}
	return Summary{
		Wall: Median(wall), ClientRequests: MedianInt(client), ServerRequests: MedianInt(server), PeakRSS: rss,
		CPU:  CPU{Client: Median(cpuClient), Providers: Median(cpuProviders), Cluster: Median(cpuCluster)},
		Runs: len(samples),
	}
}

// Table renders one workload's results as Markdown: per phase, each tool's
// median wall time, our ratio to each peer, the requests (client and server
// side) and the providers' largest peak RSS over the runs.
func Table(w Workload, objects int, r Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#### %s, N = %d (%d objects)%s\n\n", w.Name, w.N, objects, w.backendNote())
	b.WriteString("| phase | mesh | kubectl_manifest | kubectl SSA floor | Terraform alone | mesh ÷ kubectl_manifest | mesh ÷ floor | mesh requests (client / server) | per object | kubectl_manifest requests | floor requests | mesh peak RSS (max) | kubectl_manifest peak RSS (max) | runs |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, phase := range Phases {
		m, k, f, tf := Summarize(r[Mesh][phase]), Summarize(r[KubectlManifest][phase]), Summarize(r[Floor][phase]), Summarize(r[TerraformAlone][phase])
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %d / %d | %s | %s | %s | %s | %s | %d |\n",
			phase, secs(m), secs(k), secs(f), secs(tf), ratio(m, k), ratio(m, f),
			m.ClientRequests, m.ServerRequests, perObject(m.ServerRequests, objects),
			count(k), count(f), mib(m.PeakRSS), mib(k.PeakRSS), m.Runs)
	}
	return b.String()
}

// CPUTable renders where each tool's processor time went, per phase
// (medians): Terraform's own, the provider's and the control plane's
// (kube-apiserver and etcd); kubectl's own for the floor.
func CPUTable(w Workload, r Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CPU seconds, %s N = %d%s: Terraform / provider / kube-apiserver + etcd (kubectl / – / kube-apiserver + etcd for the floor)\n\n", w.Name, w.N, w.backendNote())
	b.WriteString("| phase | mesh | kubectl_manifest | kubectl SSA floor | Terraform alone |\n|---|---:|---:|---:|---:|\n")
	for _, phase := range Phases {
		fmt.Fprintf(&b, "| %s", phase)
		for _, tool := range []string{Mesh, KubectlManifest, Floor, TerraformAlone} {
			fmt.Fprintf(&b, " | %s", cpuSplit(Summarize(r[tool][phase])))
		}
		b.WriteString(" |\n")
	}
	return b.String()
}

func cpuSplit(s Summary) string {
	if s.Runs == 0 {
		return "–"
	}
	providers := "–"
	if s.CPU.Providers > 0 {
		providers = fmt.Sprintf("%.1f", s.CPU.Providers.Seconds())
	}
	return fmt.Sprintf("%.1f / %s / %.1f", s.CPU.Client.Seconds(), providers, s.CPU.Cluster.Seconds())
}

func secs(s Summary) string {
	if s.Runs == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f s", s.Wall.Seconds())
}

func ratio(ours, peer Summary) string {
	if ours.Runs == 0 || peer.Runs == 0 || peer.Wall == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", ours.Wall.Seconds()/peer.Wall.Seconds())
}

func count(s Summary) string {
	if s.Runs == 0 {
		return "–"
	}
	return fmt.Sprint(s.ServerRequests)
}

func perObject(requests int64, objects int) string {
	if objects == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", float64(requests)/float64(objects))
}

func mib(bytes int64) string {
	if bytes == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f MiB", float64(bytes)/(1<<20))
}

// BeforeTable renders, per phase, the provider built from
// BENCH_PROVIDER_SRC (before) against this one (after), both measured in
// the same invocation: wall time and the provider processes' CPU (medians),
// and after ÷ before of each.
func BeforeTable(w Workload, r Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Before (BENCH_PROVIDER_SRC) and after, %s N = %d%s, medians of the same invocation's runs\n\n", w.Name, w.N, w.backendNote())
	b.WriteString("| phase | wall before | wall after | after ÷ before | provider CPU before | provider CPU after | after ÷ before | requests before / after | runs |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, phase := range Phases {
		before, after := Summarize(r[Before][phase]), Summarize(r[Mesh][phase])
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s / %s | %d |\n", phase,
			secs(before), secs(after), ratio(after, before),
			cpuSecs(before), cpuSecs(after), cpuRatio(after, before),
			count(before), count(after), min(before.Runs, after.Runs))
	}
	return b.String()
}

func cpuSecs(s Summary) string {
	if s.Runs == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f s", s.CPU.Providers.Seconds())
}

func cpuRatio(after, before Summary) string {
	if after.Runs == 0 || before.Runs == 0 || before.CPU.Providers == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", after.CPU.Providers.Seconds()/before.CPU.Providers.Seconds())
}
