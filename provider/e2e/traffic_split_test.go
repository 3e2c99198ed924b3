package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"github.com/meshform/terraform-provider-mesh/sdk/go/mesh"
)

var (
	virtualServices     = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"}
	destinationRules    = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "destinationrules"}
	authorizationPolicy = schema.GroupVersionResource{Group: "security.istio.io", Version: "v1", Resource: "authorizationpolicies"}
)

// canary is the program: a traffic split at the given weights and an
// authorization that lets only the frontend call reviews. The frontend's
// identity is built from the split's ID, an Output that is unknown until
// the split is created: a list element known only at apply, as real
// programs build them from other resources.
func canary(ns string, v1, v2 *int) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		split, err := mesh.NewTrafficSplit(ctx, "reviews", &mesh.TrafficSplitArgs{
			Name:      pulumi.String("reviews-split"),
			Namespace: pulumi.String(ns),
			Service:   pulumi.String("reviews"),
			Port:      pulumi.Int(9080),
			Backends: mesh.TrafficSplitBackendArray{
				mesh.TrafficSplitBackendArgs{SubsetLabels: pulumi.StringMap{"version": pulumi.String("v1")}, Weight: pulumi.Int(*v1)},
				mesh.TrafficSplitBackendArgs{SubsetLabels: pulumi.StringMap{"version": pulumi.String("v2")}, Weight: pulumi.Int(*v2)},
			},
		})
		if err != nil {
			return err
		}
		_, err = mesh.NewAuthorization(ctx, "reviews", &mesh.AuthorizationArgs{
			Name:      pulumi.String("reviews-allow-frontend"),
			Namespace: pulumi.String(ns),
			Target:    mesh.AuthorizationTargetArgs{WorkloadSelector: pulumi.StringMap{"app": pulumi.String("reviews")}},
			Rules: mesh.AuthorizationRuleArray{mesh.AuthorizationRuleArgs{
				Froms: mesh.AuthorizationRuleFromArray{mesh.AuthorizationRuleFromArgs{
					ServiceAccounts: pulumi.StringArray{split.ID().ApplyT(func(pulumi.ID) string { return ns + "/frontend" }).(pulumi.StringOutput)},
				}},
			}},
		})
		if err != nil {
			return err
		}
		ctx.Export("manifests", split.Manifests)
		return nil
	}
}

