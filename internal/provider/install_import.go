package provider

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"sigs.k8s.io/yaml"

	"github.com/meshform/terraform-provider-mesh/internal/install"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// ImportState starts an import by "<mesh>/<namespace>"; Read then adopts
// the releases it finds there.
func (r *installResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	m, ns, ok := strings.Cut(req.ID, "/")
	if !ok || ns == "" || strings.Contains(ns, "/") || !slices.Contains(mesh.InstallMeshes, mesh.InstallMesh(m)) {
		resp.Diagnostics.AddError("Invalid import ID",
			fmt.Sprintf("%q is not <mesh>/<namespace> with mesh %s. Import with `terraform import %s.NAME istio/istio-system`.",
				req.ID, enumList(mesh.InstallMeshes), installType))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("mesh"), m)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("namespace"), ns)...)
}

// importLive rebuilds the state from the releases Discover finds: version,
// mode, revision, the Linkerd identity (as generated_identity) and the
// values that differ from what the provider itself sets.
func (r *installResource) importLive(ctx context.Context, m *installModel, diags *diag.Diagnostics) bool {
	inst, err := r.engine()
	if err != nil {
		clusterUnavailable(diags, err)
		return false
	}
	meshName, ns := mesh.InstallMesh(m.Mesh.ValueString()), m.Namespace.ValueString()
	found, err := inst.Discover(ctx, install.Mesh(meshName), ns)
	if err != nil {
		diags.AddError("Import failed", redact(err.Error()))
		return false
	}
	if found == nil || len(found.Releases) == 0 {
		diags.AddError("Import failed", fmt.Sprintf("no %s releases in namespace %s (helm list -n %s).", meshName, ns, ns))
		return false
	}
	in := mesh.Install{Mesh: meshName, Version: found.Version, Namespace: ns}
	id := adoptedShape(found, &in)
	defaults, err := installPlan(in, found.Repository, id)
	if err != nil {
		diags.AddError("Import failed", redact(err.Error()))
		return false
	}
	values := userValues(found, defaults, diags)
	*m = adoptedModel(*m, in, found.Repository, id, values)
	// The releases are this resource's from now on: those a create that
	// did not finish left lose their uncommitted mark, so that another
	// create no longer takes them over.
	committed, err := inst.Commit(*found, mesh.LabelCommitted)
	if len(committed) > 0 {
		diags.AddWarning("Imported what an unfinished create left",
			fmt.Sprintf("Releases %s were marked %s=false, left by a create that did not finish. The import made them this resource's: the label is cleared, so that another create no longer takes them over.",
				strings.Join(committed, ", "), mesh.LabelCommitted))
	}
	if err != nil {
		diags.AddError("Import failed", redact(err.Error()))
		return false
	}
	st, p, ok := r.status(ctx, *m, diags)
	if !ok {
		return false
	}
	m.ReleaseRevisions, m.ManifestsDigest = liveRevisions(p, st)
	m.Components = componentsValue(st.Components)
	// rendered_objects stays null: Helm does not record the repository, so
	// the charts cannot be rendered here. The first plan after the import
	// renders them from the configured chart_repository; applying it only
	// records them (and the repository) and changes nothing in the cluster.
	return true
}

// adoptedShape reads mode and revision (Istio) or the identity (Linkerd)
// from the discovered releases.
func adoptedShape(found *install.Plan, in *mesh.Install) install.LinkerdIdentity {
	var id install.LinkerdIdentity
	in.Mode = mesh.ModeSidecar
	for _, rel := range found.Releases {
		switch rel.Chart {
		case mesh.ChartZtunnel:
			in.Mode = mesh.ModeAmbient
		case mesh.ChartIstiod:
			in.Revision = strings.TrimPrefix(strings.TrimPrefix(rel.Name, "istiod"), "-")
		case mesh.ChartLinkerdControlPlane:
			id.TrustAnchorsPEM, _ = lookupString(rel.Values, "identityTrustAnchorsPEM")
			id.IssuerCertPEM, _ = lookupString(rel.Values, "identity", "issuer", "tls", "crtPEM")
			id.IssuerKeyPEM, _ = lookupString(rel.Values, "identity", "issuer", "tls", "keyPEM")
		}
	}
	if in.Mesh == mesh.MeshLinkerd {
		in.Mode = ""
	}
	return id
}

func adoptedModel(m installModel, in mesh.Install, repository string, id install.LinkerdIdentity, values map[string]string) installModel {
	out := emptyInstallModel()
	out.ID, out.Mesh, out.Namespace = m.ID, m.Mesh, m.Namespace
	out.Version = types.StringValue(in.Version)
	out.ChartRepository = types.StringValue(pick(in.Mesh == mesh.MeshLinkerd, mesh.LinkerdRepository, mesh.IstioRepository))
	if repository != "" {
		out.ChartRepository = types.StringValue(repository)
	}
	out.Mode, out.Revision = types.StringNull(), types.StringNull()
	if in.Mesh == mesh.MeshIstio {
		out.Mode = types.StringValue(string(in.Mode))
	}
	if in.Revision != "" {
		out.Revision = types.StringValue(in.Revision)
	}
	if in.Mesh == mesh.MeshLinkerd {
		out.GeneratedIdentity = generatedIdentityValue(id.TrustAnchorsPEM, id.IssuerCertPEM)
	}
	if len(values) > 0 {
		elems := map[string]attr.Value{}
		for k, v := range values {
			elems[k] = types.StringValue(v)
		}
		out.Values = types.MapValueMust(types.StringType, elems)
	}
	out.GatewayAPICRDs = types.ObjectValueMust(gatewayAPIAttrTypes, map[string]attr.Value{
		"mode": types.StringValue(string(mesh.GatewayAPIRequire)), "version": types.StringValue(defaultGatewayAPIVersion),
	})
	out.Wait, out.Timeout = types.BoolValue(true), types.StringValue(defaultInstallTimeout)
	return out
}

// userValues is, per chart, YAML of the discovered values that differ from
// what the provider would set itself.
func userValues(found *install.Plan, defaults install.Plan, diags *diag.Diagnostics) map[string]string {
	base := map[string]map[string]any{}
	for _, rel := range defaults.Releases {
		base[rel.Chart] = rel.Values
	}
	out := map[string]string{}
	for _, rel := range found.Releases {
		extra := valuesDiff(rel.Values, base[rel.Chart])
		if len(extra) == 0 {
			continue
		}
		y, err := yaml.Marshal(extra)
		if err != nil {
			diags.AddError("Import failed", err.Error())
			continue
		}
		out[rel.Chart] = string(y)
	}
	return out
}

// valuesDiff returns what got sets beyond base.
func valuesDiff(got, base map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range got {
		b, ok := base[k]
		gm, gok := v.(map[string]any)
		bm, bok := b.(map[string]any)
		switch {
		case gok && bok:
			if d := valuesDiff(gm, bm); len(d) > 0 {
				out[k] = d
			}
		case !ok || !reflect.DeepEqual(normalize(v), normalize(b)):
			out[k] = v
		}
	}
	return out
}

// normalize makes numbers comparable across YAML and JSON decoding.
func normalize(v any) any {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	}
	return v
}

func lookupString(values map[string]any, keys ...string) (string, bool) {
	var cur any = values
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		cur = m[k]
	}
	s, ok := cur.(string)
	return s, ok
}
