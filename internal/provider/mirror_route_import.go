package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/meshform/terraform-provider-mesh/internal/mesh/render"
)

// importLive rebuilds an imported mirror route from the live route object
// of that name and its companions (see the traffic split's importLive).
func importMirrorRoute(ctx context.Context, r *lifecycle, state *mirrorRouteModel, uids objectUIDs, diags *diag.Diagnostics) manifests {
	mgr, err := r.manager()
	if err != nil {
		clusterUnavailable(diags, err)
		return nil
	}
	ns, name := state.Namespace.ValueString(), state.Name.ValueString()
	owner := mirrorOwnerOf(*state)
	fail := func(err error) manifests {
		diags.AddError("Cannot import mesh_mirror_route", fmt.Sprintf("%s/%s: %v", ns, name, err))
		return nil
	}
	objs, target, err := r.liveRouteObjects(ctx, mgr, ns, name, owner)
	if err != nil {
		return fail(err)
	}
	mr, err := render.ParseMirrorRoute(objs, target)
	if err != nil {
		return fail(err)
	}
	mr.Owner = owner
	mr.Normalize()
	rendered, err := render.MirrorRoute(mr)
	if err != nil {
		return fail(err)
	}
	recorded, err := manifestsOf(rendered)
	if err != nil {
		return fail(err)
	}
	diags.Append(state.setIntent(mr)...)
	state.ID = types.StringValue(ns + "/" + name)
	state.Revision = types.Int64Value(1)
	if owned := r.refresh(ctx, r.typeName+" "+ns+"/"+name, recorded, uids, diags); owned != nil {
		return owned
	}
	return manifests{}
}
