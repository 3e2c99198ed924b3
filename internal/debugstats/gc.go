package debugstats

import (
	"runtime/metrics"
	"sync"
	"time"
)

// GC is what the garbage collector did in one process: how often it ran,
// the CPU it used, whether its CPU limiter let the heap grow past the soft
// memory limit, and the most memory the Go runtime held.
type GC struct {
	Cycles     uint64  `json:"cycles"`
	CPUSeconds float64 `json:"cpu_seconds"`
	// LimiterCycle is the last cycle in which the CPU limiter was on (0:
	// never). While it is on, the soft memory limit is not enforced: Go
	// caps the collector at about half the CPU instead.
	LimiterCycle uint64 `json:"limiter_last_enabled_cycle"`
	// PeakRuntimeBytes is the largest sample of the memory the Go runtime
	// had mapped and not returned to the OS (the heap, stacks and the
	// runtime's own structures; not the binary's pages).
	PeakRuntimeBytes uint64 `json:"peak_runtime_bytes"`
	// PeakLiveHeapBytes is the largest heap the collector found live at the
	// end of a cycle.
	PeakLiveHeapBytes uint64 `json:"peak_live_heap_bytes"`
}

// gcMetrics are the runtime/metrics read, in the order of the metric*
// indices.
var gcMetrics = [...]string{
	metricCycles:   "/gc/cycles/total:gc-cycles",
	metricGCCPU:    "/cpu/classes/gc/total:cpu-seconds",
	metricLimiter:  "/gc/limiter/last-enabled:gc-cycle",
	metricTotal:    "/memory/classes/total:bytes",
	metricReleased: "/memory/classes/heap/released:bytes",
	metricLive:     "/gc/heap/live:bytes",
}

const (
	metricCycles = iota
	metricGCCPU
	metricLimiter
	metricTotal
	metricReleased
	metricLive
)

// gcSampleEvery is how often the peaks are sampled: often enough to see a
// heap that grows for a few collections, and cheap (runtime/metrics reads
// these without stopping the world).
const gcSampleEvery = 20 * time.Millisecond

// gcRecorder samples the runtime's memory until stopped.
type gcRecorder struct {
	samples []metrics.Sample
	done    chan struct{}
	wg      sync.WaitGroup

	mu   sync.Mutex
	peak GC
}

func startGC() *gcRecorder {
	r := &gcRecorder{done: make(chan struct{})}
	for _, name := range gcMetrics {
		r.samples = append(r.samples, metrics.Sample{Name: name})
	}
	r.sample()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(gcSampleEvery)
		defer t.Stop()
		for {
			select {
			case <-r.done:
				return
			case <-t.C:
				r.sample()
			}
		}
	}()
	return r
}

func (r *gcRecorder) sample() {
	r.mu.Lock()
	defer r.mu.Unlock()
	metrics.Read(r.samples)
	v := func(i int) metrics.Value { return r.samples[i].Value }
	r.peak.Cycles = uint64Of(v(metricCycles))
	r.peak.LimiterCycle = uint64Of(v(metricLimiter))
	if f := v(metricGCCPU); f.Kind() == metrics.KindFloat64 {
		r.peak.CPUSeconds = f.Float64()
	}
	if total, released := uint64Of(v(metricTotal)), uint64Of(v(metricReleased)); total > released {
		r.peak.PeakRuntimeBytes = max(r.peak.PeakRuntimeBytes, total-released)
	}
	r.peak.PeakLiveHeapBytes = max(r.peak.PeakLiveHeapBytes, uint64Of(v(metricLive)))
}

// stop takes a last sample and returns the figures.
func (r *gcRecorder) stop() GC {
	close(r.done)
	r.wg.Wait()
	r.sample()
	return r.figures()
}

func (r *gcRecorder) figures() GC {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peak
}

// uint64Of reads a counter or gauge; a metric this Go does not have reads 0.
func uint64Of(v metrics.Value) uint64 {
	if v.Kind() == metrics.KindUint64 {
		return v.Uint64()
	}
	return 0
}
