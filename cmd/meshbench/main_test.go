package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meshform/terraform-provider-mesh/internal/debugstats"
)

func TestConfigDefaultsToTheIssuesFullSet(t *testing.T) {
	for _, name := range []string{"BENCH_N", "BENCH_MIXED", "BENCH_RUNS", "BENCH_RUNS_LARGE", "BENCH_PEERS", "BENCH_BACKEND"} {
		t.Setenv(name, "")
	}
	c, err := configFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.sizes, []int{10, 100, 1000}) || c.mixed != 1000 || c.runs != 3 || c.runsLarge != 3 || c.backend != "local" {
		t.Errorf("defaults: sizes %v, mixed %d, runs %d/%d, backend %q; want [10 100 1000], 1000, 3/3, local", c.sizes, c.mixed, c.runs, c.runsLarge, c.backend)
	}
	for _, p := range peerNames {
		if !c.peers[p] {
			t.Errorf("peer %s is off by default", p)
		}
	}
}

func TestConfigQuickRun(t *testing.T) {
	t.Setenv("BENCH_N", "10, 100")
	t.Setenv("BENCH_RUNS", "1")
	t.Setenv("BENCH_PEERS", "none")
	c, err := configFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.sizes, []int{10, 100}) || c.runs != 1 || c.runsLarge != 1 || len(c.peers) != 0 {
		t.Errorf("got sizes %v, runs %d/%d, peers %v; want [10 100], 1/1, none", c.sizes, c.runs, c.runsLarge, c.peers)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"BENCH_N": "10,x"}, `BENCH_N: "x" is not a size of at least 4`},
		{map[string]string{"BENCH_N": "2"}, `BENCH_N: "2" is not a size of at least 4`},
		{map[string]string{"BENCH_RUNS": "three"}, `BENCH_RUNS: strconv.Atoi: parsing "three"`},
		{map[string]string{"BENCH_RUNS_LARGE": "x"}, `BENCH_RUNS_LARGE: strconv.Atoi`},
		{map[string]string{"BENCH_RUNS": "0"}, "BENCH_RUNS and BENCH_RUNS_LARGE must be at least 1"},
		{map[string]string{"BENCH_PEERS": "floor,helm"}, `BENCH_PEERS: "helm" is none of kubectl_manifest, floor, terraform (or none)`},
		{map[string]string{"BENCH_BACKEND": "s3"}, `BENCH_BACKEND: "s3" is neither local nor http`},
	} {
		for _, name := range []string{"BENCH_N", "BENCH_MIXED", "BENCH_RUNS", "BENCH_RUNS_LARGE", "BENCH_PEERS", "BENCH_BACKEND"} {
			t.Setenv(name, tc.env[name])
		}
		_, err := configFromEnv()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.env, err, tc.want)
		}
	}
}

func TestStatCPUSumsUserAndSystemTime(t *testing.T) {
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
	stat := "29244 (kube apiserver) S 29226 29226 29014 0 -1 4194560 92 0 0 0 2570 830 0 0 20 0 12 0"
	if got, want := statCPU(stat), 34*time.Second; got != want {
		t.Errorf("statCPU = %v, want %v", got, want)
	}
	if got := statCPU("garbage"); got != 0 {
		t.Errorf("statCPU(garbage) = %v, want 0", got)
	}
}

func TestServerPIDs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pids")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("1 etcd\n2 kube-apiserver\n3 kwok\n")
	pids, err := serverPIDs(path)
	if err != nil || !slices.Equal(pids, []int{1, 2}) {
		t.Errorf("serverPIDs = %v, %v; want [1 2]", pids, err)
	}
	write("1 etcd\n")
	if _, err := serverPIDs(path); err == nil || !strings.Contains(err.Error(), "want the pids of kube-apiserver and etcd, found 1") {
		t.Errorf("serverPIDs of a file without kube-apiserver: %v", err)
	}
	write("x etcd\n2 kube-apiserver\n")
	if _, err := serverPIDs(path); err == nil || !strings.Contains(err.Error(), `"x" is not a pid`) {
		t.Errorf("serverPIDs of a malformed file: %v", err)
	}
	if _, err := serverPIDs(filepath.Join(dir, "missing")); err == nil {
		t.Error("serverPIDs of a missing file: no error")
	}
}

func TestProcessFiguresSumTheProvidersAndKeepTheLargestPeaks(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, v any) {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Two provider processes (debugstats) and the wrapper's measures of each.
	write("1.json", debugstats.Stats{PID: 1, Requests: 3, GC: debugstats.GC{Cycles: 10, CPUSeconds: 1.5, PeakRuntimeBytes: 90 << 20, PeakLiveHeapBytes: 40 << 20}})
	write("2.json", debugstats.Stats{PID: 2, Requests: 5, GC: debugstats.GC{Cycles: 30, CPUSeconds: 2.5, LimiterCycle: 28, PeakRuntimeBytes: 170 << 20, PeakLiveHeapBytes: 85 << 20}})
	write("rss-1.json", map[string]int64{"max_rss_bytes": 150 << 20, "cpu_nanoseconds": int64(time.Second)})
	write("rss-2.json", map[string]int64{"max_rss_bytes": 230 << 20, "cpu_nanoseconds": int64(3 * time.Second)})

	f, err := processFigures(dir)
	if err != nil {
		t.Fatal(err)
	}
	if f.requests != 8 || f.peakRSS != 230<<20 || f.cpu != 4*time.Second {
		t.Errorf("requests %d, peak RSS %d, CPU %v; want 8, 230 MiB, 4s", f.requests, f.peakRSS, f.cpu)
	}
	want := "; GC 40 cycles, 4.0 CPU s, CPU limiter on in 1 of 2 processes, Go memory peak 170 MiB, live heap peak 85 MiB"
	if got := f.gc.String(); got != want {
		t.Errorf("GC figures\n got %q\nwant %q", got, want)
	}
}

func TestNoGCFiguresWithoutProviderRecords(t *testing.T) {
	if got := (gcFigures{}).String(); got != "" {
		t.Errorf("got %q; want nothing", got)
	}
}
