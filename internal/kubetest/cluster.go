// Package kubetest runs a local Kubernetes control plane for tests and the
// demo: etcd, kube-apiserver, kube-controller-manager and kube-scheduler
// built from source, with kwok simulating nodes and pods, and the Istio,
// Gateway API and Linkerd CRDs installed. No container runtime is needed.
package kubetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// startTimeout bounds a start once the binaries exist (building them the
// first time is not counted: it can take many minutes).
const startTimeout = 3 * time.Minute

// Options configure Start. The zero value is a usable default.
type Options struct {
	// BinDir holds etcd, kube-* and kwok. "" means $MESH_CLUSTER_BIN, else
	// the directory scripts/cluster-tools.sh builds and prints.
	BinDir string
	// Dir is the work directory (data, certificates, logs, kubeconfig,
	// pids). "" means a temporary directory that Stop removes.
	Dir string
	// Nodes is the number of kwok nodes; 0 means 2.
	Nodes int
	// Stdout also receives the components' logs, which always go to
	// <Dir>/<component>.log.
	Stdout io.Writer
	// NoCRDs starts an empty cluster, without the Istio, Gateway API and
	// Linkerd CRDs, as a fresh cluster that a mesh_install has yet to
	// populate (the demo).
	NoCRDs bool
	// AuditLog makes the API server log the metadata of every request
	// (verb, URI, user agent) to <Dir>/audit.log, one JSON event per line:
	// the benchmark counts each client's requests from the server's side.
	AuditLog bool
	// PriorityAndFairness turns API Priority and Fairness on (it is off by
	// default: a single-user test cluster gains nothing from it, and its
	// bootstrap objects slow the start), so that the API server answers
	// 429 when a priority level's seats are taken.
	PriorityAndFairness bool
	// MaxRequestsInflight, when not 0, is the API server's limit on
	// concurrent requests, read-only and mutating each (default 400 and
	// 200): with priority and fairness, its levels share that many seats.
	MaxRequestsInflight int
}

// Cluster is a running control plane.
type Cluster struct {
	Dir        string       // work directory ("" for an external cluster)
	Kubeconfig string       // admin kubeconfig path
	Config     *rest.Config // admin client config

	procs    []*process
	ownsDir  bool // Dir is a temporary directory Start created
	external bool // not ours: Stop does nothing

	stopOnce sync.Once
	stopErr  error

	// apiserver and etcd are how they were started, for the restarts;
	// others, the components started after them.
	apiserver, etcd launched
	others          []*launched
}

// launched is how a component was started, so that it can be again.
type launched struct {
	bin  string
	args []string
	out  io.Writer
	proc *process
}

// Start builds or finds the binaries and starts a cluster. On failure it
// stops whatever it started and keeps Dir, whose logs the error names.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	binDir, err := resolveBinDir(ctx, opts.BinDir)
	if err != nil {
		return nil, err
	}
	stages, err := stageFiles(binDir)
	if err != nil {
		return nil, err
	}
	if opts.Nodes == 0 {
		opts.Nodes = 2
	}
	c, err := startOnce(ctx, binDir, stages, opts)
	if err != nil && opts.Dir == "" {
		// On a loaded two-core machine (a test run compiling while other
		// packages' clusters run) a component can miss its own bootstrap
		// deadline, e.g. kube-apiserver's RBAC post-start hook. One fresh
		// try in a new directory; the first failure's logs stay in its Dir.
		var again error
		if c, again = startOnce(ctx, binDir, stages, opts); again != nil {
			return nil, errors.Join(err, again)
		}
	}
	return c, err
}

func startOnce(ctx context.Context, binDir string, stages []string, opts Options) (*Cluster, error) {
	c, err := newCluster(opts.Dir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := c.start(ctx, binDir, stages, opts); err != nil {
		return nil, errors.Join(err, stopAll(c.procs))
	}
	return c, nil
}

// newCluster prepares the work directory. A directory whose cluster still
// runs is refused; a stopped one's state is cleared so each start is fresh.
func newCluster(dir string) (*Cluster, error) {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "kubetest-")
		return &Cluster{Dir: tmp, ownsDir: true}, err
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	procs, err := readPIDs(dir)
	if err != nil {
		return nil, err
	}
	for _, p := range procs {
		if p.alive() {
			return nil, fmt.Errorf("kubetest: a cluster already runs in %s (%s pid %d); stop it first (localcluster down --dir %s)", dir, p.name, p.pid, dir)
		}
	}
	for _, stale := range []string{"etcd", "pids"} {
		if err := os.RemoveAll(filepath.Join(dir, stale)); err != nil {
			return nil, err
		}
	}
	return &Cluster{Dir: dir}, os.MkdirAll(dir, 0o755)
}

