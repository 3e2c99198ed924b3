package render

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/istio"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/linkerd"
)

// MTLSPolicy renders a Normalize()d mTLS policy for its target.
func MTLSPolicy(p mesh.MTLSPolicy) ([]*unstructured.Unstructured, error) {
	switch p.Target {
	case mesh.TargetIstioSidecar, mesh.TargetIstioAmbient:
		return istio.RenderMTLSPolicy(p)
	case mesh.TargetLinkerd:
		return linkerd.RenderMTLSPolicy(p)
	}
	return nil, fmt.Errorf("unknown target %q: use one of %q", p.Target, mesh.Targets)
}
