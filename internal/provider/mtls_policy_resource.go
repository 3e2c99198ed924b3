package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/render"
	"github.com/meshform/terraform-provider-mesh/internal/preflight"
)

const mtlsPolicyType = "mesh_mtls_policy"

// NewMTLSPolicyResource is the mesh_mtls_policy resource.
func NewMTLSPolicyResource() resource.Resource {
	return newMeshResource[mtlsPolicyModel, *mtlsPolicyModel](&mtlsPolicyDescriptor)
}

var mtlsPolicyDescriptor = descriptor[mtlsPolicyModel, mesh.MTLSPolicy]{
	typeName:   mtlsPolicyType,
	schema:     mtlsPolicySchema,
	targetAttr: "target",
	targetOf:   func(m *mtlsPolicyModel) *types.String { return &m.Target },
	intent: func(ctx context.Context, m *mtlsPolicyModel, target mesh.Target) (mesh.MTLSPolicy, bool, diag.Diagnostics) {
		return m.intent(ctx, target)
	},
	validate: mesh.MTLSPolicy.Validate,
	render:   render.MTLSPolicy,
	checks:   mtlsChecks,
	// A mesh-wide policy's objects live in the root namespace.
	objects: func(p mesh.MTLSPolicy) (string, string) { return p.ObjectNamespace() + "/" + p.Name, p.Owner },
	// The owner names the namespace the objects live in, which for scope
	// mesh is the root namespace: it comes from the intent.
	owner: func(m *mtlsPolicyModel) string {
		p, _, _ := m.intent(context.Background(), mesh.Target(m.Target.ValueString()))
		return p.Owner
	},
	// The id is the objects' namespace, which scope decides.
	prePlan: func(plan *mtlsPolicyModel) {
		plan.RequiresRestart, plan.ID = types.BoolUnknown(), types.StringUnknown()
	},
	planned: func(plan, state *mtlsPolicyModel, p mesh.MTLSPolicy, resp *planResponse) {
		plan.RequiresRestart = types.BoolValue(p.RequiresRestart())
		resp.RequiresReplace = append(resp.RequiresReplace, movedObjects(*state, *plan)...)
	},
	applied: func(plan *mtlsPolicyModel, p mesh.MTLSPolicy) {
		plan.RequiresRestart = types.BoolValue(p.RequiresRestart())
	},
	importLive:  importMTLSPolicy,
	importState: importMTLSPolicyID,
}

// movedObjects forces replacement when the objects' namespace changes
// (scope mesh to another scope, or a new root_namespace): the owner label
// names that namespace, so the old objects could not be pruned as ours.
func movedObjects(state, plan mtlsPolicyModel) path.Paths {
	if state.ID.IsNull() || state.ID.Equal(plan.ID) {
		return nil
	}
	var paths path.Paths
	if !state.Scope.Equal(plan.Scope) {
		paths = append(paths, path.Root("scope"))
	}
	if !state.RootNamespace.Equal(plan.RootNamespace) {
		paths = append(paths, path.Root("root_namespace"))
	}
	return paths
}

// mtlsChecks binds the policy's cluster checks.
func mtlsChecks(p mesh.MTLSPolicy) clusterCheck {
	return func(ctx context.Context, m *kube.Manager, recorded []kube.ID) (mesh.Problems, error) {
		return preflight.MTLSPolicy(ctx, m, p, recorded)
	}
}
