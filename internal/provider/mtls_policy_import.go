package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/render"
)

// ImportState takes "namespace/name" (for a mesh-wide Istio policy,
// "<root_namespace>/<name>"). Only id and name are certain; Read finds the
// objects and rebuilds everything else, namespace included, since a
// mesh-wide policy has none.
func importMTLSPolicyID(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ns, name, ok := strings.Cut(req.ID, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("%q is not namespace/name. Import with `terraform import %s.NAME <namespace>/<name>` (for scope mesh, <root_namespace>/<name>).", req.ID, mtlsPolicyType))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
}

// importLive rebuilds an imported policy (state holding only id and name)
// from the live objects, looked up in this order:
//  1. the PeerAuthentication namespace/name (Istio; the provider's target
//     says sidecar or ambient). Without a selector it is scope mesh when the
//     namespace is istio-system, Istio's default root namespace, and scope
//     namespace elsewhere (both render the same object);
//  2. the Linkerd Servers "<name>-<port>" in the namespace that carry this
//     resource's owner label or none (scope workload);
//  3. the namespace's config.linkerd.io/default-inbound-policy annotation
//     (Linkerd, scope namespace).
//
// It returns the manifests this provider owns on them: for objects another
// tool created that is nothing yet, and the next plan shows the provider
// taking them over.
func importMTLSPolicy(ctx context.Context, r *lifecycle, state *mtlsPolicyModel, uids objectUIDs, diags *diag.Diagnostics) manifests {
	mgr, err := r.manager()
	if err != nil {
		clusterUnavailable(diags, err)
		return nil
	}
	ns, name, _ := strings.Cut(state.ID.ValueString(), "/")
	p, err := liveMTLSPolicy(ctx, r, mgr, ns, name)
	if err != nil {
		diags.AddError("Cannot import mesh_mtls_policy", fmt.Sprintf("%s/%s: %v", ns, name, err))
		return nil
	}
	p.Owner = mtlsOwner(p)
	rendered, err := render.MTLSPolicy(p)
	if err != nil {
		diags.AddError("Cannot import mesh_mtls_policy", err.Error())
		return nil
	}
	recorded, err := manifestsOf(rendered)
	if err != nil {
		diags.AddError("Cannot import mesh_mtls_policy", err.Error())
		return nil
	}
	diags.Append(state.setIntent(p)...)
	state.Revision = types.Int64Value(1)
	if owned := r.refresh(ctx, r.typeName+" "+ns+"/"+name, recorded, uids, diags); owned != nil {
		return owned
	}
	return manifests{}
}

func liveMTLSPolicy(ctx context.Context, r *lifecycle, mgr *kube.Manager, ns, name string) (mesh.MTLSPolicy, error) {
	pa, err := mgr.Get(ctx, idOf(mesh.GVKPeerAuthentication, ns, name))
	if err != nil {
		return mesh.MTLSPolicy{}, err
	}
	if pa != nil {
		target, err := istioTarget(r)
		if err != nil {
			return mesh.MTLSPolicy{}, err
		}
		return render.ParseMTLSPolicy([]*unstructured.Unstructured{pa}, target, name, mesh.DefaultRootNamespace)
	}
	servers, err := mgr.List(ctx, mesh.GVKPolicyServer, ns)
	if err != nil {
		return mesh.MTLSPolicy{}, err
	}
	owner := mesh.Owner(mtlsPolicyType, ns, name)
	var ours []*unstructured.Unstructured
	for _, s := range servers {
		if label, ok := s.GetLabels()[mesh.LabelOwner]; mesh.IsLinkerdServerOf(s.GetName(), name) && (!ok || label == owner) {
			ours = append(ours, s)
		}
	}
	if len(ours) > 0 {
		return render.ParseMTLSPolicy(ours, mesh.TargetLinkerd, name, mesh.DefaultRootNamespace)
	}
	namespace, err := mgr.Get(ctx, idOf(mesh.GVKNamespaceCore, "", ns))
	if err != nil {
		return mesh.MTLSPolicy{}, err
	}
	if namespace != nil {
		if _, ok := namespace.GetAnnotations()[mesh.AnnotationDefaultInboundPolicy]; ok {
			return render.ParseMTLSPolicy([]*unstructured.Unstructured{namespace}, mesh.TargetLinkerd, name, mesh.DefaultRootNamespace)
		}
	}
	return mesh.MTLSPolicy{}, fmt.Errorf("found no PeerAuthentication %s/%s, no Linkerd Server %s/%s-<port> and no %s annotation on namespace %s; the import ID is the namespace and name of the policy's objects",
		ns, name, ns, name, mesh.AnnotationDefaultInboundPolicy, ns)
}

// istioTarget is the provider's target, which must be an Istio one: a
// PeerAuthentication alone does not say sidecar or ambient.
func istioTarget(r *lifecycle) (mesh.Target, error) {
	if r.data != nil && (r.data.target == mesh.TargetIstioSidecar || r.data.target == mesh.TargetIstioAmbient) {
		return r.data.target, nil
	}
	return "", fmt.Errorf("a PeerAuthentication renders for istio-sidecar or istio-ambient: set the provider's target to one of them so the import knows which")
}
