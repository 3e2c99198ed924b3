package kube

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/util/flowcontrol"
)

// Options configure a Manager.
type Options struct {
	// FieldManager is the server-side apply field manager.
	FieldManager string
	// QPS and Burst bound the request rate of all the Manager's clients
	// together (one token bucket). client-go's defaults (5 and 10) make a
	// plan over hundreds of objects crawl; the API server's own priority and
	// fairness is what protects it (client-go retries its 429s).
	QPS   float32
	Burst int
	// ReadCache, when positive, lets Read, Get and List of a namespaced kind
	// share one List of the namespace for this long (see snapshots). Zero
	// reads every object afresh.
	ReadCache time.Duration
	// OwnerLabel is the label whose value names the one resource instance an
	// object belongs to (ApplyOptions.Owner). An object rendered without it
	// is someone else's, which the engine only adds fields to. The engine
	// knows no mesh: the caller says which label that is.
	OwnerLabel string
	// CommittedLabel, when set, marks the objects an apply creates with
	// CommittedLabel=false from their first write until the apply's last
	// write clears it. An object that carries the owner label of the apply
	// but is not in its previous revision is adopted only while
	// uncommitted (a create that died, run again); a committed one belongs
	// to another resource instance with the same owner label (another
	// Terraform state) and is refused.
	CommittedLabel string
	// CreateIDAnnotation, when set with CommittedLabel, names the annotation
	// that carries a random id of the create that wrote an uncommitted
	// object. The create's commit clears it only while it still holds that
	// id (a write conditional on the object's resourceVersion): a second
	// create of the same resource (another Terraform state) that adopted the
	// object meanwhile, taking it for a create that died, put its own id
	// there, and the first create then fails at its commit instead of both
	// states recording the object (TakenOverError).
	CreateIDAnnotation string
}

// DefaultFieldManager is the field manager the provider applies as.
const DefaultFieldManager = "terraform-provider-mesh"

// DefaultOptions returns the options the provider uses unless configured.
// A bucket of 200 held back the apply of 1,000 resources (two requests per
// object, ten at a time): 500 and 1000 do not (BENCHMARKS.md, round 9).
func DefaultOptions() Options {
	return Options{FieldManager: DefaultFieldManager, QPS: 500, Burst: 1000}
}

// Manager applies, reads, waits for and deletes sets of objects.
type Manager struct {
	opts Options
	// beforeCommit, when set (tests only), runs between an apply's
	// forward steps and its commit.
	beforeCommit func()
	dynamic      dynamic.Interface
	clientset    kubernetes.Interface
	mapper       meta.ResettableRESTMapper
	requests     *atomic.Int64
	cache        *snapshots // nil unless Options.ReadCache > 0
	// lastRediscovery is when a discovery miss last reset the cache (ns).
	lastRediscovery atomic.Int64
	// mappings are the mapper's answers by kind (see mapping).
	mappings sync.Map // schema.GroupVersionKind -> *meta.RESTMapping
}

// New builds a Manager over cfg. It makes no request: discovery runs lazily,
// once, on the first object whose resource is needed.
func New(cfg *rest.Config, opts Options) (*Manager, error) {
	if opts.FieldManager == "" {
		opts.FieldManager = DefaultFieldManager
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = opts.QPS, opts.Burst
	if cfg.RateLimiter == nil && opts.QPS > 0 {
		// One bucket for every client: each client-go client otherwise
		// builds its own, and the Manager's three (dynamic, typed,
		// discovery) would send up to three times the `qps` asked for.
		cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(opts.QPS, opts.Burst)
	}
	requests := &atomic.Int64{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingTransport{rt, requests} })
	// Outside the counting: every attempt is a request.
	wrapRetries(cfg, nil)

	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Manager{
		opts:      opts,
		dynamic:   dyn,
		clientset: cs,
		mapper:    restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)),
		requests:  requests,
		cache:     newSnapshots(opts.ReadCache),
	}, nil
}

// Dynamic is the Manager's dynamic client, for read-only lookups by callers
// (plan-time cluster checks).
func (m *Manager) Dynamic() dynamic.Interface { return m.dynamic }

// Clientset is the Manager's typed client, for read-only lookups by callers.
func (m *Manager) Clientset() kubernetes.Interface { return m.clientset }

// RESTMapper maps kinds to resources through the Manager's discovery cache.
func (m *Manager) RESTMapper() meta.RESTMapper { return m.mapper }

// FieldManager is the name the Manager applies as.
func (m *Manager) FieldManager() string { return m.opts.FieldManager }

// Requests is the number of HTTP requests the Manager has sent so far.
func (m *Manager) Requests() int64 { return m.requests.Load() }

// processRequests counts the requests of every Manager in this process.
var processRequests atomic.Int64

// ProcessRequests is the number of API requests every Manager of this
// process has sent (for the provider's debug statistics).
func ProcessRequests() int64 { return processRequests.Load() }

type countingTransport struct {
	next  http.RoundTripper
	count *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.count.Add(1)
	processRequests.Add(1)
	return t.next.RoundTrip(r)
}
