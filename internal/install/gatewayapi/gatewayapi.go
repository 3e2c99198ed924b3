// Package gatewayapi holds the standard-channel Gateway API CRDs the provider
// can install (embedded, so that air-gapped installs need no download) and
// applies them with server-side apply.
package gatewayapi

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

//go:embed v1.4.0/*.yaml
var bundles embed.FS

// Supported lists the bundle versions that are embedded.
var Supported = []string{"v1.4.0"}

// BundleAnnotation carries a CRD's Gateway API release.
const BundleAnnotation = mesh.AnnotationGatewayAPIBundleVersion

var crdGVR = mesh.GVKCRD.GroupVersion().WithResource("customresourcedefinitions")

// CRDs returns the standard-channel CRDs of version.
func CRDs(version string) ([]*unstructured.Unstructured, error) {
	if !slices.Contains(Supported, version) {
		return nil, fmt.Errorf("gateway API %s is not embedded in this provider (embedded: %s); install its CRDs yourself and use gateway_api_crds.mode = \"require\"",
			version, strings.Join(Supported, ", "))
	}
	entries, err := bundles.ReadDir(version)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, e := range entries {
		data, err := bundles.ReadFile(path.Join(version, e.Name()))
		if err != nil {
			return nil, err
		}
		objs, err := decode(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

func decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		obj := map[string]any{}
		if err := dec.Decode(&obj); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		if len(obj) > 0 {
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
}

// Install server-side applies the CRDs of version, as `kubectl apply
// --server-side --force-conflicts` does (the upstream install instructions),
// and waits until they are Established. A CRD whose installed bundle is newer
// is left alone: a downgrade would drop fields that resources may use, and
// the safe-upgrades admission policy of newer bundles rejects it anyway.
func Install(ctx context.Context, dyn dynamic.Interface, fieldManager, version string, timeout time.Duration) error {
	crds, err := CRDs(version)
	if err != nil {
		return err
	}
	res := dyn.Resource(crdGVR)
	force := true
	for _, crd := range crds {
		live, err := res.Get(ctx, crd.GetName(), metav1.GetOptions{})
		if err == nil && newer(live.GetAnnotations()[BundleAnnotation], version) {
			continue
		}
		data, err := crd.MarshalJSON()
		if err != nil {
			return err
		}
		if _, err := res.Patch(ctx, crd.GetName(), types.ApplyPatchType, data,
			metav1.PatchOptions{FieldManager: fieldManager, Force: &force}); err != nil {
			return fmt.Errorf("apply CustomResourceDefinition %s: %w", crd.GetName(), err)
		}
	}
	return waitEstablished(ctx, res, crds, timeout)
}

func waitEstablished(ctx context.Context, res dynamic.NamespaceableResourceInterface, crds []*unstructured.Unstructured, timeout time.Duration) error {
	var pending string
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		for _, crd := range crds {
			live, err := res.Get(ctx, crd.GetName(), metav1.GetOptions{})
			if err != nil || !Established(live) {
				pending = crd.GetName()
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("CustomResourceDefinition %s is not Established: %w", pending, err)
	}
	return nil
}

// Established reports the CRD's Established condition.
func Established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// newer reports whether bundle version a ("v1.5.1") is above b.
func newer(a, b string) bool {
	pa, pb := parse(a), parse(b)
	return pa != nil && pb != nil && slices.Compare(pa, pb) > 0
}

func parse(v string) []int {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) != 3 {
		return nil
	}
	out := make([]int, 3)
	for i, p := range parts {
		p, _, _ = strings.Cut(p, "-")
		if _, err := fmt.Sscanf(p, "%d", &out[i]); err != nil {
			return nil
		}
	}
	return out
}
