package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/render"
)

// importLive rebuilds an imported split (state holding only id, namespace
// and name) from the live route object of that name and its companions, and
// returns its manifests: what this provider owns on the live objects. For
// objects another tool created that is nothing yet (an empty map), and the
// next plan shows the provider taking them over.
func importTrafficSplit(ctx context.Context, r *lifecycle, state *trafficSplitModel, uids objectUIDs, diags *diag.Diagnostics) manifests {
	mgr, err := r.manager()
	if err != nil {
		clusterUnavailable(diags, err)
		return nil
	}
	ns, name := state.Namespace.ValueString(), state.Name.ValueString()
	owner := ownerOf(*state)
	objs, target, err := r.liveRouteObjects(ctx, mgr, ns, name, owner)
	if err != nil {
		diags.AddError("Cannot import mesh_traffic_split", fmt.Sprintf("%s/%s: %v", ns, name, err))
		return nil
	}
	ts, err := render.ParseTrafficSplit(objs, target)
	if err != nil {
		diags.AddError("Cannot import mesh_traffic_split", fmt.Sprintf("%s/%s: %v", ns, name, err))
		return nil
	}
	ts.Owner = owner
	ts.Normalize()
	rendered, err := render.TrafficSplit(ts)
	if err != nil {
		diags.AddError("Cannot import mesh_traffic_split", err.Error())
		return nil
	}
	recorded, err := manifestsOf(rendered)
	if err != nil {
		diags.AddError("Cannot import mesh_traffic_split", err.Error())
		return nil
	}
	diags.Append(state.setIntent(ts)...)
	state.ID = types.StringValue(ns + "/" + name)
	state.Revision = types.Int64Value(1)
	if owned := r.refresh(ctx, r.typeName+" "+ns+"/"+name, recorded, uids, diags); owned != nil {
		return owned
	}
	return manifests{}
}

// liveRouteObjects finds the route object named name (a VirtualService or an
// HTTPRoute) and the objects it depends on, and decides the target. Every
// resource that renders a route object (split, mirror) imports through it.
func (l *lifecycle) liveRouteObjects(ctx context.Context, mgr *kube.Manager, ns, name, owner string) ([]*unstructured.Unstructured, mesh.Target, error) {
	vs, err := mgr.Get(ctx, idOf(mesh.GVKVirtualService, ns, name))
	if err != nil {
		return nil, "", err
	}
	route, err := mgr.Get(ctx, idOf(mesh.GVKHTTPRoute, ns, name))
	if err != nil {
		return nil, "", err
	}
	switch {
	case vs != nil && route != nil:
		return nil, "", fmt.Errorf("both VirtualService and HTTPRoute %s/%s exist; one route object per Service port is allowed, so delete one of them first", ns, name)
	case vs != nil:
		drs, err := mgr.List(ctx, mesh.GVKDestinationRule, ns)
		return append([]*unstructured.Unstructured{vs}, drs...), mesh.TargetIstioSidecar, err
	case route != nil:
		gws, err := mgr.List(ctx, mesh.GVKGateway, ns)
		objs := append([]*unstructured.Unstructured{route}, ownedBy(gws, owner)...)
		target, terr := l.httpRouteTarget(len(objs) > 1)
		return objs, target, errors.Join(err, terr)
	}
	return nil, "", fmt.Errorf("no VirtualService or HTTPRoute named %s/%s exists (the import ID is the namespace and name of the split's route object)", ns, name)
}

// httpRouteTarget picks the data plane of an imported HTTPRoute: ambient
// when a waypoint of this split exists, else the provider's target.
func (l *lifecycle) httpRouteTarget(hasWaypoint bool) (mesh.Target, error) {
	if hasWaypoint {
		return mesh.TargetIstioAmbient, nil
	}
	if l.data != nil && l.data.target != "" {
		return l.data.target, nil
	}
	return "", errors.New("an HTTPRoute can be rendered for istio-sidecar, istio-ambient or linkerd: set the provider's target so the import knows which")
}

func idOf(gvk schema.GroupVersionKind, ns, name string) kube.ID {
	return kube.ID{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: ns, Name: name}
}

func ownedBy(objs []*unstructured.Unstructured, owner string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetLabels()[mesh.LabelOwner] == owner {
			out = append(out, o)
		}
	}
	return out
}
