package provider

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
)

// A cluster that does not answer is blamed on the configuration only when
// the provider never reached it; an outage says how long it was retried,
// and a missing permission names what is missing.
func TestClusterUnavailableBlamesOnlyWhatIsAtFault(t *testing.T) {
	gr := schema.GroupResource{Group: "networking.istio.io", Resource: "virtualservices"}
	for _, tc := range []struct {
		name          string
		err           error
		summary       string
		want, notWant []string
	}{
		{"outage", &kube.OutageError{Method: "PATCH", URL: "/apis/x", Attempts: 9, Duration: 31 * time.Second, Reached: true, Err: syscall.ECONNREFUSED},
			"Kubernetes API server unreachable", []string{"did not answer PATCH /apis/x for 31s (9 attempts)", "connection settings are not in question"}, []string{"kubeconfig_path"}},
		{"never reached", &kube.OutageError{Method: "GET", URL: "/api", Attempts: 4, Duration: 15 * time.Second, Err: syscall.ECONNREFUSED},
			"Kubernetes cluster unavailable", []string{"did not answer GET /api for 15s", "kubeconfig_path"}, nil},
		{"forbidden", apierrors.NewForbidden(gr, "reviews", errors.New(`User "ci" cannot patch resource "virtualservices" in API group "networking.istio.io" in the namespace "shop"`)),
			"Permission denied", []string{`cannot patch resource "virtualservices"`, `namespace "shop"`, "examples/rbac", "docs/guides/least-privilege.md"}, []string{"kubeconfig_path"}},
		{"no configuration", errors.New("no cluster connection is configured"), "Kubernetes cluster unavailable", []string{"kubeconfig_path"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var diags diag.Diagnostics
			clusterUnavailable(&diags, tc.err)
			if len(diags) != 1 || diags[0].Summary() != tc.summary {
				t.Fatalf("diagnostics %v; want one %q", diags, tc.summary)
			}
			for _, w := range tc.want {
				if !strings.Contains(diags[0].Detail(), w) {
					t.Errorf("detail %q lacks %q", diags[0].Detail(), w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(diags[0].Detail(), w) {
					t.Errorf("detail %q blames %q", diags[0].Detail(), w)
				}
			}
		})
	}
}

// At plan, an outage defers the cluster checks to apply (a warning); a
// missing permission fails the plan, since apply would be refused too.
func TestClusterChecksSkippedOnlyForOutages(t *testing.T) {
	gr := schema.GroupResource{Resource: "pods"}
	var diags diag.Diagnostics
	clusterChecksSkipped(&diags, &kube.OutageError{Method: "GET", URL: "/api/v1/pods", Attempts: 3, Duration: time.Second, Reached: true, Err: syscall.ECONNRESET})
	if len(diags) != 1 || diags[0].Severity() != diag.SeverityWarning || !strings.Contains(diags[0].Summary(), "cluster checks skipped") {
		t.Errorf("outage: %v", diags)
	}
	diags = nil
	forbidden := apierrors.NewForbidden(gr, "", errors.New(`User "ci" cannot list resource "pods" in API group "" at the cluster scope`))
	clusterChecksSkipped(&diags, fmt.Errorf("listing pods: %w", forbidden))
	if len(diags) != 1 || diags[0].Severity() != diag.SeverityError || diags[0].Summary() != "Permission denied" ||
		!strings.Contains(diags[0].Detail(), `cannot list resource "pods"`) {
		t.Errorf("forbidden: %v", diags)
	}
}

// A refused write says "Permission denied" and where the roles are; other
// failures keep their message as the engine wrote it.
func TestApplyFailedNamesAMissingPermission(t *testing.T) {
	gr := schema.GroupResource{Group: "networking.istio.io", Resource: "virtualservices"}
	forbidden := apierrors.NewForbidden(gr, "reviews", errors.New(`User "ci" cannot patch resource "virtualservices" in API group "networking.istio.io" in the namespace "shop"`))
	var diags diag.Diagnostics
	applyFailed(&diags, "mesh_traffic_split shop/reviews", fmt.Errorf("apply VirtualService/shop/reviews: %w", forbidden))
	if len(diags) != 1 || diags[0].Summary() != "Permission denied: Apply failed" ||
		!strings.Contains(diags[0].Detail(), `in the namespace "shop". The identity the provider authenticates as lacks this permission`) ||
		!strings.Contains(diags[0].Detail(), "examples/rbac") {
		t.Errorf("forbidden: %v", diags)
	}
	diags = nil
	applyFailed(&diags, "mesh_traffic_split shop/reviews", errors.New("apply VirtualService/shop/reviews: the webhook is down."))
	if len(diags) != 1 || diags[0].Summary() != "Apply failed" || diags[0].Detail() != "mesh_traffic_split shop/reviews: apply VirtualService/shop/reviews: the webhook is down." {
		t.Errorf("other failure: %q %q", diags[0].Summary(), diags[0].Detail())
	}
}
