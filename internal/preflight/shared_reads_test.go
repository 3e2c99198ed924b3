package preflight

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// TestPolicyChecksShareTheRunsReads checks that the mTLS and authorization
// checks of many resources in one namespace read the cluster once per kind
// and namespace (the provider's shared read cache), not once per resource,
// and still find what they look for.
func TestPolicyChecksShareTheRunsReads(t *testing.T) {
	ns := kubetest.Namespace(t, cluster.Config, map[string]string{"istio-injection": "enabled"})
	kubetest.Service(t, cluster.Config, ns, "web", map[string]string{"app": "web"}, 8080)
	kubetest.Deployment(t, cluster.Config, ns, "web", map[string]string{"app": "web"}, 1)

	opts := kube.DefaultOptions()
	opts.ReadCache = time.Minute
	m, err := kube.New(cluster.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run := func(i int) mesh.Problems {
		t.Helper()
		p := mtlsPolicy(ns, mesh.TargetIstioSidecar, mesh.MTLSScopeWorkload, mesh.MTLSPermissive)
		p.Name = fmt.Sprintf("web-mtls-%d", i)
		problems, err := MTLSPolicy(ctx, m, p, nil)
		if err != nil {
			t.Fatalf("mTLS checks did not run: %v", err)
		}
		a := authzOrdersPolicy(ns, mesh.TargetIstioSidecar, mesh.AuthzWorkload{Service: "web"})
		a.Name = fmt.Sprintf("web-allow-%d", i)
		c, ps, err := ResolveAuthorization(ctx, m, a)
		if err != nil {
			t.Fatalf("authorization lookups did not run: %v", err)
		}
		problems = append(problems, ps...)
		a.Cluster = c
		ps, err = Authorization(ctx, m, a, nil)
		if err != nil {
			t.Fatalf("authorization checks did not run: %v", err)
		}
		return append(problems, ps...)
	}

	if got := run(0); len(got) != 0 {
		t.Fatalf("findings for valid policies: %+v", got)
	}
	first := m.Requests()
	for i := 1; i <= 20; i++ {
		if got := run(i); len(got) != 0 {
			t.Fatalf("findings for valid policies (%d): %+v", i, got)
		}
	}
	if extra := m.Requests() - first; extra != 0 {
		t.Errorf("20 more policies in the same namespace sent %d more requests, want 0 (the first sent %d)", extra, first)
	}

	// A selector that matches no pods is still found from the shared reads.
	a := authzOrdersPolicy(ns, mesh.TargetIstioSidecar, mesh.AuthzWorkload{Selector: map[string]string{"app": "payments"}})
	ps, err := Authorization(ctx, m, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	expectOnly(t, ps, "MESH-AUTHZ-018", mesh.SeverityWarning, "[target]", "app=payments")
}
