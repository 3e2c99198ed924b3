package provider

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/meshform/terraform-provider-mesh/internal/certs"
	"github.com/meshform/terraform-provider-mesh/internal/install"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

var repositoryPattern = regexp.MustCompile(`^(https?|oci)://\S+$`)

type installModel struct {
	ID                types.String `tfsdk:"id"`
	Mesh              types.String `tfsdk:"mesh"`
	Mode              types.String `tfsdk:"mode"`
	Version           types.String `tfsdk:"version"`
	Namespace         types.String `tfsdk:"namespace"`
	ChartRepository   types.String `tfsdk:"chart_repository"`
	Revision          types.String `tfsdk:"revision"`
	Values            types.Map    `tfsdk:"values"`
	GatewayAPICRDs    types.Object `tfsdk:"gateway_api_crds"`
	LinkerdIdentity   types.Object `tfsdk:"linkerd_identity"`
	GeneratedIdentity types.Object `tfsdk:"generated_identity"`
	Wait              types.Bool   `tfsdk:"wait"`
	Timeout           types.String `tfsdk:"timeout"`
	RenderedObjects   types.Map    `tfsdk:"rendered_objects"`
	Components        types.List   `tfsdk:"components"`
	ReleaseRevisions  types.Map    `tfsdk:"release_revisions"`
	ManifestsDigest   types.String `tfsdk:"manifests_digest"`
}

type gatewayAPIModel struct {
	Mode    types.String `tfsdk:"mode"`
	Version types.String `tfsdk:"version"`
}

// identityModel is linkerd_identity: the certificates are plain, so that a
// rotation shows in the plan; the key is write-only, so it is never in plan
// or state.
type identityModel struct {
	TrustAnchorsPEM types.String `tfsdk:"trust_anchors_pem"`
	IssuerCertPEM   types.String `tfsdk:"issuer_cert_pem"`
	IssuerKeyPEM    types.String `tfsdk:"issuer_key_pem"`
}

// generatedIdentityModel is generated_identity: the public certificates and
// what identifies them; the keys stay in the cluster.
type generatedIdentityModel struct {
	TrustAnchorsPEM        types.String `tfsdk:"trust_anchors_pem"`
	IssuerCertPEM          types.String `tfsdk:"issuer_cert_pem"`
	TrustAnchorFingerprint types.String `tfsdk:"trust_anchor_fingerprint"`
	TrustAnchorExpiresAt   types.String `tfsdk:"trust_anchor_expires_at"`
	IssuerFingerprint      types.String `tfsdk:"issuer_fingerprint"`
	IssuerExpiresAt        types.String `tfsdk:"issuer_expires_at"`
}

var (
	gatewayAPIAttrTypes = map[string]attr.Type{"mode": types.StringType, "version": types.StringType}
	identityAttrTypes   = map[string]attr.Type{
		"trust_anchors_pem": types.StringType, "issuer_cert_pem": types.StringType, "issuer_key_pem": types.StringType,
	}
	generatedIdentityAttrTypes = map[string]attr.Type{
		"trust_anchors_pem": types.StringType, "issuer_cert_pem": types.StringType,
		"trust_anchor_fingerprint": types.StringType, "trust_anchor_expires_at": types.StringType,
		"issuer_fingerprint": types.StringType, "issuer_expires_at": types.StringType,
	}
	componentAttrTypes = map[string]attr.Type{
		"name": types.StringType, "kind": types.StringType, "namespace": types.StringType,
		"ready": types.BoolType, "message": types.StringType,
	}
	renderedType  = types.ListType{ElemType: types.StringType}
	componentType = types.ObjectType{AttrTypes: componentAttrTypes}
)

