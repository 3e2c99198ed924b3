package kube

import (
	"context"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// cluster is the test control plane; nil under -short, which runs the unit
// tests alone.
var cluster *kubetest.Cluster

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	kubetest.Main(m, &cluster)
}

// env is one integration test's namespace, owner and clients.
type env struct {
	t     *testing.T
	ctx   context.Context
	ns    string
	owner string
	m     *Manager
	// other edits objects out of band, as kubectl would, without counting
	// towards m.Requests().
	other dynamic.Interface
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, DefaultOptions())
}

// newEnvWith is newEnv with a manager built from opts.
func newEnvWith(t *testing.T, opts Options) *env {
	t.Helper()
	if cluster == nil {
		t.Skip("integration test: needs the test cluster (run without -short)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	if opts.OwnerLabel == "" {
		opts.OwnerLabel, opts.CommittedLabel, opts.CreateIDAnnotation = mesh.LabelOwner, mesh.LabelCommitted, mesh.AnnotationCreateID
	}
	m, err := New(cluster.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	other, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	ns := kubetest.Namespace(t, cluster.Config, nil)
	// The namespace is unique per test, so the owner need not repeat it;
	// with it the label value would pass the 63-character limit.
	owner := mesh.Owner("mesh_traffic_split", "test", "reviews")
	return &env{t: t, ctx: ctx, ns: ns, owner: owner, m: m, other: other}
}

// load reads a testdata fixture, filling in the namespace and owner.
func (e *env) load(files ...string) []*unstructured.Unstructured {
	e.t.Helper()
	var out []*unstructured.Unstructured
	expand := strings.NewReplacer("${NAMESPACE}", e.ns, "${OWNER}", e.owner)
	for _, file := range files {
		data, err := os.ReadFile("testdata/" + file)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, doc := range strings.Split(expand.Replace(string(data)), "\n---\n") {
			// Through JSON, so that numbers are int64 as in objects read
			// from the API server.
			data, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil {
				e.t.Fatalf("%s: %v", file, err)
			}
			obj := &unstructured.Unstructured{}
			if err := obj.UnmarshalJSON(data); err != nil {
				e.t.Fatalf("%s: %v", file, err)
			}
			out = append(out, obj)
		}
	}
	return out
}

func (e *env) opts(previous []*unstructured.Unstructured) ApplyOptions {
	return ApplyOptions{Owner: e.owner, Previous: previous}
}

// apply applies objs and fails the test on error.
func (e *env) apply(objs, previous []*unstructured.Unstructured) ChangeSet {
	e.t.Helper()
	cs, err := e.m.Apply(e.ctx, objs, e.opts(previous))
	if err != nil {
		e.t.Fatalf("Apply: %v", err)
	}
	return cs
}

// live GETs obj as it is in the cluster, or returns nil when it is absent.
func (e *env) live(obj *unstructured.Unstructured) *unstructured.Unstructured {
	e.t.Helper()
	res, err := e.m.resourceFor(e.ctx, IDOf(obj))
	if err != nil {
		e.t.Fatal(err)
	}
	got, err := res.Get(e.ctx, obj.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// readEquals asserts that Read returns exactly objs.
func (e *env) readEquals(objs ...*unstructured.Unstructured) {
	e.t.Helper()
	got, err := e.m.Read(e.ctx, idsOf(objs))
	if err != nil {
		e.t.Fatalf("Read: %v", err)
	}
	for _, want := range objs {
		if diff := cmp.Diff(want.Object, objectOf(got[IDOf(want)])); diff != "" {
			e.t.Errorf("Read %s (-want +got):\n%s", IDOf(want), diff)
		}
	}
}

func objectOf(u *unstructured.Unstructured) map[string]any {
	if u == nil {
		return nil
	}
	return u.Object
}

// changes renders a ChangeSet as "Kind/ns/name Action" lines for cmp.Diff.
func changes(cs ChangeSet) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}

func (e *env) wantChanges(cs ChangeSet, want ...string) {
	e.t.Helper()
	for i := range want {
		want[i] = strings.ReplaceAll(want[i], "${NAMESPACE}", e.ns)
	}
	if diff := cmp.Diff(want, changes(cs)); diff != "" {
		e.t.Errorf("change set (-want +got):\n%s", diff)
	}
}

// otherResource is obj's resource through the out-of-band client.
func (e *env) otherResource(obj *unstructured.Unstructured) dynamic.ResourceInterface {
	e.t.Helper()
	mapping, err := e.m.mapping(e.ctx, IDOf(obj))
	if err != nil {
		e.t.Fatal(err)
	}
	return e.other.Resource(mapping.Resource).Namespace(obj.GetNamespace())
}

// editAs changes obj with a plain Update (PUT) by manager, the way kubectl
// edit, kubectl label and client-side apply do.
func (e *env) editAs(manager string, obj *unstructured.Unstructured, edit func(live *unstructured.Unstructured)) {
	e.t.Helper()
	res := e.otherResource(obj)
	live, err := res.Get(e.ctx, obj.GetName(), metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	edit(live)
	if _, err := res.Update(e.ctx, live, metav1.UpdateOptions{FieldManager: manager}); err != nil {
		e.t.Fatalf("%s: %v", manager, err)
	}
}
