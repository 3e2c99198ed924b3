package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/render"
	"github.com/meshform/terraform-provider-mesh/internal/preflight"
)

const mirrorRouteType = "mesh_mirror_route"

// NewMirrorRouteResource is the mesh_mirror_route resource.
func NewMirrorRouteResource() resource.Resource {
	return newMeshResource[mirrorRouteModel, *mirrorRouteModel](&mirrorRouteDescriptor)
}

var mirrorRouteDescriptor = descriptor[mirrorRouteModel, mesh.MirrorRoute]{
	typeName:   mirrorRouteType,
	schema:     mirrorRouteSchema,
	targetAttr: "target",
	targetOf:   func(m *mirrorRouteModel) *types.String { return &m.Target },
	intent: func(ctx context.Context, m *mirrorRouteModel, target mesh.Target) (mesh.MirrorRoute, bool, diag.Diagnostics) {
		return normalizedIntent[mesh.MirrorRoute](m.intent(ctx, target, mirrorOwnerOf(*m)))
	},
	validate: mesh.MirrorRoute.Validate,
	render:   render.MirrorRoute,
	checks:   mirrorChecks,
	objects:  func(mr mesh.MirrorRoute) (string, string) { return mr.Namespace + "/" + mr.Name, mr.Owner },
	owner:    func(m *mirrorRouteModel) string { return mirrorOwnerOf(*m) },
	prePlan:  func(plan *mirrorRouteModel) { plan.ID = namespacedID(plan.Namespace, plan.Name) },
	planned: func(plan, _ *mirrorRouteModel, mr mesh.MirrorRoute, resp *planResponse) {
		resp.Diagnostics.Append(plan.setIntent(mr)...)
	},
	importLive: importMirrorRoute,
}

// mirrorChecks binds the mirror route's cluster checks.
func mirrorChecks(mr mesh.MirrorRoute) clusterCheck {
	return func(ctx context.Context, m *kube.Manager, recorded []kube.ID) (mesh.Problems, error) {
		return preflight.MirrorRoute(ctx, m, mr, recorded)
	}
}

// mirrorOwnerOf is the owner label value of the mirror route's objects.
func mirrorOwnerOf(m mirrorRouteModel) string {
	return mesh.Owner(mirrorRouteType, m.Namespace.ValueString(), m.Name.ValueString())
}
