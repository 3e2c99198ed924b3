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
	"github.com/meshform/terraform-provider-mesh/internal/preflight"
)

// authzLinkerdKinds are the kinds a Linkerd authorization renders, Servers
// first (the parser reads them).
var authzLinkerdKinds = []schema.GroupVersionKind{
	mesh.GVKPolicyServer, mesh.GVKMeshTLSAuthentication, mesh.GVKNetworkAuthentication, mesh.GVKHTTPRoute, mesh.GVKLinkerdAuthorization,
}

// importLive rebuilds an imported policy (state holding only id, namespace
// and name) from the live objects: the Istio AuthorizationPolicy of that
// name, or else the Linkerd objects carrying the resource's owner label.
func importAuthorization(ctx context.Context, r *lifecycle, state *authorizationModel, uids objectUIDs, diags *diag.Diagnostics) manifests {
	fail := func(err error) manifests {
		diags.AddError("Cannot import "+authorizationType, fmt.Sprintf("%s/%s: %v", state.Namespace.ValueString(), state.Name.ValueString(), err))
		return nil
	}
	mgr, err := r.manager()
	if err != nil {
		clusterUnavailable(diags, err)
		return nil
	}
	ns, name, owner := state.Namespace.ValueString(), state.Name.ValueString(), authzOwnerOf(*state)
	objs, target, err := liveAuthzObjects(ctx, r, mgr, ns, name, owner)
	if err != nil {
		return fail(err)
	}
	legacy := false
	if target != mesh.TargetLinkerd {
		// Principals read back as service_accounts only where the provider
		// renders them so; resolve below reads the CRD once more.
		if legacy, err = preflight.AuthzLegacyPrincipals(ctx, mgr); err != nil {
			return fail(err)
		}
	}
	a, err := render.ParseAuthorization(objs, target, name, legacy)
	if err != nil {
		return fail(err)
	}
	a.Name, a.Namespace, a.Owner = name, ns, owner
	problems, err := resolveAuthorization(ctx, mgr, &a)
	addProblems(diags, problems)
	if err != nil || problems.HasErrors() {
		return fail(errors.Join(err, errors.New("the target could not be resolved")))
	}
	rendered, err := render.Authorization(a)
	if err != nil {
		return fail(err)
	}
	recorded, err := manifestsOf(rendered)
	if err != nil {
		return fail(err)
	}
	diags.Append(state.setIntent(a)...)
	state.ID = types.StringValue(ns + "/" + name)
	state.Revision = types.Int64Value(1)
	if owned := r.refresh(ctx, r.typeName+" "+ns+"/"+name, recorded, uids, diags); owned != nil {
		return owned
	}
	return manifests{}
}

// liveAuthzObjects finds the objects of the policy and decides the target:
// an AuthorizationPolicy named name is Istio (ambient when it uses
// targetRefs, else the provider's Istio target); owned Linkerd objects are
// linkerd.
func liveAuthzObjects(ctx context.Context, r *lifecycle, mgr *kube.Manager, ns, name, owner string) ([]*unstructured.Unstructured, mesh.Target, error) {
	ap, err := mgr.Get(ctx, idOf(mesh.GVKIstioAuthorizationPolicy, ns, name))
	if err != nil {
		return nil, "", err
	}
	if ap != nil {
		target := mesh.TargetIstioSidecar
		if r.data != nil && r.data.target == mesh.TargetIstioAmbient {
			target = mesh.TargetIstioAmbient
		}
		return []*unstructured.Unstructured{ap}, target, nil
	}
	var owned []*unstructured.Unstructured
	for _, gvk := range authzLinkerdKinds {
		objs, err := mgr.List(ctx, gvk, ns)
		if err != nil {
			return nil, "", err
		}
		owned = append(owned, ownedBy(objs, owner)...)
	}
	if len(owned) == 0 {
		return nil, "", fmt.Errorf("no AuthorizationPolicy (%s) named %s/%s, and no Linkerd objects labeled %s=%s (the import ID is the namespace and name of the resource)",
			mesh.GroupIstioSecurity, ns, name, mesh.LabelOwner, owner)
	}
	return owned, mesh.TargetLinkerd, nil
}
