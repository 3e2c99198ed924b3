package provider

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// Environment variables read when the matching attribute is not set.
const (
	envKubeconfig   = "MESH_KUBECONFIG"
	envContext      = "MESH_KUBECONFIG_CONTEXT"
	envHost         = "MESH_HOST"
	envToken        = "MESH_TOKEN"
	envCA           = "MESH_CLUSTER_CA_CERTIFICATE"
	envClientCert   = "MESH_CLIENT_CERTIFICATE"
	envClientKey    = "MESH_CLIENT_KEY"
	envInsecure     = "MESH_INSECURE"
	envTarget       = "MESH_TARGET"
	envFieldManager = "MESH_FIELD_MANAGER"
)

// readCache bounds how long the reads of a run may share one List.
const readCache = 30 * time.Second

// providerData is what resources receive from Configure. The API client is
// built on first use, so that provider start-up and plans that need no
// cluster stay free of network traffic.
type providerData struct {
	target mesh.Target
	// targetUnknown: the provider's target is not known until apply.
	targetUnknown bool
	// deferred is set when the connection is not known at plan time (a cluster
	// created in the same apply); cluster checks then wait for apply.
	deferred string
	// configErr is a connection problem found at Configure that only matters
	// once a resource needs the cluster (e.g. no kubeconfig at all).
	configErr  error
	restConfig *rest.Config
	opts       kube.Options

	once    sync.Once
	manager *kube.Manager
	err     error
}

// Manager returns the shared engine, building it on first use.
func (d *providerData) Manager() (*kube.Manager, error) {
	if d.deferred != "" {
		return nil, errors.New(d.deferred)
	}
	if d.configErr != nil {
		return nil, d.configErr
	}
	d.once.Do(func() { d.manager, d.err = kube.New(d.restConfig, d.opts) })
	return d.manager, d.err
}

// newProviderData resolves the provider block plus its environment fallbacks.
func newProviderData(ctx context.Context, cfg providerModel, getenv func(string) string, diags *diag.Diagnostics) *providerData {
	d := &providerData{opts: kube.DefaultOptions()}
	d.opts.OwnerLabel, d.opts.CommittedLabel, d.opts.CreateIDAnnotation = mesh.LabelOwner, mesh.LabelCommitted, mesh.AnnotationCreateID
	if unknown := unknownConnectionAttrs(cfg); len(unknown) > 0 {
		d.deferred = fmt.Sprintf("the provider's %s is not known until apply", strings.Join(unknown, ", "))
	}
	d.target = mesh.Target(stringOr(cfg.Target, getenv(envTarget)))
	d.targetUnknown = cfg.Target.IsUnknown()
	if d.target != "" && !validTarget(d.target) {
		diags.AddAttributeError(path.Root("target"), "Invalid provider target",
			fmt.Sprintf("%s=%q is not one of %s.", envTarget, d.target, targetList()))
	}
	// One provider process serves one terraform command: a refresh of many
	// resources shares a List per kind and namespace (kube.Options.ReadCache).
	d.opts.ReadCache = readCache
	d.opts.FieldManager = stringOr(cfg.FieldManager, getenv(envFieldManager), kube.DefaultFieldManager)
	if !cfg.QPS.IsNull() && !cfg.QPS.IsUnknown() {
		d.opts.QPS = float32(cfg.QPS.ValueFloat64())
	}
	if !cfg.Burst.IsNull() && !cfg.Burst.IsUnknown() {
		d.opts.Burst = int(cfg.Burst.ValueInt64())
	}
	if d.opts.QPS <= 0 || d.opts.Burst <= 0 {
		diags.AddAttributeError(path.Root("qps"), "Invalid client rate limit",
			fmt.Sprintf("qps (%v) and burst (%d) must both be positive.", d.opts.QPS, d.opts.Burst))
	}
	if d.deferred != "" {
		return d
	}
	d.restConfig, d.configErr = restConfig(cfg, getenv, diags)
	return d
}

func unknownConnectionAttrs(cfg providerModel) []string {
	attrs := map[string]interface{ IsUnknown() bool }{
		"kubeconfig_path": cfg.KubeconfigPath, "kubeconfig_context": cfg.KubeconfigContext,
		"host": cfg.Host, "token": cfg.Token, "cluster_ca_certificate": cfg.ClusterCACertificate,
		"client_certificate": cfg.ClientCertificate, "client_key": cfg.ClientKey, "insecure": cfg.Insecure,
	}
	var unknown []string
	for _, name := range sortedKeys(attrs) {
		if attrs[name].IsUnknown() {
			unknown = append(unknown, name)
		}
	}
	return unknown
}