func (c *Cluster) start(ctx context.Context, binDir string, stages []string, opts Options) error {
	// A component that dies while we wait cancels the wait with its own
	// error, so a crash is reported at once and by name.
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	run := func(name string, args []string) error {
		p, err := startProcess(c.Dir, name, filepath.Join(binDir, name), args, opts.Stdout,
			func(p *process) { fail(p.exitedError()) })
		if err != nil {
			return err
		}
		c.procs = append(c.procs, p)
		if name != "etcd" {
			c.others = append(c.others, &launched{bin: filepath.Join(binDir, name), args: args, out: opts.Stdout, proc: p})
		}
		return appendPID(c.Dir, p)
	}
	// Finding the CRD manifests runs `go`; let it overlap the apiserver start.
	srcs := async(func() (*crdSources, error) { return loadCRDSources(ctx) })

	pk, err := newPKI(c.Dir)
	if err != nil {
		return componentError("pki", "", err)
	}
	pp, err := freePorts(3)
	if err != nil {
		return err
	}
	p := ports{etcdClient: pp[0], etcdPeer: pp[1], apiserver: pp[2]}
	if err := run("etcd", etcdArgs(c.Dir, p)); err != nil {
		return err
	}
	c.etcd = launched{bin: filepath.Join(binDir, "etcd"), args: etcdArgs(c.Dir, p), out: opts.Stdout, proc: c.procs[len(c.procs)-1]}
	apiserver := apiserverArgs(pk, p)
	if opts.PriorityAndFairness {
		apiserver = slices.DeleteFunc(apiserver, func(a string) bool { return strings.HasPrefix(a, "--enable-priority-and-fairness=") })
		apiserver = append(apiserver, "--enable-priority-and-fairness=true")
	}
	if n := opts.MaxRequestsInflight; n > 0 {
		apiserver = append(apiserver, fmt.Sprintf("--max-requests-inflight=%d", n), fmt.Sprintf("--max-mutating-requests-inflight=%d", n))
	}
	if opts.AuditLog {
		audit, err := auditArgs(c.Dir)
		if err != nil {
			return componentError("kube-apiserver", "", err)
		}
		apiserver = append(apiserver, audit...)
	}
	if err := c.writeKubeconfigs(pk, fmt.Sprintf("https://127.0.0.1:%d", p.apiserver)); err != nil {
		return err
	}
	if err := c.startAPIServer(ctx, filepath.Join(binDir, "kube-apiserver"), apiserver, opts.Stdout, fail); err != nil {
		return c.failed(ctx, "kube-apiserver", err)
	}
	// These exit if the apiserver is not up yet, hence only now.
	for _, comp := range []struct {
		name string
		args []string
	}{
		{"kube-controller-manager", controllerManagerArgs(pk, pk.path("kube-controller-manager.kubeconfig"))},
		{"kube-scheduler", schedulerArgs(pk.path("kube-scheduler.kubeconfig"))},
		{"kwok", kwokArgs(pk.path("kwok.kubeconfig"), stages)},
	} {
		if err := run(comp.name, comp.args); err != nil {
			return err
		}
	}
	if opts.NoCRDs {
		srcs = nil
	}
	return c.bootstrap(ctx, opts.Nodes, srcs)
}

// apiserverStarts bounds how often startAPIServer starts kube-apiserver.
const apiserverStarts = 4

// startAPIServer starts kube-apiserver and waits until it is ready. On a
// loaded two-core machine one of its post-start hooks (the RBAC bootstrap,
// typically) can miss its own deadline, and kube-apiserver then exits:
// that is detected at once, the cause printed, and kube-apiserver alone
// started again over the same etcd (the earlier log is kept as
// kube-apiserver.log.N). Once ready, an exit fails the cluster (fail).
func (c *Cluster) startAPIServer(ctx context.Context, bin string, args []string, out io.Writer, fail context.CancelCauseFunc) error {
	var ready atomic.Bool
	for attempt := 1; ; attempt++ {
		died := make(chan struct{})
		proc, err := startProcess(c.Dir, "kube-apiserver", bin, args, out, func(p *process) {
			close(died)
			if ready.Load() {
				fail(p.exitedError())
			}
		})
		if err != nil {
			return err
		}
		c.procs = append(c.procs, proc)
		c.apiserver.bin, c.apiserver.args, c.apiserver.out, c.apiserver.proc = bin, args, out, proc
		if err := appendPID(c.Dir, proc); err != nil {
			return err
		}
		wctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-died:
				cancel()
			case <-wctx.Done():
			}
		}()
		err = waitAPIServer(wctx, c.Config)
		cancel()
		select {
		case <-died:
		default:
			if err == nil {
				ready.Store(true)
				select {
				case <-died: // it died just now: the callback saw ready unset
					return proc.exitedError()
				default:
				}
			}
			return err
		}
		crash := proc.exitedError()
		if attempt >= apiserverStarts || ctx.Err() != nil {
			return crash
		}
		kept := fmt.Sprintf("%s.%d", proc.log, attempt)
		_ = os.Rename(proc.log, kept)
		fmt.Fprintf(os.Stderr, "kubetest: kube-apiserver exited while starting (attempt %d of %d): %s\nkubetest: its log is %s; starting it again\n",
			attempt, apiserverStarts, startCause(crash.Tail), kept)
	}
}

