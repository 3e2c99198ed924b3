package render

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// MirrorRoute renders a Normalize()d mirror route: the route object of its
// Service port, as the traffic split renderer writes a split with one
// primary backend and a mirror. Linkerd has no mirroring (MESH-MIR-001).
func MirrorRoute(mr mesh.MirrorRoute) ([]*unstructured.Unstructured, error) {
	if mr.Target == mesh.TargetLinkerd {
		return nil, errors.New(mesh.MirLinkerdMessage) //nolint:staticcheck // ST1005: the catalogue's text, verbatim, is a sentence
	}
	return TrafficSplit(mr.Split())
}

// ParseMirrorRoute is the inverse of MirrorRoute, for terraform import (see
// ParseTrafficSplit for objs and target).
func ParseMirrorRoute(objs []*unstructured.Unstructured, target mesh.Target) (mesh.MirrorRoute, error) {
	if target == mesh.TargetLinkerd {
		return mesh.MirrorRoute{}, errors.New(mesh.MirLinkerdMessage) //nolint:staticcheck // ST1005: the catalogue's text, verbatim, is a sentence
	}
	ts, err := ParseTrafficSplit(objs, target)
	if err != nil {
		return mesh.MirrorRoute{}, err
	}
	mr, err := mesh.MirrorRouteFromSplit(ts)
	if err != nil {
		return mesh.MirrorRoute{}, fmt.Errorf("%s/%s cannot be imported as a mesh_mirror_route: %w", ts.Namespace, ts.Name, err)
	}
	mr.Normalize()
	return mr, nil
}
