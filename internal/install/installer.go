package install

import (
	"context"
	"fmt"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Options configure an Installer.
type Options struct {
	// CacheDir keeps downloaded chart archives by repository, name and
	// version. "" keeps them in memory for the Installer's lifetime only.
	CacheDir string
	// Log receives Helm's debug output; nil discards it.
	Log func(string)
	// BoundRetries, when set, bounds the retries of the requests Helm's
	// kube client sends (they carry no deadline) at until, from now until
	// release; move changes the bound. Apply bounds them at its deadline
	// and then waits for Helm's work to end, so that a rollback never races
	// an upgrade Helm is still carrying out in the background (Helm's
	// RunWithContext returns at the deadline but leaves that work running).
	BoundRetries func(until time.Time) (move func(time.Time), release func())
}

// Installer runs Helm in-process against one cluster.
type Installer struct {
	cfg    *rest.Config
	opts   Options
	disc   discovery.CachedDiscoveryInterface
	mapper meta.RESTMapper
	dyn    dynamic.Interface
	cs     kubernetes.Interface

	mu       sync.Mutex
	configs  map[string]*action.Configuration // by namespace
	archives map[string][]byte                // chart archives by cacheKey
	indexes  map[string][]byte                // index.yaml by repository
	version  string                           // the server's gitVersion once read
}

// New returns an Installer for cfg. Helm's release records are Secrets in
// each release's namespace (the "secret" driver, Helm's default), so helm
// list sees them.
func New(cfg *rest.Config, opts Options) (*Installer, error) {
	cfg = rest.CopyConfig(cfg)
	// API warnings (deprecated fields in a chart) go to Log, not klog.
	cfg.WarningHandler = warningLog(opts.Log)
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disc := memory.NewMemCacheClient(dc)
	return &Installer{
		cfg: cfg, opts: opts, disc: disc, dyn: dyn, cs: cs,
		mapper:   restmapper.NewDeferredDiscoveryRESTMapper(disc),
		configs:  map[string]*action.Configuration{},
		archives: map[string][]byte{},
		indexes:  map[string][]byte{},
	}, nil
}

// KubernetesVersion returns the server's version, e.g. "v1.34.2". It is
// read once per Installer.
func (i *Installer) KubernetesVersion(ctx context.Context) (string, error) {
	i.mu.Lock()
	v := i.version
	i.mu.Unlock()
	if v != "" {
		return v, nil
	}
	info, err := i.cs.Discovery().ServerVersion()
	if err != nil {
		return "", fmt.Errorf("read the Kubernetes version: %w", err)
	}
	i.mu.Lock()
	i.version = info.GitVersion
	i.mu.Unlock()
	return info.GitVersion, nil
}

// actionConfig returns the Helm configuration for releases in namespace.
func (i *Installer) actionConfig(namespace string) (*action.Configuration, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if c, ok := i.configs[namespace]; ok {
		return c, nil
	}
	c := new(action.Configuration)
	getter := &restGetter{cfg: i.cfg, namespace: namespace, disc: i.disc, mapper: i.mapper}
	if err := c.Init(getter, namespace, "secret", i.helmLog); err != nil {
		return nil, err
	}
	i.configs[namespace] = c
	return c, nil
}

func (i *Installer) helmLog(format string, v ...any) {
	if i.opts.Log != nil {
		i.opts.Log(fmt.Sprintf(format, v...))
	}
}

// restGetter hands Helm the Installer's rest.Config: no kubeconfig file is
// read, and the namespace is the release's.
type restGetter struct {
	cfg       *rest.Config
	namespace string
	disc      discovery.CachedDiscoveryInterface
	mapper    meta.RESTMapper
}

var _ genericclioptions.RESTClientGetter = (*restGetter)(nil)

func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.disc, nil
}

func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) { return g.mapper, nil }

func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(clientcmdapi.Config{},
		&clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.namespace}})
}

// warningLog routes API server warnings to log (or drops them).
type warningLog func(string)

func (w warningLog) HandleWarningHeader(code int, agent, text string) {
	if w != nil && code == 299 && text != "" {
		w("warning: " + text)
	}
}
