package kube

import (
	"context"
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// countingMapper is a static RESTMapper that counts the lookups and resets
// that reach it.
type countingMapper struct {
	meta.RESTMapper
	lookups, resets int
}

func (c *countingMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	c.lookups++
	return c.RESTMapper.RESTMapping(gk, versions...)
}

func (c *countingMapper) Reset() { c.resets++ }

func TestMappingsAreKeptUntilAResetAndMissesAreNot(t *testing.T) {
	vs := schema.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService"}
	static := meta.NewDefaultRESTMapper(nil)
	static.Add(vs, meta.RESTScopeNamespace)
	mapper := &countingMapper{RESTMapper: static}
	m := &Manager{mapper: mapper}
	ctx := context.Background()
	id := ID{Group: vs.Group, Version: vs.Version, Kind: vs.Kind, Namespace: "ns", Name: "a"}

	for range 3 {
		mapping, err := m.mapping(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if mapping.Resource.Resource != "virtualservices" {
			t.Fatalf("resource = %v", mapping.Resource)
		}
	}
	if mapper.lookups != 1 {
		t.Errorf("three mappings of one kind asked the mapper %d times; want once", mapper.lookups)
	}

	// A kind the cluster does not serve: a miss resets discovery, which
	// must also drop what was kept, and is itself never kept.
	missing := ID{Group: "example.com", Version: "v1", Kind: "Missing", Namespace: "ns", Name: "a"}
	for range 2 {
		var unknown *UnknownKindError
		if _, err := m.mapping(ctx, missing); !errors.As(err, &unknown) {
			t.Fatalf("err = %v; want an UnknownKindError", err)
		}
	}
	if mapper.resets != 1 {
		t.Errorf("resets = %d; want 1 (at most one a second)", mapper.resets)
	}
	before := mapper.lookups
	if _, err := m.mapping(ctx, id); err != nil {
		t.Fatal(err)
	}
	if mapper.lookups != before+1 {
		t.Errorf("after a reset, the known kind asked the mapper %d times; want once more", mapper.lookups-before)
	}
}