// startCause picks the line of a log tail that says why kube-apiserver
// exited: a failed post-start hook, else a fatal line, else the last one.
func startCause(tail string) string {
	lines := strings.Split(strings.TrimSpace(tail), "\n")
	for _, l := range lines {
		if strings.Contains(l, "PostStartHook") && strings.Contains(l, "failed") {
			return strings.TrimSpace(l)
		}
	}
	for _, l := range slices.Backward(lines) {
		if strings.HasPrefix(l, "F") || strings.HasPrefix(l, "E") {
			return strings.TrimSpace(l)
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

// writeKubeconfigs writes the admin kubeconfig to <Dir>/kubeconfig and one
// per component under <Dir>/pki, and loads the admin one into c.Config.
func (c *Cluster) writeKubeconfigs(pk *pki, server string) error {
	c.Kubeconfig = filepath.Join(c.Dir, "kubeconfig")
	if err := pk.writeKubeconfig(c.Kubeconfig, server, "admin"); err != nil {
		return err
	}
	for _, u := range users[1:] {
		if err := pk.writeKubeconfig(pk.path(u+".kubeconfig"), server, u); err != nil {
			return err
		}
	}
	cfg, err := loadConfig(c.Kubeconfig)
	c.Config = cfg
	return err
}

// bootstrap readies the cluster for tests: nodes, the default service
// account and the CRDs, concurrently.
func (c *Cluster) bootstrap(ctx context.Context, nodes int, srcs func() (*crdSources, error)) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.failed(ctx, "kwok", setupNodes(gctx, cs, nodes)) })
	g.Go(func() error {
		return c.failed(ctx, "kube-controller-manager", waitDefaultServiceAccount(gctx, cs))
	})
	g.Go(func() error {
		if srcs == nil {
			return nil
		}
		src, err := srcs()
		if err != nil {
			return c.failed(ctx, "crd sources", err)
		}
		v, err := cs.Discovery().ServerVersion()
		if err == nil {
			err = installCRDs(gctx, c.Config, src, v)
		}
		return c.failed(ctx, "kube-apiserver", err)
	})
	return g.Wait()
}

// failed attributes err to component, unless a component crashed, which
// is then the real cause.
func (c *Cluster) failed(ctx context.Context, component string, err error) error {
	if err == nil {
		return nil
	}
	var crashed *ComponentError
	if errors.As(context.Cause(ctx), &crashed) {
		return crashed
	}
	if errors.As(err, &crashed) {
		return err // already names its component
	}
	return componentError(component, filepath.Join(c.Dir, component+".log"), err)
}

// RestartAPIServer stops kube-apiserver (SIGKILL with kill, else SIGTERM,
// as a crash or a rolling control-plane upgrade does), leaves it down for
// down, and starts it again on the same port over the same etcd. It returns
// once the API server is ready again. Only a cluster this process started
// can be restarted.
func (c *Cluster) RestartAPIServer(ctx context.Context, down time.Duration, kill bool) error {
	if err := c.stopFor(ctx, c.apiserver.proc, down, kill); err != nil {
		return err
	}
	if err := c.startAPIServer(ctx, c.apiserver.bin, c.apiserver.args, c.apiserver.out, func(error) {}); err != nil {
		return err
	}
	return c.revive()
}

// RestartEtcd stops etcd as RestartAPIServer stops kube-apiserver, leaves
// it down for down (kube-apiserver keeps running and answers with errors),
// and starts it again over the same data directory. It returns once the
// API server can read through it again.
func (c *Cluster) RestartEtcd(ctx context.Context, down time.Duration, kill bool) error {
	if err := c.stopFor(ctx, c.etcd.proc, down, kill); err != nil {
		return err
	}
	p, err := startProcess(c.Dir, "etcd", c.etcd.bin, c.etcd.args, c.etcd.out, func(*process) {})
	if err != nil {
		return err
	}
	c.procs = append([]*process{p}, c.procs...) // stopped last, as at start
	c.etcd.proc = p
	if err := appendPID(c.Dir, p); err != nil {
		return err
	}
	if err := waitAPIServer(ctx, c.Config); err != nil {
		return err
	}
	return c.revive()
}

