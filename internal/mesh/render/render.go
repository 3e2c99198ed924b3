// Package render picks the renderer for a resource's target and turns
// rendered objects into the canonical YAML shown in plans and state.
package render

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/istio"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/linkerd"
)

// TrafficSplit renders a Normalize()d split for its target, prerequisites
// first (see the target's renderer).
func TrafficSplit(ts mesh.TrafficSplit) ([]*unstructured.Unstructured, error) {
	switch ts.Target {
	case mesh.TargetIstioSidecar, mesh.TargetIstioAmbient:
		return istio.RenderTrafficSplit(ts)
	case mesh.TargetLinkerd:
		return linkerd.RenderTrafficSplit(ts)
	}
	return nil, fmt.Errorf("unknown target %q: use one of %q", ts.Target, mesh.Targets)
}

// YAML is the canonical text of one object: keys sorted, so equal objects
// always read the same.
func YAML(obj *unstructured.Unstructured) (string, error) {
	out, err := yaml.Marshal(obj.Object)
	if err != nil {
		return "", fmt.Errorf("%s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	return string(out), nil
}
