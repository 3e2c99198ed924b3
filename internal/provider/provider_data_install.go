package provider

import (
	"errors"

	"k8s.io/client-go/rest"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
)

// RESTConfig returns the cluster connection for clients other than the
// shared engine (mesh_install's Helm-based installer), with the same
// deferral and configuration errors as Manager. Requests without a
// deadline of their own (Helm's) stop retrying at what bounds holds.
func (d *providerData) RESTConfig(bounds *kube.RetryBounds) (*rest.Config, error) {
	if d.deferred != "" {
		return nil, errors.New(d.deferred)
	}
	if d.configErr != nil {
		return nil, d.configErr
	}
	if d.restConfig == nil {
		return nil, errors.New("no cluster connection is configured")
	}
	// Helm's requests retry as the engine's do.
	return kube.WithRetriesBounded(d.restConfig, bounds), nil
}
