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

const (
	authorizationType = "mesh_authorization"
	// authzTargetAttr is the data-plane override: `target` is the workload.
	authzTargetAttr = "mesh_target"
)

// NewAuthorizationResource is the mesh_authorization resource.
func NewAuthorizationResource() resource.Resource {
	return newMeshResource[authorizationModel, *authorizationModel](&authorizationDescriptor)
}

var authorizationDescriptor = descriptor[authorizationModel, mesh.Authorization]{
	typeName:   authorizationType,
	schema:     authorizationSchema,
	targetAttr: authzTargetAttr,
	targetOf:   func(m *authorizationModel) *types.String { return &m.MeshTarget },
	intent: func(ctx context.Context, m *authorizationModel, target mesh.Target) (mesh.Authorization, bool, diag.Diagnostics) {
		return normalizedIntent[mesh.Authorization](m.intent(ctx, target, authzOwnerOf(*m)))
	},
	validate: mesh.Authorization.Validate,
	render:   render.Authorization,
	checks:   authzChecks,
	objects:  func(a mesh.Authorization) (string, string) { return a.Namespace + "/" + a.Name, a.Owner },
	owner:    func(m *authorizationModel) string { return authzOwnerOf(*m) },
	prePlan: func(plan *authorizationModel) {
		plan.ID = namespacedID(plan.Namespace, plan.Name)
		plan.EnforcementPoint = types.StringUnknown()
	},
	planned: func(plan, _ *authorizationModel, a mesh.Authorization, _ *planResponse) {
		plan.EnforcementPoint = types.StringValue(string(a.EnforcementPoint()))
	},
	applied: func(plan *authorizationModel, a mesh.Authorization) {
		plan.EnforcementPoint = types.StringValue(string(a.EnforcementPoint()))
	},
	// The Service's selector, the probe paths and the identity form
	// (serviceAccounts or principals) come from the cluster.
	lookup: resolveAuthorization,
	needsLookup: func(a mesh.Authorization) bool {
		return a.NeedsServiceLookup() || a.HasHTTPRoutes() || a.NeedsIdentityLookup()
	},
	importLive: importAuthorization,
}

// resolveAuthorization fills a.Cluster from the cluster.
func resolveAuthorization(ctx context.Context, m *kube.Manager, a *mesh.Authorization) (mesh.Problems, error) {
	cluster, problems, err := preflight.ResolveAuthorization(ctx, m, *a)
	if err != nil {
		return nil, err
	}
	a.Cluster = cluster
	return problems, nil
}

// authzChecks binds the policy's cluster checks.
func authzChecks(a mesh.Authorization) clusterCheck {
	return func(ctx context.Context, m *kube.Manager, recorded []kube.ID) (mesh.Problems, error) {
		return preflight.Authorization(ctx, m, a, recorded)
	}
}

// authzOwnerOf is the owner label value of the policy's objects.
func authzOwnerOf(m authorizationModel) string {
	return mesh.Owner(authorizationType, m.Namespace.ValueString(), m.Name.ValueString())
}