// emptyInstallModel has the right types for every value a prior state may
// lack (create).
func emptyInstallModel() installModel {
	return installModel{
		Values:            types.MapNull(types.StringType),
		GatewayAPICRDs:    types.ObjectNull(gatewayAPIAttrTypes),
		LinkerdIdentity:   types.ObjectNull(identityAttrTypes),
		GeneratedIdentity: types.ObjectNull(generatedIdentityAttrTypes),
		RenderedObjects:   types.MapNull(renderedType),
		Components:        types.ListNull(componentType),
		ReleaseRevisions:  types.MapNull(types.Int64Type),
	}
}

func known(vs ...attr.Value) bool {
	for _, v := range vs {
		if v.IsUnknown() {
			return false
		}
	}
	return true
}

// intent converts the model; known is false while a value the charts
// depend on is unknown.
func (m installModel) intent(ctx context.Context) (mesh.Install, bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	in := mesh.Install{
		Mesh:      mesh.InstallMesh(m.Mesh.ValueString()),
		Mode:      mesh.InstallMode(m.Mode.ValueString()),
		Version:   m.Version.ValueString(),
		Namespace: m.Namespace.ValueString(),
		Revision:  m.Revision.ValueString(),
	}
	if !known(m.Mesh, m.Mode, m.Version, m.Namespace, m.Revision, m.Values) || !known(slices.Collect(maps.Values(m.Values.Elements()))...) {
		return in, false, diags
	}
	if !m.Values.IsNull() {
		var d diag.Diagnostics
		in.Values, d = stringsOf(m.Values)
		diags.Append(d...)
	}
	if in.Mesh == mesh.MeshIstio && in.Mode == "" {
		in.Mode = mesh.ModeAmbient
	}
	return in, !diags.HasError(), diags
}

func (m installModel) gatewayAPI(ctx context.Context) (gatewayAPIModel, diag.Diagnostics) {
	var g gatewayAPIModel
	if m.GatewayAPICRDs.IsNull() || m.GatewayAPICRDs.IsUnknown() {
		return gatewayAPIModel{Mode: types.StringValue(string(mesh.GatewayAPIRequire)), Version: types.StringValue(defaultGatewayAPIVersion)}, nil
	}
	d := objectInto(m.GatewayAPICRDs, &g)
	return g, d
}

// certificates are the public parts of the Linkerd identity in use (the
// supplied one, else the generated one) as m, a plan or a state, has them;
// ok is false while neither is known.
func (m installModel) certificates() (anchors, issuer string, generated, ok bool, diags diag.Diagnostics) {
	switch {
	case m.LinkerdIdentity.IsUnknown():
		return "", "", false, false, nil
	case !m.LinkerdIdentity.IsNull():
		var id identityModel
		diags = objectInto(m.LinkerdIdentity, &id)
		ok = !diags.HasError() && known(id.TrustAnchorsPEM, id.IssuerCertPEM)
		return id.TrustAnchorsPEM.ValueString(), id.IssuerCertPEM.ValueString(), false, ok, diags
	case m.GeneratedIdentity.IsUnknown() || m.GeneratedIdentity.IsNull():
		return "", "", true, false, nil
	}
	var id generatedIdentityModel
	diags = objectInto(m.GeneratedIdentity, &id)
	ok = !diags.HasError() && known(id.TrustAnchorsPEM, id.IssuerCertPEM)
	return id.TrustAnchorsPEM.ValueString(), id.IssuerCertPEM.ValueString(), true, ok, diags
}

// suppliedIdentity is linkerd_identity as the configuration has it, key
// included (a write-only value is in the configuration only); ok is false
// when it is absent or not yet known.
func (m installModel) suppliedIdentity() (install.LinkerdIdentity, bool, diag.Diagnostics) {
	if m.LinkerdIdentity.IsNull() || m.LinkerdIdentity.IsUnknown() {
		return install.LinkerdIdentity{}, false, nil
	}
	var id identityModel
	d := objectInto(m.LinkerdIdentity, &id)
	if d.HasError() || !known(id.TrustAnchorsPEM, id.IssuerCertPEM, id.IssuerKeyPEM) {
		return install.LinkerdIdentity{}, false, d
	}
	return install.LinkerdIdentity{
		TrustAnchorsPEM: id.TrustAnchorsPEM.ValueString(),
		IssuerCertPEM:   id.IssuerCertPEM.ValueString(),
		IssuerKeyPEM:    id.IssuerKeyPEM.ValueString(),
	}, true, nil
}

