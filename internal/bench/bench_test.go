package bench

import (
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{3, 1, 2}, 2},
		{[]time.Duration{4, 1, 3, 2}, 2}, // (2+3)/2 in integer nanoseconds
		{[]time.Duration{10, 30}, 20},
	} {
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestCountRequestsSkipsTheControlPlaneAndUnfinishedStages(t *testing.T) {
	log := strings.Join([]string{
		`{"stage":"ResponseComplete","userAgent":"terraform-provider-mesh/v0.1.0 (linux/amd64) kubernetes/$Format"}`,
		`{"stage":"ResponseComplete","userAgent":"HashiCorp/1.0 Terraform/1.11.4"}`,
		`{"stage":"ResponseStarted","userAgent":"kubectl/v1.34.2 (linux/amd64) kubernetes/abc"}`,
		`{"stage":"ResponseComplete","userAgent":"kube-controller-manager/v1.34.2 (linux/amd64) kubernetes/abc/system:serviceaccount:kube-system:deployment-controller"}`,
		`{"stage":"ResponseComplete","userAgent":"kwok/v0.8.0"}`,
		`{"stage":"ResponseComplete","userAgent":"kubectl/v1.34.2 (linux/amd64) kubernetes/abc"}`,
	}, "\n")
	n, err := CountRequests(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("CountRequests = %d, want 3 (two providers and kubectl's completed request)", n)
	}
	if _, err := CountRequests(strings.NewReader("not json")); err == nil {
		t.Error("CountRequests accepted a line that is not an audit event")
	}
}

func TestTableShowsRatiosAndMissingPeers(t *testing.T) {
	r := Results{}
	r.Add(Mesh, "create", Sample{Wall: 2 * time.Second, ClientRequests: 40, ServerRequests: 42, PeakRSS: 50 << 20})
	r.Add(KubectlManifest, "create", Sample{Wall: 8 * time.Second, ServerRequests: 100, PeakRSS: 80 << 20})
	r.Add(TerraformAlone, "create", Sample{Wall: time.Second})
	table := Table(Workload{Name: "traffic_split", N: 10}, 20, r)
	for _, want := range []string{
		"#### traffic_split, N = 10 (20 objects)",
		"| create | 2.00 s | 8.00 s | – | 1.00 s | 0.25× | – | 40 / 42 | 2.10 | 100 | – | 50 MiB | 80 MiB | 1 |",
		"| destroy | – | – | – | – | – | – | 0 / 0 |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestTableShowsTheLargestPeakRSSAndTheBackend(t *testing.T) {
	r := Results{}
	for _, rss := range []int64{150, 190, 160} {
		r.Add(Mesh, "create", Sample{Wall: time.Second, PeakRSS: rss << 20})
	}
	w := Workload{Name: "mixed", N: 1000, Backend: "http"}
	table := Table(w, 1250, r)
	for _, want := range []string{
		"#### mixed, N = 1000 (1250 objects), state in an http backend",
		"| 190 MiB | – | 3 |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if cpu := CPUTable(w, r); !strings.Contains(cpu, "CPU seconds, mixed N = 1000, state in an http backend:") {
		t.Errorf("CPU table's heading does not name the backend:\n%s", cpu)
	}
	w.Backend = "local"
	if table := Table(w, 1250, r); !strings.Contains(table, "#### mixed, N = 1000 (1250 objects)\n") {
		t.Errorf("the local backend, Terraform's default, is named in the heading:\n%s", table)
	}
}

func TestMixedWorkloadHasAllFourResources(t *testing.T) {
	cfg := Workload{Name: "mixed", N: 1000}.MeshConfig()
	for _, want := range []string{
		`resource "mesh_traffic_split" "s" {
  count     = 250
  name      = "split-${count.index + 0}"`,
		`resource "mesh_mirror_route" "m" {
  count      = 250`,
		`name              = "mtls-${count.index + 500}"`,
		`namespace = "bench-${(count.index + 750) % 10}"`,
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("mixed config lacks %q:\n%s", want, cfg)
		}
	}
}

func TestCPUTableSplitsEachToolsTime(t *testing.T) {
	r := Results{}
	for _, c := range []time.Duration{3, 1, 2} {
		r.Add(Mesh, "create", Sample{CPU: CPU{Client: c * time.Second, Providers: 2 * c * time.Second, Cluster: time.Second}})
	}
	r.Add(Floor, "create", Sample{CPU: CPU{Client: 500 * time.Millisecond, Cluster: 4 * time.Second}})
	table := CPUTable(Workload{Name: "traffic_split", N: 10}, r)
	want := "| create | 2.0 / 4.0 / 1.0 | – | 0.5 / – / 4.0 | – |"
	if !strings.Contains(table, want) {
		t.Errorf("CPU table lacks %q:\n%s", want, table)
	}
}

func TestBeforeTableComparesTheTwoProviders(t *testing.T) {
	r := Results{}
	for _, c := range []time.Duration{3, 1, 2} {
		r.Add(Before, "plan (no changes)", Sample{Wall: 2 * c * time.Second, ServerRequests: 22, CPU: CPU{Providers: 4 * c * time.Second}})
		r.Add(Mesh, "plan (no changes)", Sample{Wall: c * time.Second, ServerRequests: 22, CPU: CPU{Providers: c * time.Second}})
	}
	table := BeforeTable(Workload{Name: "traffic_split", N: 10}, r)
	want := "| plan (no changes) | 4.00 s | 2.00 s | 0.50× | 8.0 s | 2.0 s | 0.25× | 22 / 22 | 3 |"
	if !strings.Contains(table, want) {
		t.Errorf("before table lacks %q:\n%s", want, table)
	}
	if want := "| create | – | – | – | – | – | – | – / – | 0 |"; !strings.Contains(table, want) {
		t.Errorf("before table lacks %q for a phase not run:\n%s", want, table)
	}
}