// restConfig returns the client configuration. Attribute errors go to diags;
// the returned error is a problem that only matters once a resource needs
// the cluster.
func restConfig(cfg providerModel, getenv func(string) string, diags *diag.Diagnostics) (*rest.Config, error) {
	if host := stringOr(cfg.Host, getenv(envHost)); host != "" {
		return explicitConfig(cfg, host, getenv, diags), nil
	}
	return kubeconfigConfig(cfg, getenv, diags)
}

func explicitConfig(cfg providerModel, host string, getenv func(string) string, diags *diag.Diagnostics) *rest.Config {
	rc := &rest.Config{
		Host:        host,
		BearerToken: stringOr(cfg.Token, getenv(envToken)),
	}
	rc.TLSClientConfig.Insecure = boolOr(cfg.Insecure, getenv(envInsecure), diags)
	if ca := stringOr(cfg.ClusterCACertificate, getenv(envCA)); ca != "" {
		if !x509.NewCertPool().AppendCertsFromPEM([]byte(ca)) {
			diags.AddAttributeError(path.Root("cluster_ca_certificate"), "Invalid CA certificate",
				"cluster_ca_certificate holds no PEM certificate. Pass the CA bundle itself (e.g. base64decode of a kubeconfig's certificate-authority-data), not a path.")
		}
		rc.TLSClientConfig.CAData = []byte(ca)
	}
	cert, key := stringOr(cfg.ClientCertificate, getenv(envClientCert)), stringOr(cfg.ClientKey, getenv(envClientKey))
	if (cert == "") != (key == "") {
		diags.AddAttributeError(path.Root("client_key"), "Incomplete client certificate",
			"client_certificate and client_key must be set together.")
	}
	rc.TLSClientConfig.CertData, rc.TLSClientConfig.KeyData = []byte(cert), []byte(key)
	return rc
}

func kubeconfigConfig(cfg providerModel, getenv func(string) string, diags *diag.Diagnostics) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	explicit := stringOr(cfg.KubeconfigPath, getenv(envKubeconfig))
	if explicit != "" {
		explicit = expandHome(explicit)
		if _, err := os.Stat(explicit); err != nil {
			diags.AddAttributeError(path.Root("kubeconfig_path"), "Kubeconfig not found",
				fmt.Sprintf("kubeconfig_path %q cannot be read: %v. Point it at an existing kubeconfig file, or set host instead.", explicit, err))
			return nil, nil
		}
		rules.ExplicitPath = explicit
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: stringOr(cfg.KubeconfigContext, getenv(envContext))}
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	switch {
	case err == nil:
		return rc, nil
	case overrides.CurrentContext != "" && strings.Contains(err.Error(), "context"):
		diags.AddAttributeError(path.Root("kubeconfig_context"), "Kubeconfig context not found",
			fmt.Sprintf("kubeconfig_context %q: %v. List the contexts with `kubectl config get-contexts`.", overrides.CurrentContext, err))
		return nil, nil
	case explicit != "":
		diags.AddAttributeError(path.Root("kubeconfig_path"), "Invalid kubeconfig",
			fmt.Sprintf("kubeconfig_path %q: %v.", explicit, err))
		return nil, nil
	}
	return nil, fmt.Errorf("no cluster connection is configured (%v)", err)
}

func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}

// stringOr returns the attribute's value when set, else the first non-empty
// fallback.
func stringOr(v types.String, fallbacks ...string) string {
	if !v.IsNull() && !v.IsUnknown() {
		return v.ValueString()
	}
	for _, f := range fallbacks {
		if f != "" {
			return f
		}
	}
	return ""
}

func boolOr(v types.Bool, env string, diags *diag.Diagnostics) bool {
	if !v.IsNull() && !v.IsUnknown() {
		return v.ValueBool()
	}
	if env == "" {
		return false
	}
	b, err := strconv.ParseBool(env)
	if err != nil {
		diags.AddAttributeError(path.Root("insecure"), "Invalid "+envInsecure, fmt.Sprintf("%s=%q is not a boolean.", envInsecure, env))
	}
	return b
}