// generatedIdentityValue is generated_identity for the certificates: they
// and their fingerprints and expiry dates, never a key.
func generatedIdentityValue(anchors, issuer string) types.Object {
	vals := map[string]attr.Value{
		"trust_anchors_pem": types.StringValue(anchors), "issuer_cert_pem": types.StringValue(issuer),
	}
	for _, c := range []struct{ prefix, pem string }{{"trust_anchor", anchors}, {"issuer", issuer}} {
		fingerprint, expires := types.StringNull(), types.StringNull()
		if info, err := certs.Inspect(c.pem); err == nil {
			fingerprint, expires = types.StringValue(info.Fingerprint), types.StringValue(info.NotAfter.UTC().Format(time.RFC3339))
		}
		vals[c.prefix+"_fingerprint"], vals[c.prefix+"_expires_at"] = fingerprint, expires
	}
	return types.ObjectValueMust(generatedIdentityAttrTypes, vals)
}

// installPlan builds the engine's plan for the intent with identity.
func installPlan(in mesh.Install, repository string, id install.LinkerdIdentity) (install.Plan, error) {
	if in.Mesh == mesh.MeshLinkerd {
		return install.LinkerdPlan(install.LinkerdOptions{
			Namespace: in.Namespace, Repository: repository, Version: in.Version, Identity: id, Values: in.Values,
		})
	}
	return install.IstioPlan(install.IstioOptions{
		Namespace: in.Namespace, Repository: repository, Version: in.Version, Revision: in.Revision,
		Ambient: in.Mode == mesh.ModeAmbient, Values: in.Values,
	})
}

// renderedLines are a chart's objects as "Kind/namespace/name sha256",
// sorted by object so that the plan diff lines up.
func renderedLines(objs []install.RenderedObject) []string {
	lines := make([]string, len(objs))
	for i, o := range objs {
		lines[i] = o.Kind + "/" + o.Namespace + "/" + o.Name + " " + o.SHA256
	}
	sort.Strings(lines)
	return lines
}

func renderedValue(rendered map[string][]install.RenderedObject) types.Map {
	elems := map[string]attr.Value{}
	for chart, objs := range rendered {
		elems[chart] = stringList(renderedLines(objs))
	}
	return types.MapValueMust(renderedType, elems)
}

func stringList(ss []string) types.List {
	vs := make([]attr.Value, len(ss))
	for i, s := range ss {
		vs[i] = types.StringValue(s)
	}
	return types.ListValueMust(types.StringType, vs)
}

func componentsValue(cs []install.Component) types.List {
	vs := make([]attr.Value, len(cs))
	for i, c := range cs {
		vs[i] = types.ObjectValueMust(componentAttrTypes, map[string]attr.Value{
			"name": types.StringValue(c.Name), "kind": types.StringValue(c.Kind), "namespace": types.StringValue(c.Namespace),
			"ready": types.BoolValue(c.Ready), "message": types.StringValue(c.Message),
		})
	}
	return types.ListValueMust(componentType, vs)
}

func revisionsValue(revs map[string]int) types.Map {
	elems := map[string]attr.Value{}
	for chart, r := range revs {
		elems[chart] = types.Int64Value(int64(r))
	}
	return types.MapValueMust(types.Int64Type, elems)
}

// applyTimeout is the timeout attribute, or its default.
func (m installModel) applyTimeout() time.Duration {
	d, err := time.ParseDuration(m.Timeout.ValueString())
	if err != nil || d <= 0 {
		d, _ = time.ParseDuration(defaultInstallTimeout)
	}
	return d
}
