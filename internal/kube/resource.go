package kube

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/dynamic"
)

// resourceFor returns the dynamic client for id's kind and namespace.
func (m *Manager) resourceFor(ctx context.Context, id ID) (dynamic.ResourceInterface, error) {
	mapping, err := m.mapping(ctx, id)
	if err != nil {
		return nil, err
	}
	if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		return m.dynamic.Resource(mapping.Resource), nil
	}
	if id.Namespace == "" {
		return nil, &ObjectError{ID: id, Op: "map", Err: fmt.Errorf("%s is namespaced but the object has no metadata.namespace", id.Kind)}
	}
	return m.dynamic.Resource(mapping.Resource).Namespace(id.Namespace), nil
}

// mapping resolves id's kind through discovery. The discovery cache is reset
// on a miss, because the CRD may have been installed after it was filled (in
// the same terraform apply, by a mesh_install) — but at most once a second,
// so that a plan over many resources of a kind the cluster lacks does not
// rediscover the whole API once per resource.
//
// Found mappings are kept for the Manager's life: the mapper works each
// answer out anew (its allocations were a tenth of a plan's cluster checks),
// and a kind's resource and scope do not change while it is served. A reset
// drops them with the discovery cache.
func (m *Manager) mapping(ctx context.Context, id ID) (*meta.RESTMapping, error) {
	gvk := id.GroupVersionKind()
	if known, ok := m.mappings.Load(gvk); ok {
		return known.(*meta.RESTMapping), nil
	}
	var mapping *meta.RESTMapping
	lookup := func() (err error) {
		mapping, err = m.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		return err
	}
	err := lookup()
	if meta.IsNoMatchError(err) && m.mayRediscover() {
		m.mapper.Reset()
		m.mappings.Clear()
		err = lookup()
	}
	switch {
	case meta.IsNoMatchError(err):
		return nil, &UnknownKindError{ID: id, Err: err}
	case err != nil:
		return nil, &ObjectError{ID: id, Op: "discover", Err: err}
	}
	m.mappings.Store(gvk, mapping)
	return mapping, nil
}

// rediscoverEvery bounds how often a miss resets the discovery cache.
const rediscoverEvery = time.Second

func (m *Manager) mayRediscover() bool {
	now := time.Now().UnixNano()
	last := m.lastRediscovery.Load()
	return now-last >= int64(rediscoverEvery) && m.lastRediscovery.CompareAndSwap(last, now)
}
