package bench

import (
	"fmt"
	"strings"
	"time"
)

// Tools, in report order: ours and the two peers.
const (
	Mesh            = "mesh"
	KubectlManifest = "kubectl_manifest"
	Floor           = "kubectl --server-side"
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
	PeakRSS        int64
	Runs           int
}

// Summarize takes the median of each figure.
func Summarize(samples []Sample) Summary {
	var wall []time.Duration
	var client, server, rss []int64
	for _, s := range samples {
		wall = append(wall, s.Wall)
		client = append(client, s.ClientRequests)
		server = append(server, s.ServerRequests)
		rss = append(rss, s.PeakRSS)
	}
	return Summary{Wall: Median(wall), ClientRequests: MedianInt(client), ServerRequests: MedianInt(server), PeakRSS: MedianInt(rss), Runs: len(samples)}
}

// Table renders one workload's results as Markdown: per phase, each tool's
// median wall time, our ratio to each peer, the requests (client and server
// side) and the providers' peak RSS.
func Table(w Workload, objects int, r Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#### %s, N = %d (%d objects)\n\n", w.Name, w.N, objects)
	b.WriteString("| phase | mesh | kubectl_manifest | kubectl SSA floor | mesh ÷ kubectl_manifest | mesh ÷ floor | mesh requests (client / server) | per object | kubectl_manifest requests | floor requests | mesh peak RSS | kubectl_manifest peak RSS | runs |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, phase := range Phases {
		m, k, f := Summarize(r[Mesh][phase]), Summarize(r[KubectlManifest][phase]), Summarize(r[Floor][phase])
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %d / %d | %s | %s | %s | %s | %s | %d |\n",
			phase, secs(m), secs(k), secs(f), ratio(m, k), ratio(m, f),
			m.ClientRequests, m.ServerRequests, perObject(m.ServerRequests, objects),
			count(k), count(f), mib(m.PeakRSS), mib(k.PeakRSS), m.Runs)
	}
	return b.String()
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
