package kube

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// apfLevel is the priority level both test identities share: one share (of
// the server's seats, one seat here), nothing lent or borrowed, and no
// queue, so that a request that finds its seat taken is rejected with 429
// at once.
const apfLevel = "mesh-test-tight"

// TestFaultPriorityAndFairnessRejections applies the set through real API
// Priority and Fairness 429s: a cluster of the test's own with APF on, the
// engine running as a ServiceAccount whose FlowSchema maps it to a priority
// level of a few seats with no queue, and a second ServiceAccount on the
// same level keeping those seats busy. The API server's own count of the
// requests it rejected for the engine's FlowSchema (its
// apiserver_flowcontrol_rejected_requests_total metric, read as the admin)
// shows that the engine's requests were really refused; the apply must
// still succeed, with the whole set at v2.
func TestFaultPriorityAndFairnessRejections(t *testing.T) {
	if cluster == nil {
		t.Skip("integration test: needs the test cluster (run without -short)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	// 20 seats in all: the test's level (1 share of about 250) gets one.
	c, err := kubetest.Start(ctx, kubetest.Options{PriorityAndFairness: true, MaxRequestsInflight: 10})
	if err != nil {
		t.Fatalf("start a cluster with priority and fairness on: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	admin, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	engine := apfIdentity(t, ctx, c, admin, "engine")
	load := apfIdentity(t, ctx, c, admin, "load")
	if _, err := admin.FlowcontrolV1().PriorityLevelConfigurations().Create(ctx, &flowcontrolv1.PriorityLevelConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: apfLevel},
		Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementLimited, Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{
			NominalConcurrencyShares: ptr(int32(1)), LendablePercent: ptr(int32(0)), BorrowingLimitPercent: ptr(int32(0)),
			LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeReject},
		}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"engine", "load"} {
		if _, err := admin.FlowcontrolV1().FlowSchemas().Create(ctx, &flowcontrolv1.FlowSchema{
			ObjectMeta: metav1.ObjectMeta{Name: "mesh-test-" + name},
			Spec: flowcontrolv1.FlowSchemaSpec{
				PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: apfLevel},
				MatchingPrecedence:         500, // before the built-in service-accounts schema (9000)
				DistinguisherMethod:        &flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByUserType},
				Rules: []flowcontrolv1.PolicyRulesWithSubjects{{
					Subjects: []flowcontrolv1.Subject{{Kind: flowcontrolv1.SubjectKindServiceAccount,
						ServiceAccount: &flowcontrolv1.ServiceAccountSubject{Namespace: "mesh-system", Name: name}}},
					ResourceRules: []flowcontrolv1.ResourcePolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"},
						ClusterScope: true, Namespaces: []string{"*"}}},
				}},
			},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	other, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.OwnerLabel, opts.CommittedLabel, opts.CreateIDAnnotation = mesh.LabelOwner, mesh.LabelCommitted, mesh.AnnotationCreateID
	m, err := New(engine, opts)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, ns: kubetest.Namespace(t, c.Config, nil), owner: mesh.Owner("mesh_traffic_split", "test", "reviews"), m: m, other: other}
	v1, v2 := e.revisions()
	e.apply(v1, nil)

	// The configuration takes effect once the API server's APF controller
	// has seen it: wait until the load itself is being rejected.
	stop := keepSeatsBusy(t, load, e.ns)
	defer stop()
	before := rejected(t, ctx, admin, "mesh-test-engine")
	for deadline := time.Now().Add(time.Minute); rejected(t, ctx, admin, "mesh-test-load") == 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the API server rejected none of the load's requests in a minute: the priority level is not in effect")
		}
	}
	for round := 1; ; round++ {
		from, to := v1, v2
		if round%2 == 0 {
			from, to = v2, v1
		}
		if _, err := e.m.Apply(ctx, to, e.opts(from)); err != nil {
			t.Fatalf("Apply through priority-and-fairness rejections (round %d): %v", round, err)
		}
		e.wantAt("the applied revision", to, from)
		got := rejected(t, ctx, admin, "mesh-test-engine") - before
		t.Logf("round %d: the API server rejected %d of the engine's requests", round, got)
		if got > 0 {
			break
		}
		if round == 20 {
			t.Fatal("twenty applies and the API server rejected none of the engine's requests: the test cannot tell whether 429s are handled")
		}
	}
}

func ptr[T any](v T) *T { return &v }

// apfIdentity is a ServiceAccount mesh-system/name bound to cluster-admin
// (which does not make it exempt from priority and fairness, as
// system:masters is), as a client config.
func apfIdentity(t *testing.T, ctx context.Context, c *kubetest.Cluster, admin kubernetes.Interface, name string) *rest.Config {
	t.Helper()
	id, err := kubetest.NewIdentity(ctx, c.Config, t.TempDir(), "mesh-system", name, kubetest.RBAC{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "mesh-test-" + name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "mesh-system", Name: name}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.CopyConfig(id.Config)
	cfg.QPS, cfg.Burst = -1, 0 // no client-side limit: the server's is under test
	return cfg
}

// keepSeatsBusy lists the namespace's ConfigMaps as load, from a few
// goroutines, until stopped. It sends plain HTTP requests: client-go would
// sleep out each 429's Retry-After, leaving the seat free meanwhile.
func keepSeatsBusy(t *testing.T, load *rest.Config, ns string) func() {
	t.Helper()
	client, err := rest.HTTPClientFor(load)
	if err != nil {
		t.Fatal(err)
	}
	url := strings.TrimRight(load.Host, "/") + "/api/v1/namespaces/" + ns + "/configmaps"
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				// Busy 300 ms of every 500, whatever a request takes on
				// this machine: the engine's requests are refused in the
				// busy part, and its retries (a second or so apart) find
				// the seat free in the rest. A level busy all the time
				// fails every apply once its retries run out (on a slow
				// machine 10 ms between requests was not enough).
				if phase := time.Now().UnixMilli() % 500; phase >= 300 {
					time.Sleep(time.Duration(500-phase) * time.Millisecond)
					continue
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if err != nil {
					return
				}
				if resp, err := client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	return func() { cancel(); wg.Wait() }
}

// rejected is the API server's count of requests it rejected for the flow
// schema, from its /metrics.
func rejected(t *testing.T, ctx context.Context, admin kubernetes.Interface, schema string) int {
	t.Helper()
	raw, err := admin.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		t.Fatalf("read the API server's metrics: %v", err)
	}
	total := 0
	lines := bufio.NewScanner(bytes.NewReader(raw))
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	for lines.Scan() {
		line := lines.Text()
		if !strings.HasPrefix(line, "apiserver_flowcontrol_rejected_requests_total{") || !strings.Contains(line, `flow_schema="`+schema+`"`) {
			continue
		}
		n, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		total += int(n)
	}
	return total
}