// TestTrafficSplitAndAuthorizationLifecycle runs up, a weight change through
// preview and up, a rejected preview and destroy, and checks the cluster at
// each step.
func TestTrafficSplitAndAuthorizationLifecycle(t *testing.T) {
	ctx := context.Background()
	ns := kubetest.Namespace(t, cluster.Config, map[string]string{"istio-injection": "enabled"})
	kubetest.Service(t, cluster.Config, ns, "reviews", map[string]string{"app": "reviews"}, 9080)
	for _, v := range []string{"v1", "v2"} {
		kubetest.Deployment(t, cluster.Config, ns, "reviews-"+v, map[string]string{"app": "reviews", "version": v}, 1)
	}
	dyn := dynamic.NewForConfigOrDie(cluster.Config)

	v1, v2 := 90, 10
	stack := newPulumiEnv(t).stack(t, canary(ns, &v1, &v2))
	t.Cleanup(func() { _, _ = stack.Destroy(ctx) })

	// The first preview: the authorization's service account is unknown.
	var log strings.Builder
	if _, err := stack.Preview(ctx, optpreview.ProgressStreams(&log)); err != nil {
		t.Fatalf("preview with a list element known only at apply: %v\n%s", err, log.String())
	}
	log.Reset()
	up, err := stack.Up(ctx, optup.ProgressStreams(&log))
	if err != nil {
		t.Fatalf("up: %v\n%s", err, log.String())
	}
	if !strings.Contains(fmt.Sprint(up.Outputs["manifests"].Value), "weight: 10") {
		t.Errorf("exported manifests lack the v2 weight: %v", up.Outputs["manifests"].Value)
	}
	assertWeights(t, dyn, ns, 90, 10)
	get(t, dyn, destinationRules, ns, "reviews-split")
	policy := get(t, dyn, authorizationPolicy, ns, "reviews-allow-frontend")
	if got := fmt.Sprint(policy.Object["spec"]); !strings.Contains(got, "serviceAccounts:["+ns+"/frontend]") {
		t.Errorf("AuthorizationPolicy spec does not allow the frontend's identity: %s", got)
	}

	// A weight change: preview shows the manifest line that changes.
	v1, v2 = 80, 20
	log.Reset()
	preview, err := stack.Preview(ctx, optpreview.Diff(), optpreview.ProgressStreams(&log))
	if err != nil {
		t.Fatalf("preview: %v\n%s", err, log.String())
	}
	if got := preview.ChangeSummary[apitype.OpUpdate]; got != 1 {
		t.Errorf("preview: %d updates, want 1 (the traffic split):\n%s", got, preview.StdOut)
	}
	// Pulumi shows the YAML of each manifest as a structured diff.
	_, manifests, _ := strings.Cut(preview.StdOut, "~ manifests:")
	if !regexp.MustCompile(`~ weight\s*: 10 => 20`).MatchString(manifests) {
		t.Errorf("preview --diff does not show the manifest's weight going 10 => 20:\n%s", preview.StdOut)
	}
	log.Reset()
	if _, err := stack.Up(ctx, optup.ProgressStreams(&log)); err != nil {
		t.Fatalf("up (80/20): %v\n%s", err, log.String())
	}
	assertWeights(t, dyn, ns, 80, 20)

	// Bad input fails preview with the Terraform provider's own message.
	v1, v2 = 60, 50
	log.Reset()
	_, err = stack.Preview(ctx, optpreview.ProgressStreams(&log))
	if err == nil {
		t.Fatalf("preview accepted weights summing to 110:\n%s", log.String())
	}
	// The summary and detail of Terraform's diagnostic for the same config
	// (internal/provider's validation tests assert it for terraform).
	for _, want := range []string{
		"MESH-TS-001: weights must sum to 100",
		`backends weights in rule backends sum to 110; they must sum to 100 (set weight_semantics = "relative" to use proportional weights).`,
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("preview error does not carry %q:\n%s", want, log.String())
		}
	}
	assertWeights(t, dyn, ns, 80, 20)

	v1, v2 = 80, 20
	log.Reset()
	if _, err := stack.Destroy(ctx, optdestroy.ProgressStreams(&log)); err != nil {
		t.Fatalf("destroy: %v\n%s", err, log.String())
	}
	for _, obj := range []struct {
		gvr  schema.GroupVersionResource
		name string
	}{{virtualServices, "reviews-split"}, {destinationRules, "reviews-split"}, {authorizationPolicy, "reviews-allow-frontend"}} {
		_, err := dyn.Resource(obj.gvr).Namespace(ns).Get(ctx, obj.name, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("after destroy, %s %s/%s: err = %v, want NotFound", obj.gvr.Resource, ns, obj.name, err)
		}
	}
}

func assertWeights(t *testing.T, dyn dynamic.Interface, ns string, v1, v2 int64) {
	t.Helper()
	vs := get(t, dyn, virtualServices, ns, "reviews-split")
	routes, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	if len(routes) == 0 {
		t.Fatalf("VirtualService has no http routes: %v", vs.Object["spec"])
	}
	last := routes[len(routes)-1].(map[string]any)
	var got []int64
	for _, r := range last["route"].([]any) {
		w, _, _ := unstructured.NestedInt64(r.(map[string]any), "weight")
		got = append(got, w)
	}
	if fmt.Sprint(got) != fmt.Sprint([]int64{v1, v2}) {
		t.Errorf("VirtualService weights = %v, want [%d %d]", got, v1, v2)
	}
}

func get(t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	obj, err := dyn.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s %s/%s: %v", gvr.Resource, ns, name, err)
	}
	return obj
}
