package kubetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

const (
	// istioModule holds manifests/charts/base/files/crd-all.gen.yaml; it is
	// pinned by tools/istio/go.mod, apart from the provider's dependencies.
	istioModule = "istio.io/istio@v0.0.0-20260827124520-eed52ebb66ad"
	// gatewayModule's version comes from the root go.mod (v1.4.0).
	gatewayModule = "sigs.k8s.io/gateway-api"
	// linkerdCRDChart is read from the offline chart repository in shared/.
	linkerdCRDChart = "linkerd-crds-2026.8.3.tgz"
	fieldManager    = "kubetest"
)

var crdGVR = mesh.GVKCRD.GroupVersion().WithResource("customresourcedefinitions")

// crdSources are the CRD manifests as read from disk. Finding them runs the
// go command, so it happens while the apiserver starts.
type crdSources struct {
	static  []*unstructured.Unstructured // Istio and Gateway API
	linkerd *chart.Chart                 // rendered once the server version is known
}

func loadCRDSources(ctx context.Context) (*crdSources, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	var istio, gateway []*unstructured.Unstructured
	s := &crdSources{}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { istio, err = istioCRDs(gctx, root); return err })
	g.Go(func() (err error) { gateway, err = gatewayCRDs(gctx, root); return err })
	g.Go(func() (err error) { s.linkerd, err = linkerdChart(root); return err })
	if err := g.Wait(); err != nil {
		return nil, &ComponentError{Component: "crd sources", Err: err}
	}
	s.static = append(istio, gateway...)
	return s, nil
}

func istioCRDs(ctx context.Context, root string) ([]*unstructured.Unstructured, error) {
	dir, err := goModDir(ctx, filepath.Join(root, "tools", "istio"), istioModule)
	if err != nil {
		return nil, err
	}
	return readCRDs(filepath.Join(dir, "manifests", "charts", "base", "files", "crd-all.gen.yaml"))
}

func gatewayCRDs(ctx context.Context, root string) ([]*unstructured.Unstructured, error) {
	dir, err := goModDir(ctx, root, gatewayModule)
	if err != nil {
		return nil, err
	}
	files, _ := filepath.Glob(filepath.Join(dir, "config", "crd", "standard", "*.yaml"))
	if len(files) == 0 {
		return nil, fmt.Errorf("no CRDs in %s/config/crd/standard", dir)
	}
	return readCRDs(files...)
}

// linkerdChart loads the chart from $MESH_SHARED_DIR/charts, by default the
// shared/ directory beside the repository.
func linkerdChart(root string) (*chart.Chart, error) {
	shared := os.Getenv("MESH_SHARED_DIR")
	if shared == "" {
		shared = filepath.Join(root, "..", "shared")
	}
	ch, err := loader.Load(filepath.Join(shared, "charts", linkerdCRDChart))
	if err != nil {
		return nil, fmt.Errorf("load Linkerd CRD chart (set MESH_SHARED_DIR to the shared/ directory): %w", err)
	}
	return ch, nil
}

// goModDir returns the module cache directory of module (path or
// path@version), downloading it if needed, as resolved from inside dir.
func goModDir(ctx context.Context, dir, module string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", module)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); err != nil || jerr != nil || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s (in %s): %v %s %s", module, dir, err, info.Error, strings.TrimSpace(stderr.String()))
	}
	return info.Dir, nil
}

// renderLinkerd renders the Linkerd CRD chart for the server's version.
// installGatewayAPI=false: the Gateway API CRDs come from gateway-api itself.
func renderLinkerd(ch *chart.Chart, v *version.Info) ([]*unstructured.Unstructured, error) {
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: v.GitVersion, Major: v.Major, Minor: v.Minor}
	opts := chartutil.ReleaseOptions{Name: "linkerd-crds", Namespace: "linkerd", Revision: 1, IsInstall: true}
	vals, err := chartutil.ToRenderValues(ch, map[string]any{"installGatewayAPI": false}, opts, caps)
	if err != nil {
		return nil, fmt.Errorf("linkerd-crds values: %w", err)
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		return nil, fmt.Errorf("render linkerd-crds: %w", err)
	}
	var out []*unstructured.Unstructured
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if !strings.HasSuffix(name, ".yaml") {
			continue // NOTES.txt, helpers
		}
		objs, err := decodeCRDs([]byte(files[name]), name)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

func readCRDs(files ...string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		objs, err := decodeCRDs(data, f)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// decodeCRDs keeps the CustomResourceDefinitions of a multi-document YAML
// stream; other kinds (e.g. ValidatingAdmissionPolicies) are not needed.
func decodeCRDs(data []byte, source string) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		obj := map[string]any{}
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() == "CustomResourceDefinition" {
			unstructured.RemoveNestedField(u.Object, "status")
			out = append(out, u)
		}
	}
}

// installCRDs applies every CRD (server-side, in parallel) and waits until
// all are Established, i.e. served.
func installCRDs(ctx context.Context, cfg *rest.Config, src *crdSources, server *version.Info) error {
	linkerd, err := renderLinkerd(src.linkerd, server)
	if err != nil {
		return err
	}
	crds := append(slices.Clone(src.static), linkerd...)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, crd := range crds {
		g.Go(func() error {
			_, err := dyn.Resource(crdGVR).Apply(gctx, crd.GetName(), crd, metav1.ApplyOptions{FieldManager: fieldManager, Force: true})
			if err != nil {
				return fmt.Errorf("apply CRD %s: %w", crd.GetName(), err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return waitEstablished(ctx, dyn, crds)
}

func waitEstablished(ctx context.Context, dyn dynamic.Interface, crds []*unstructured.Unstructured) error {
	pending := map[string]bool{}
	for _, c := range crds {
		pending[c.GetName()] = true
	}
	ri := dyn.Resource(crdGVR)
	lw := listWatch(
		func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return ri.List(ctx, o) },
		ri.Watch)
	err := waitFor(ctx, lw, &unstructured.Unstructured{}, func(seen map[string]*unstructured.Unstructured) bool {
		for name, crd := range seen {
			if established(crd) {
				delete(pending, name)
			}
		}
		return len(pending) == 0
	})
	if err != nil {
		return fmt.Errorf("CRDs not Established: %v: %w", slices.Sorted(maps.Keys(pending)), err)
	}
	return nil
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// objectKey is namespace/name, the key waitFor tracks objects by.
func objectKey(obj runtime.Object) string {
	m, err := apimeta.Accessor(obj)
	if err != nil {
		return ""
	}
	if m.GetNamespace() == "" {
		return m.GetName()
	}
	return m.GetNamespace() + "/" + m.GetName()
}
