package provider

import (
	"crypto/rand"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

const mtlsAddress = "mesh_mtls_policy.test"

// mtlsFixture is one target and scope of the lifecycle test: its HCL for a
// mode, the manifests it renders, where the mode shows in them and live,
// and how an out-of-band edit changes it.
type mtlsFixture struct {
	ns       string
	importID string
	// config is the HCL for mode (STRICT or PERMISSIVE).
	config func(mode string) string
	// keys are the rendered manifest keys; modeKey is the one showing the mode.
	keys    []string
	modeKey string
	// rendered is how the mode reads in the manifest and the live object.
	rendered func(mode string) string
	// liveMode reads that value from the cluster.
	liveMode func(t *testing.T) string
	// drift changes it the way `kubectl edit` does.
	drift     func(t *testing.T)
	checkGone func(t *testing.T) error
	restart   bool
}

func mtlsKey(apiVersion, kind, ns, name string) string {
	return fmt.Sprintf("%s/%s/%s/%s", apiVersion, kind, ns, name)
}

func istioMode(mode string) string { return mode }

func linkerdPolicy(mode string) string {
	policy, _ := mesh.LinkerdAccessPolicy(mesh.MTLSMode(mode))
	return policy
}

// mtlsHCL is a mesh_mtls_policy named name with the given body lines.
func mtlsHCL(target mesh.Target, name, body string) string {
	return providerConfig(string(target)) + fmt.Sprintf(`
resource "mesh_mtls_policy" "test" {
  name = %q
%s
}
`, name, body)
}

// mtlsPod creates a bare pod with app=web labels (plus extra) whose app
// container declares ports.
func mtlsPod(t *testing.T, ns, name string, extra map[string]string, ports ...int32) {
	t.Helper()
	labels := map[string]string{"app": "web"}
	for k, v := range extra {
		labels[k] = v
	}
	ctr := corev1.Container{Name: "app", Image: "registry.local/app:1"}
	for _, p := range ports {
		ctr.Ports = append(ctr.Ports, corev1.ContainerPort{Name: fmt.Sprintf("http-%d", p), ContainerPort: p})
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{ctr,
			{Name: "istio-proxy", Image: "registry.local/proxy:1"}}},
	}
	cs, _ := clients(t)
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod %s/%s: %v", ns, name, err)
	}
}

// resourceOf returns the dynamic client of id's kind, found by discovery.
func resourceOf(t *testing.T, id kube.ID) dynamic.ResourceInterface {
	t.Helper()
	opts := kube.DefaultOptions()
	opts.OwnerLabel = mesh.LabelOwner
	m, err := kube.New(cluster.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	mapping, err := m.RESTMapper().RESTMapping(schema.GroupKind{Group: id.Group, Kind: id.Kind}, id.Version)
	if err != nil {
		t.Fatal(err)
	}
	_, dyn := clients(t)
	if id.Namespace == "" {
		return dyn.Resource(mapping.Resource)
	}
	return dyn.Resource(mapping.Resource).Namespace(id.Namespace)
}

func keyID(t *testing.T, key string) kube.ID {
	t.Helper()
	id, err := kube.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func liveObject(t *testing.T, key string) *unstructured.Unstructured {
	t.Helper()
	id := keyID(t, key)
	obj, err := resourceOf(t, id).Get(ctx, id.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return obj
}

// editObject changes key's live object with an Update under the field
// manager kubectl-edit.
func editObject(t *testing.T, key string, edit func(obj *unstructured.Unstructured)) {
	t.Helper()
	obj := liveObject(t, key)
	edit(obj)
	id := keyID(t, key)
	if _, err := resourceOf(t, id).Update(ctx, obj, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatalf("out-of-band edit of %s: %v", id, err)
	}
}

// objectsGone asserts that none of keys exists any more.
func objectsGone(t *testing.T, keys ...string) error {
	for _, key := range keys {
		id := keyID(t, key)
		_, err := resourceOf(t, id).Get(ctx, id.Name, metav1.GetOptions{})
		switch {
		case err == nil:
			return fmt.Errorf("%s still exists after destroy", id)
		case !apierrors.IsNotFound(err):
			return err
		}
	}
	return nil
}

// expectMTLSManifest asserts the planned manifest under key matches pattern.
func expectMTLSManifest(key, pattern string) plancheck.PlanCheck {
	return plancheck.ExpectKnownValue(mtlsAddress, tfjsonpath.New("manifests").AtMapKey(key),
		knownvalue.StringRegexp(regexp.MustCompile(pattern)))
}

// ownerLabelled asserts the owned objects carry the policy's owner label.
func ownerLabelled(t *testing.T, owner string, keys ...string) error {
	for _, key := range keys {
		if got := liveObject(t, key).GetLabels()[mesh.LabelOwner]; got != owner {
			return fmt.Errorf("%s: owner label %q, want %q", key, got, owner)
		}
	}
	return nil
}

// ensureNamespace creates ns when it is missing and leaves it in place:
// istio-system may be shared with other tests.
func ensureNamespace(t *testing.T, ns string) {
	t.Helper()
	cs, _ := clients(t)
	if err := kubetest.EnsureNamespace(ctx, cs, ns); err != nil {
		t.Fatal(err)
	}
	if err := providerIdentity.Grant(ctx, ns); err != nil {
		t.Fatal(err)
	}
}

// uniqueName is prefix plus a random suffix, for objects in shared
// namespaces.
func uniqueName(prefix string) string {
	return prefix + "-" + strings.ToLower(rand.Text()[:6])
}