// revive starts again every other component (controller-manager,
// scheduler, kwok) that exited while the API server was away, as a
// kubelet restarts a static pod, with its earlier log kept beside.
func (c *Cluster) revive() error {
	for _, l := range c.others {
		select {
		case <-l.proc.done:
		default:
			continue // still running
		}
		_ = os.Rename(l.proc.log, l.proc.log+".before-restart")
		p, err := startProcess(c.Dir, l.proc.name, l.bin, l.args, l.out, func(*process) {})
		if err != nil {
			return err
		}
		c.procs = slices.DeleteFunc(c.procs, func(q *process) bool { return q == l.proc })
		c.procs = append(c.procs, p)
		l.proc = p
		if err := appendPID(c.Dir, p); err != nil {
			return err
		}
	}
	return nil
}

// stopFor stops old (SIGKILL with kill, else SIGTERM) and waits down.
func (c *Cluster) stopFor(ctx context.Context, old *process, down time.Duration, kill bool) error {
	if c.external || old == nil || old.done == nil {
		return errors.New("kubetest: a restart needs a cluster this process started")
	}
	grace := stopGrace
	if kill {
		grace = 0
	}
	if err := old.stop(grace); err != nil {
		return err
	}
	c.procs = slices.DeleteFunc(c.procs, func(p *process) bool { return p == old })
	select {
	case <-time.After(down):
	case <-ctx.Done():
		return ctx.Err()
	}
	_ = os.Rename(old.log, old.log+".before-restart")
	return nil
}

// Stop stops every process (SIGTERM, SIGKILL after 10 s) and removes Dir if
// Start created it. It is safe to call more than once; for an external
// cluster it does nothing.
func (c *Cluster) Stop() error {
	if c == nil || c.external {
		return nil
	}
	c.stopOnce.Do(func() {
		c.stopErr = stopAll(c.procs)
		switch {
		case c.stopErr != nil:
		case c.ownsDir:
			c.stopErr = os.RemoveAll(c.Dir)
		default:
			c.stopErr = os.Remove(filepath.Join(c.Dir, "pids"))
			if errors.Is(c.stopErr, os.ErrNotExist) {
				c.stopErr = nil
			}
		}
	})
	return c.stopErr
}

// Attach returns the cluster that `localcluster up --dir dir` started.
// Its Stop stops that cluster.
func Attach(dir string) (*Cluster, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	procs, err := readPIDs(dir)
	if err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	cfg, err := loadConfig(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubetest: no cluster in %s: %w", dir, err)
	}
	return &Cluster{Dir: dir, Kubeconfig: kubeconfig, Config: cfg, procs: procs}, nil
}

// StopDir stops the cluster recorded in dir's pids file; the directory
// (logs, kubeconfig) stays.
func StopDir(dir string) error {
	procs, err := readPIDs(dir)
	if err != nil {
		return err
	}
	return (&Cluster{Dir: dir, procs: procs}).Stop()
}

// FromEnv returns the cluster for a test run. With
// MESH_TEST_EXTERNAL_CLUSTER=1 it uses the cluster KUBECONFIG names (a
// running `localcluster up`, a kind cluster, ...), installing the CRDs there
// too (server-side apply: a no-op when present); Stop then leaves it alone.
// Otherwise it starts a new local cluster.
func FromEnv(ctx context.Context) (*Cluster, error) {
	if os.Getenv("MESH_TEST_EXTERNAL_CLUSTER") != "1" {
		return Start(ctx, Options{})
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubetest: MESH_TEST_EXTERNAL_CLUSTER=1 but no usable kubeconfig: %w", err)
	}
	tune(cfg)
	c := &Cluster{Kubeconfig: firstOf(rules.GetLoadingPrecedence()), Config: cfg, external: true}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	src, err := loadCRDSources(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	v, err := cs.Discovery().ServerVersion()
	if err == nil {
		err = installCRDs(ctx, cfg, src, v)
	}
	if err != nil {
		return nil, &ComponentError{Component: "external cluster", Err: err}
	}
	return c, nil
}

func loadConfig(kubeconfig string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	tune(cfg)
	return cfg, nil
}

// tune lifts client-go's default 5 QPS limit, which would serialise the
// parallel CRD applies and slow every test; this is a test cluster.
func tune(cfg *rest.Config) {
	cfg.QPS, cfg.Burst = 200, 400
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// async runs f in the background; the returned func waits for its result.
func async[T any](f func() (T, error)) func() (T, error) {
	var (
		v   T
		err error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		v, err = f()
	}()
	return func() (T, error) {
		<-done
		return v, err
	}
}
