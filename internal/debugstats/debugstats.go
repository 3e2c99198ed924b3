// Package debugstats records what one provider process cost, for the
// benchmark (make bench) and for anyone profiling a slow plan. It is off
// unless one of its environment variables names a directory:
//
//	MESH_DEBUG_STATS_DIR  writes <dir>/<pid>.json at exit: API requests sent,
//	                      peak RSS, CPU and wall time, and what the garbage
//	                      collector did (cycles, CPU, its limiter, peaks)
//	MESH_DEBUG_PPROF_DIR  writes <dir>/<pid>.cpu.pprof, <dir>/<pid>.heap.pprof and
//	                      <dir>/<pid>.goroutines.txt (the goroutines left at exit)
//
// Neither records request contents, so nothing sensitive reaches the files.
package debugstats

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
)

// Stats is one process's record.
type Stats struct {
	PID         int     `json:"pid"`
	Requests    int64   `json:"requests"`
	MaxRSSBytes int64   `json:"max_rss_bytes"`
	UserSeconds float64 `json:"user_seconds"`
	SysSeconds  float64 `json:"sys_seconds"`
	WallSeconds float64 `json:"wall_seconds"`
	GC          GC      `json:"gc"`
}

// Start begins recording and returns the function that writes the records;
// call it when the provider server returns. Errors go to stderr, which
// Terraform logs: statistics never fail a run.
func Start() (stop func()) {
	started := time.Now()
	statsDir, pprofDir := os.Getenv("MESH_DEBUG_STATS_DIR"), os.Getenv("MESH_DEBUG_PPROF_DIR")
	var cpu *os.File
	var gc *gcRecorder
	if statsDir != "" {
		gc = startGC()
	}
	if pprofDir != "" {
		var err error
		if cpu, err = os.Create(filepath.Join(pprofDir, fmt.Sprintf("%d.cpu.pprof", os.Getpid()))); err == nil {
			err = pprof.StartCPUProfile(cpu)
		}
		report(err)
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			report(cpu.Close())
			report(writeHeap(pprofDir))
			report(writeGoroutines(pprofDir))
		}
		if statsDir != "" {
			report(writeStats(statsDir, time.Since(started), gc.stop()))
		}
	}
}

func writeStats(dir string, wall time.Duration, gc GC) error {
	s := Stats{PID: os.Getpid(), Requests: kube.ProcessRequests(), WallSeconds: wall.Seconds(), GC: gc}
	if err := addUsage(&s); err != nil {
		return err
	}
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.json", s.PID)), data, 0o644)
}

// writeHeap writes the heap profile after a collection, so that its in-use
// figures are what the process still holds once its requests are done (the
// caches, or a leak), not the garbage of the last requests; the allocation
// figures cover the whole process either way.
func writeHeap(dir string) error {
	return writeProfile(dir, "heap.pprof", func(f *os.File) error {
		runtime.GC()
		return pprof.WriteHeapProfile(f)
	})
}

// writeGoroutines writes the goroutines still running when the server has
// returned, grouped by stack: a request's goroutine left behind shows here.
func writeGoroutines(dir string) error {
	return writeProfile(dir, "goroutines.txt", func(f *os.File) error {
		return pprof.Lookup("goroutine").WriteTo(f, 1)
	})
}

// writeProfile writes <dir>/<pid>.<suffix> with write.
func writeProfile(dir, suffix string, write func(*os.File) error) error {
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%d.%s", os.Getpid(), suffix)))
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func report(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "debugstats: %v\n", err)
	}
}
