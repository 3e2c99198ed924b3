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

const trafficSplitType = "mesh_traffic_split"

// NewTrafficSplitResource is the mesh_traffic_split resource.
func NewTrafficSplitResource() resource.Resource {
	return newMeshResource[trafficSplitModel, *trafficSplitModel](&trafficSplitDescriptor)
}

var trafficSplitDescriptor = descriptor[trafficSplitModel, mesh.TrafficSplit]{
	typeName:   trafficSplitType,
	schema:     trafficSplitSchema,
	targetAttr: "target",
	targetOf:   func(m *trafficSplitModel) *types.String { return &m.Target },
	// The configuration's computed nested defaults (backend service, port,
	// weight) are unknown at plan: the intent fills them in.
	intent: func(ctx context.Context, m *trafficSplitModel, target mesh.Target) (mesh.TrafficSplit, bool, diag.Diagnostics) {
		return normalizedIntent[mesh.TrafficSplit](m.intent(ctx, target, ownerOf(*m)))
	},
	validate: mesh.TrafficSplit.Validate,
	render:   render.TrafficSplit,
	checks:   splitChecks,
	objects:  func(ts mesh.TrafficSplit) (string, string) { return ts.Namespace + "/" + ts.Name, ts.Owner },
	owner:    func(m *trafficSplitModel) string { return ownerOf(*m) },
	prePlan:  func(plan *trafficSplitModel) { plan.ID = namespacedID(plan.Namespace, plan.Name) },
	planned: func(plan, _ *trafficSplitModel, ts mesh.TrafficSplit, resp *planResponse) {
		resp.Diagnostics.Append(plan.setIntent(ts)...)
	},
	importLive: importTrafficSplit,
}

// splitChecks binds the split's cluster checks, its mirror block's included.
func splitChecks(ts mesh.TrafficSplit) clusterCheck {
	return func(ctx context.Context, m *kube.Manager, recorded []kube.ID) (mesh.Problems, error) {
		problems, err := preflight.TrafficSplit(ctx, m, ts, recorded)
		if err != nil {
			return nil, err
		}
		mirror, err := preflight.SplitMirror(ctx, m, ts, recorded)
		return append(problems, mirror...), err
	}
}

// ownerOf is the owner label value of the split's objects.
func ownerOf(m trafficSplitModel) string {
	return mesh.Owner(trafficSplitType, m.Namespace.ValueString(), m.Name.ValueString())
}
