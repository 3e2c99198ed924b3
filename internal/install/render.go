package install

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// generated replaces values that differ between two renders of the same
// inputs (certificates from genCA, random passwords) so that digests only
// change when the plan does.
const generated = "(generated at install)"

// Render renders every release of p client-side, for the cluster's
// Kubernetes version, and returns per release name its objects sorted by
// kind, namespace and name. It writes nothing to the cluster.
func (i *Installer) Render(ctx context.Context, p Plan) (map[string][]RenderedObject, error) {
	out := map[string][]RenderedObject{}
	for _, r := range p.Releases {
		objs, err := i.renderStable(ctx, p, r)
		if err != nil {
			return nil, err
		}
		ros := make([]RenderedObject, 0, len(objs))
		for _, o := range objs {
			canonical, err := yaml.Marshal(o.Object)
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256(canonical)
			ros = append(ros, RenderedObject{Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName(), SHA256: hex.EncodeToString(sum[:])})
		}
		out[r.Name] = ros
	}
	return out, nil
}

// renderStable renders r twice and masks what differs between the two.
func (i *Installer) renderStable(ctx context.Context, p Plan, r Release) ([]*unstructured.Unstructured, error) {
	first, err := i.renderObjects(ctx, p, r)
	if err != nil {
		return nil, err
	}
	second, err := i.renderObjects(ctx, p, r)
	if err != nil {
		return nil, err
	}
	if len(first) != len(second) {
		return first, nil // not expected: a chart whose object set is random
	}
	for n, o := range first {
		if objectID(o) == objectID(second[n]) {
			o.Object = maskDiff(o.Object, second[n].Object).(map[string]any)
		}
	}
	return first, nil
}

// maskDiff returns a with every leaf that differs from b replaced.
func maskDiff(a, b any) any {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		for k, v := range am {
			am[k] = maskDiff(v, bm[k])
		}
		return am
	}
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok && len(as) == len(bs) {
		for n := range as {
			as[n] = maskDiff(as[n], bs[n])
		}
		return as
	}
	if reflect.DeepEqual(a, b) {
		return a
	}
	return generated
}

// renderObjects renders r (templates, hooks and crds/ files) and returns its
// objects sorted, with the release namespace filled in where it applies.
func (i *Installer) renderObjects(ctx context.Context, p Plan, r Release) ([]*unstructured.Unstructured, error) {
	manifest, err := i.renderManifest(ctx, p, r)
	if err != nil {
		return nil, err
	}
	objs, err := parseManifest(manifest)
	if err != nil {
		return nil, fmt.Errorf("release %s: %w", r.Name, err)
	}
	for _, o := range objs {
		if o.GetNamespace() == "" && i.namespaced(o.GroupVersionKind()) {
			o.SetNamespace(r.Namespace)
		}
	}
	slices.SortFunc(objs, func(a, b *unstructured.Unstructured) int { return strings.Compare(objectID(a), objectID(b)) })
	return objs, nil
}

func (i *Installer) renderManifest(ctx context.Context, p Plan, r Release) (string, error) {
	kv, err := i.KubernetesVersion(ctx)
	if err != nil {
		return "", err
	}
	ch, err := i.loadChart(ctx, p.Repository, r.Chart, p.Version)
	if err != nil {
		return "", err
	}
	// A blank Configuration: with ClientOnly, Helm renders into memory.
	act := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	act.DryRun, act.ClientOnly, act.IncludeCRDs = true, true, true
	act.ReleaseName, act.Namespace = r.Name, r.Namespace
	parsed, err := chartutil.ParseKubeVersion(kv)
	if err != nil {
		return "", fmt.Errorf("kubernetes version %q: %w", kv, err)
	}
	act.KubeVersion = parsed
	rel, err := act.RunWithContext(ctx, ch, deepMerge(nil, r.Values))
	if err != nil {
		return "", fmt.Errorf("render release %s (chart %s %s): %w", r.Name, r.Chart, p.Version, err)
	}
	var b strings.Builder
	b.WriteString(rel.Manifest)
	for _, h := range rel.Hooks {
		b.WriteString("\n---\n")
		b.WriteString(h.Manifest)
	}
	return b.String(), nil
}

// clusterScoped are the kinds charts create at cluster scope, for when the
// API server does not serve a kind yet (a CRD the same plan installs).
var clusterScoped = map[string]bool{
	"CustomResourceDefinition": true, "ClusterRole": true, "ClusterRoleBinding": true, "Namespace": true,
	"MutatingWebhookConfiguration": true, "ValidatingWebhookConfiguration": true, "PriorityClass": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true, "APIService": true,
	"PodSecurityPolicy": true, "StorageClass": true,
}

func (i *Installer) namespaced(gvk schema.GroupVersionKind) bool {
	m, err := i.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return !clusterScoped[gvk.Kind]
	}
	return m.Scope.Name() == "namespace"
}

// parseManifest splits a Helm manifest into objects, skipping empty
// documents and flattening List kinds.
func parseManifest(manifest string) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifest)))
	var out []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj := map[string]any{}
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			return nil, err
		}
		if len(obj) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.IsList() {
			err := u.EachListItem(func(o runtime.Object) error {
				out = append(out, o.(*unstructured.Unstructured))
				return nil
			})
			if err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, u)
	}
}

func objectID(o *unstructured.Unstructured) string {
	return o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}
