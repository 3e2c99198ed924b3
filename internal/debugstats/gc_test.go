package debugstats

import (
	"runtime"
	rdebug "runtime/debug"
	"testing"
	"time"
)

// sink keeps allocations alive long enough for the collector to see them.
var sink [][]byte

func churn(n int) {
	for i := range n {
		sink = append(sink, make([]byte, 64<<10))
		if len(sink) > 64 {
			sink = sink[:0]
		}
		if i%256 == 0 {
			runtime.Gosched()
		}
	}
	sink = nil
}

func TestGCFiguresCountCyclesAndPeaks(t *testing.T) {
	r := startGC()
	live := make([]byte, 8<<20)
	runtime.GC()
	runtime.KeepAlive(live)
	got := r.stop()
	if got.Cycles == 0 || got.PeakRuntimeBytes < 8<<20 || got.PeakLiveHeapBytes < 8<<20 {
		t.Errorf("figures = %+v; want at least one cycle and peaks over the 8 MiB kept live", got)
	}
	if got.PeakRuntimeBytes < got.PeakLiveHeapBytes {
		t.Errorf("runtime peak %d < live heap peak %d", got.PeakRuntimeBytes, got.PeakLiveHeapBytes)
	}
}

// A memory limit far below the live heap makes the collector run back to
// back, which is what turns its CPU limiter on.
func TestGCFiguresSeeTheCPULimiter(t *testing.T) {
	r := startGC()
	before := r.stop().LimiterCycle
	r = startGC()
	live := make([]*[4]int, 1<<20) // pointer-dense: every cycle marks it all
	for i := range live {
		live[i] = new([4]int)
	}
	old := rdebug.SetMemoryLimit(1)
	// How soon the limiter turns on depends on the machine's load: churn
	// until the runtime reports it, for at most a while.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		churn(2000)
		r.sample()
		if r.figures().LimiterCycle > before {
			break
		}
	}
	rdebug.SetMemoryLimit(old)
	runtime.KeepAlive(live)
	got := r.stop()
	if got.LimiterCycle <= before || got.LimiterCycle > got.Cycles+1 { // +1: the cycle in progress
		t.Errorf("limiter last enabled in cycle %d (before: %d, cycles: %d); want a cycle of this run", got.LimiterCycle, before, got.Cycles)
	}
}
