// Command meshbench is `make bench`: it starts a local control plane with an
// audit log, and times plan, apply and refresh of the same workloads through
// this provider, through kubectl_manifest (terraform-provider-kubectl) and
// through kubectl's server-side apply (the floor), side by side. It prints
// Markdown tables for BENCHMARKS.md.
//
//	BENCH_N=10,100,1000   traffic-split workload sizes
//	BENCH_MIXED=1000      size of the mixed workload (all four policy resources); 0 skips it
//	BENCH_RUNS=3          runs per workload; the tables show medians
//	BENCH_RUNS_LARGE      runs per workload of 1,000 resources or more (default BENCH_RUNS)
//	BENCH_PPROF_N=1000    workload size whose provider runs write pprof profiles
//	BENCH_PEERS           what to run beside our provider: a comma list of
//	                      kubectl_manifest, floor and terraform (Terraform
//	                      alone, terraform_data), or none; default all three
//	BENCH_BACKEND=local   where Terraform keeps the state: local (a file,
//	                      Terraform's default) or http (a remote backend
//	                      this command serves on loopback)
//	BENCH_KEEP=1          keep the work directory (state, profiles, logs)
//	BENCH_PERF_TERRAFORM=1
//	                      also profile Terraform itself in the BENCH_PPROF_N
//	                      runs, with perf (terraform.cpu.pprof beside the
//	                      provider's profiles)
//	BENCH_PROVIDER_SRC    also build the provider from this checkout (the
//	                      "before" of a change: git worktree add) and run it
//	                      beside this one in every run: a table of the two
//	                      providers' figures and their ratios
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "wrap" {
		os.Exit(wrap(os.Args[2], os.Args[3:]))
	}
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "meshbench: %v\n", err)
		os.Exit(1)
	}
}

type config struct {
	sizes     []int
	mixed     int
	runs      int
	runsLarge int
	pprofN    int
	keep      bool
	perf      bool
	peers     map[string]bool
	backend   string
}

// peerNames are BENCH_PEERS' values.
var peerNames = []string{"kubectl_manifest", "floor", "terraform"}

func configFromEnv() (config, error) {
	c := config{mixed: 1000, runs: 3, pprofN: 1000, keep: os.Getenv("BENCH_KEEP") == "1", perf: os.Getenv("BENCH_PERF_TERRAFORM") == "1"}
	var err error
	if c.sizes, err = ints(envOr("BENCH_N", "10,100,1000")); err != nil {
		return c, fmt.Errorf("BENCH_N: %w", err)
	}
	for name, dst := range map[string]*int{"BENCH_MIXED": &c.mixed, "BENCH_RUNS": &c.runs, "BENCH_PPROF_N": &c.pprofN} {
		if v := os.Getenv(name); v != "" {
			if *dst, err = strconv.Atoi(v); err != nil {
				return c, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	c.runsLarge = c.runs
	if v := os.Getenv("BENCH_RUNS_LARGE"); v != "" {
		if c.runsLarge, err = strconv.Atoi(v); err != nil {
			return c, fmt.Errorf("BENCH_RUNS_LARGE: %w", err)
		}
	}
	if c.peers, err = peers(envOr("BENCH_PEERS", strings.Join(peerNames, ","))); err != nil {
		return c, fmt.Errorf("BENCH_PEERS: %w", err)
	}
	if c.backend = envOr("BENCH_BACKEND", "local"); c.backend != "local" && c.backend != "http" {
		return c, fmt.Errorf("BENCH_BACKEND: %q is neither local nor http", c.backend)
	}
	if c.runs < 1 || c.runsLarge < 1 {
		return c, fmt.Errorf("BENCH_RUNS and BENCH_RUNS_LARGE must be at least 1")
	}
	return c, nil
}

func ints(list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 4 {
			return nil, fmt.Errorf("%q is not a size of at least 4", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func peers(list string) (map[string]bool, error) {
	out := map[string]bool{}
	if list == "none" {
		return out, nil
	}
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); !slices.Contains(peerNames, f) {
			return nil, fmt.Errorf("%q is none of %s (or none)", f, strings.Join(peerNames, ", "))
		}
		out[f] = true
	}
	return out, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func must(path string, err error) string {
	if err != nil {
		fmt.Fprintf(os.Stderr, "meshbench: %v\n", err)
		os.Exit(1)
	}
	abs, _ := filepath.Abs(path)
	return abs
}
