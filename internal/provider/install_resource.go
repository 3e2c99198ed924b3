package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/meshform/terraform-provider-mesh/internal/certs"
	"github.com/meshform/terraform-provider-mesh/internal/install"
	"github.com/meshform/terraform-provider-mesh/internal/install/gatewayapi"
	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/preflight"
)

var (
	_ resource.ResourceWithConfigure      = (*installResource)(nil)
	_ resource.ResourceWithValidateConfig = (*installResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*installResource)(nil)
	_ resource.ResourceWithImportState    = (*installResource)(nil)
)

const installType = "mesh_install"

// privateApplied records, in private state, the release revisions and
// manifests digest the last apply left, so that a plan can tell a change
// made outside Terraform (drift) from the state's own values.
const privateApplied = "applied"

// NewInstallResource is the mesh_install resource.
func NewInstallResource() resource.Resource {
	return &installResource{lifecycle: lifecycle{typeName: installType}}
}

type installResource struct {
	lifecycle

	once      sync.Once
	installer *install.Installer
	err       error
}

func (r *installResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_install"
}

func (r *installResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.configure(req.ProviderData, &resp.Diagnostics)
}

// engine returns the Helm-based installer, built on first use.
func (r *installResource) engine() (*install.Installer, error) {
	if r.data == nil {
		return nil, errors.New("the provider is not configured")
	}
	bounds := &kube.RetryBounds{}
	cfg, err := r.data.RESTConfig(bounds)
	if err != nil {
		return nil, err
	}
	r.once.Do(func() {
		r.installer, r.err = install.New(cfg, install.Options{BoundRetries: func(until time.Time) (func(time.Time), func()) {
			b := bounds.Hold(until)
			return b.Move, b.Release
		}})
	})
	return r.installer, r.err
}

// ValidateConfig runs the pure checks: attributes that only one mesh
// takes, the values, and the supplied Linkerd certificates.
func (r *installResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg installModel
	resp.Diagnostics.Append(getConfig(ctx, req.Config, &cfg)...)
	if resp.Diagnostics.HasError() || cfg.Mesh.IsUnknown() || cfg.Mesh.IsNull() {
		return
	}
	// The values known so far are checked; unknown ones are stood in for,
	// and what they could decide is dropped (see unknowns.go).
	meshOnly(cfg, &resp.Diagnostics)
	addProblems(&resp.Diagnostics, installProblems(ctx, req.Config, &resp.Diagnostics))
	validateGatewayAPI(ctx, cfg, &resp.Diagnostics)
	if cfg.Mesh.ValueString() == string(mesh.MeshLinkerd) && !cfg.LinkerdIdentity.IsNull() {
		if id, ok, d := cfg.suppliedIdentity(); ok && !d.HasError() {
			addProblems(&resp.Diagnostics, certs.ValidateLinkerdIdentity(id.TrustAnchorsPEM, id.IssuerCertPEM, id.IssuerKeyPEM, time.Now()))
		}
	}
}

// installProblems are the intent's findings that no unknown value could
// decide (see lifecycle_check.go).
func installProblems(ctx context.Context, config tfsdk.Config, diags *diag.Diagnostics) mesh.Problems {
	c, ok := checkedConfig[installModel](ctx, config, unknownsIn(ctx, config, config.Raw), diags)
	if !ok {
		return nil
	}
	return variantProblems(c, func(cfg *installModel) (mesh.Problems, diag.Diagnostics) {
		in, _, d := cfg.intent(ctx)
		if d.HasError() {
			return nil, d
		}
		return in.Validate(), d
	}, diags)
}

// meshOnly rejects attributes the chosen mesh does not take.
func meshOnly(cfg installModel, diags *diag.Diagnostics) {
	only := func(attr string, v attr.Value, m mesh.InstallMesh) {
		if !v.IsNull() && cfg.Mesh.ValueString() != string(m) {
			diags.AddAttributeError(path.Root(attr), "Attribute not supported for "+cfg.Mesh.ValueString(),
				fmt.Sprintf("%s applies to mesh = %q only; remove it.", attr, m))
		}
	}
	only("mode", cfg.Mode, mesh.MeshIstio)
	only("revision", cfg.Revision, mesh.MeshIstio)
	only("linkerd_identity", cfg.LinkerdIdentity, mesh.MeshLinkerd)
}

func validateGatewayAPI(ctx context.Context, cfg installModel, diags *diag.Diagnostics) {
	g, d := cfg.gatewayAPI(ctx)
	diags.Append(d...)
	// A null version is the default, which is embedded; Defaults apply to
	// the plan, not to the configuration validated here.
	if !known(g.Mode, g.Version) || g.Version.IsNull() || g.Mode.ValueString() != string(mesh.GatewayAPIInstall) {
		return
	}
	if _, err := gatewayapi.CRDs(g.Version.ValueString()); err != nil {
		diags.AddAttributeError(path.Root("gateway_api_crds").AtName("version"), "Unsupported Gateway API version", err.Error()+".")
	}
}

func (r *installResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan, cfg installModel
	resp.Diagnostics.Append(getPlan(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(getConfig(ctx, req.Config, &cfg)...)
	state := emptyInstallModel()
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(getState(ctx, req.State, &state)...)
	}
	if resp.Diagnostics.HasError() || plan.Mesh.IsUnknown() {
		return
	}
	r.planDefaults(&plan, cfg, state, resp)
	r.regenerateLostIdentity(ctx, &plan, state, &resp.Diagnostics)
	in, ok, d := plan.intent(ctx)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !req.State.Raw.IsNull() {
		if prev, ok, _ := state.intent(ctx); ok {
			addProblems(&resp.Diagnostics, mesh.TrustDomainChange(prev, in))
		}
	}
	applied, d := req.Private.GetKey(ctx, privateApplied)
	resp.Diagnostics.Append(d...)
	if req.State.Raw.IsNull() || inputsChanged(plan, state) || drifted(applied, state) {
		plan.Components = types.ListUnknown(componentType)
		plan.ReleaseRevisions = types.MapUnknown(types.Int64Type)
		plan.ManifestsDigest = types.StringUnknown()
	} else {
		plan.Components, plan.ReleaseRevisions, plan.ManifestsDigest = state.Components, state.ReleaseRevisions, state.ManifestsDigest
	}
	if req.State.Raw.IsNull() && ok {
		r.planNotInstalled(plan, in, &resp.Diagnostics)
	}
	checkGeneratedExpiry(plan, &resp.Diagnostics)
	plan.RenderedObjects = types.MapUnknown(renderedType)
	if ok {
		plan.RenderedObjects = r.planRendered(ctx, plan, cfg, in, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(setPlan(ctx, &resp.Plan, plan)...)
}

// planDefaults fills the mesh-dependent defaults, decides replacement and
// keeps a generated identity for the life of the resource.
func (r *installResource) planDefaults(plan *installModel, cfg installModel, state installModel, resp *resource.ModifyPlanResponse) {
	isLinkerd := plan.Mesh.ValueString() == string(mesh.MeshLinkerd)
	switch {
	case isLinkerd:
		plan.Mode = types.StringNull()
	case cfg.Mode.IsNull():
		plan.Mode = types.StringValue(string(mesh.ModeAmbient))
	}
	if cfg.Namespace.IsNull() {
		plan.Namespace = types.StringValue(pick(isLinkerd, mesh.LinkerdNamespace, mesh.IstioNamespace))
	}
	if cfg.ChartRepository.IsNull() {
		plan.ChartRepository = types.StringValue(pick(isLinkerd, mesh.LinkerdRepository, mesh.IstioRepository))
	}
	if !plan.Namespace.IsUnknown() {
		plan.ID = types.StringValue(plan.Mesh.ValueString() + "/" + plan.Namespace.ValueString())
	}
	if !state.Mesh.IsNull() {
		for _, a := range []struct {
			name         string
			was, planned types.String
		}{{"mode", state.Mode, plan.Mode}, {"namespace", state.Namespace, plan.Namespace}} {
			if !a.planned.IsUnknown() && !a.was.Equal(a.planned) {
				resp.RequiresReplace = append(resp.RequiresReplace, path.Root(a.name))
			}
		}
	}
	switch {
	case !isLinkerd || !cfg.LinkerdIdentity.IsNull():
		plan.GeneratedIdentity = types.ObjectNull(generatedIdentityAttrTypes)
	case !state.GeneratedIdentity.IsNull() && !state.GeneratedIdentity.IsUnknown():
		plan.GeneratedIdentity = state.GeneratedIdentity // generated once, kept
	default:
		plan.GeneratedIdentity = types.ObjectUnknown(generatedIdentityAttrTypes) // generated by apply
	}
}

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}

// inputsChanged reports whether anything the releases are built from
// differs from state. wait and timeout alone change nothing in the
// cluster, nor does chart_repository: the same chart version from a mirror
// is the same chart (and an import cannot know the repository).
func inputsChanged(plan, state installModel) bool {
	pairs := [][2]attr.Value{
		{plan.Mode, state.Mode}, {plan.Version, state.Version}, {plan.Namespace, state.Namespace},
		{plan.Revision, state.Revision}, {plan.Values, state.Values},
		{plan.GatewayAPICRDs, state.GatewayAPICRDs}, {plan.LinkerdIdentity, state.LinkerdIdentity},
		{plan.GeneratedIdentity, state.GeneratedIdentity},
	}
	for _, p := range pairs {
		if !p[0].Equal(p[1]) {
			return true
		}
	}
	return false
}

// appliedRecord is what privateApplied holds.
type appliedRecord struct {
	Revisions map[string]int64 `json:"revisions"`
	Digest    string           `json:"digest"`
}

// drifted reports whether Read found the releases changed since the last
// apply: another revision (an upgrade or rollback outside Terraform) or a
// release gone.
func drifted(applied []byte, state installModel) bool {
	if len(applied) == 0 || state.ReleaseRevisions.IsNull() || state.ReleaseRevisions.IsUnknown() {
		return false
	}
	var rec appliedRecord
	if json.Unmarshal(applied, &rec) != nil {
		return false
	}
	live := map[string]int64{}
	for k, v := range state.ReleaseRevisions.Elements() {
		if n, ok := v.(types.Int64); ok {
			live[k] = n.ValueInt64()
		}
	}
	if len(live) != len(rec.Revisions) || rec.Digest != state.ManifestsDigest.ValueString() {
		return true
	}
	for k, v := range rec.Revisions {
		if live[k] != v {
			return true
		}
	}
	return false
}

func recordApplied(ctx context.Context, private privateSetter, m installModel, diags *diag.Diagnostics) {
	rec := appliedRecord{Revisions: map[string]int64{}, Digest: m.ManifestsDigest.ValueString()}
	for k, v := range m.ReleaseRevisions.Elements() {
		if n, ok := v.(types.Int64); ok {
			rec.Revisions[k] = n.ValueInt64()
		}
	}
	data, _ := json.Marshal(rec)
	diags.Append(private.SetKey(ctx, privateApplied, data)...)
}

// planRendered runs the cluster checks and renders every chart client-side.
// Without a usable cluster the objects are unknown until apply (MESH-GEN-006).
func (r *installResource) planRendered(ctx context.Context, plan, cfg installModel, in mesh.Install, diags *diag.Diagnostics) types.Map {
	unknown := types.MapUnknown(renderedType)
	inst, err := r.engine()
	if err == nil {
		err = r.clusterChecks(ctx, plan, in, diags)
	}
	if err != nil {
		clusterChecksSkipped(diags, err)
		return unknown
	}
	if diags.HasError() {
		return unknown
	}
	var id install.LinkerdIdentity
	if in.Mesh == mesh.MeshLinkerd {
		var haveID bool
		id, haveID = r.identity(ctx, inst, plan, cfg, diags)
		if diags.HasError() {
			return unknown
		}
		if !haveID {
			return r.renderWithPlaceholders(ctx, inst, plan, in, diags)
		}
	}
	rendered, err := r.render(ctx, inst, plan, in, id)
	if err != nil {
		renderFailed(diags, err)
		return unknown
	}
	return renderedValue(rendered)
}

// planNotInstalled refuses, at plan, a create over releases that already
// exist (see refuseExisting). The release names do not depend on the
// Linkerd identity, which a create may only generate at apply, so a
// placeholder stands in for it. Without a cluster the check waits for the
// apply, which runs it again before it writes.
func (r *installResource) planNotInstalled(plan installModel, in mesh.Install, diags *diag.Diagnostics) {
	inst, err := r.engine()
	if err != nil {
		return
	}
	var id install.LinkerdIdentity
	if in.Mesh == mesh.MeshLinkerd {
		if id.TrustAnchorsPEM, id.IssuerCertPEM, id.IssuerKeyPEM, err = certs.GenerateLinkerdIdentity(time.Now()); err != nil {
			return
		}
	}
	p, err := installPlan(in, plan.ChartRepository.ValueString(), id)
	if err != nil {
		return // the apply reports it
	}
	if err := refuseExisting(inst, p, plan.ID.ValueString(), diags); err != nil {
		clusterChecksSkipped(diags, err)
	}
}

// refuseExisting fails a create over Helm releases that already exist and
// were committed: taking them over would upgrade another state's (or
// another tool's) install with this configuration, and this resource's
// destroy would uninstall it. Nothing is adopted silently; import adopts on
// purpose. Releases an unfinished create left (still marked uncommitted)
// are taken over, as the manifest resources take over their uncommitted
// objects, with a warning that names them.
func refuseExisting(inst *install.Installer, p install.Plan, id string, diags *diag.Diagnostics) error {
	committed, left, err := inst.Existing(p, mesh.LabelCommitted)
	if err != nil {
		return err
	}
	if len(committed) > 0 {
		diags.AddError("The mesh is already installed",
			fmt.Sprintf("Creating %s would install over Helm releases that already exist: %s. They belong to another Terraform "+
				"state or workspace, or to a tool outside Terraform (helm, istioctl, linkerd). Creating would take them over "+
				"with this configuration, and this resource's destroy would uninstall them. To manage them here, import them "+
				"(terraform import mesh_install.NAME %s); otherwise uninstall them first, or install into another namespace.",
				id, strings.Join(committed, "; "), id))
		return nil
	}
	if len(left) > 0 {
		diags.AddWarning("Taking over releases an unfinished create left",
			fmt.Sprintf("Helm releases %s carry %s=false: a create of this installation installed them and did not finish "+
				"(it was interrupted, or failed and could not undo them). This create takes them over and upgrades them to "+
				"this configuration.", strings.Join(left, "; "), mesh.LabelCommitted))
	}
	return nil
}

// clusterChecks runs preflight.Install; an error means they could not run.
func (r *installResource) clusterChecks(ctx context.Context, m installModel, in mesh.Install, diags *diag.Diagnostics) error {
	mgr, err := r.manager()
	if err != nil {
		return err
	}
	g, d := m.gatewayAPI(ctx)
	diags.Append(d...)
	problems, err := preflight.Install(ctx, mgr, in, mesh.GatewayAPIMode(g.Mode.ValueString()))
	if err != nil {
		return err
	}
	addProblems(diags, problems)
	return nil
}

func (r *installResource) render(ctx context.Context, inst *install.Installer, m installModel, in mesh.Install, id install.LinkerdIdentity) (map[string][]install.RenderedObject, error) {
	p, err := installPlan(in, m.ChartRepository.ValueString(), id)
	if err != nil {
		return nil, err
	}
	return renderByChart(ctx, inst, p)
}

// renderByChart renders p keyed by chart name (the engine keys by release).
func renderByChart(ctx context.Context, inst *install.Installer, p install.Plan) (map[string][]install.RenderedObject, error) {
	byRelease, err := inst.Render(ctx, p)
	if err != nil {
		return nil, err
	}
	out := map[string][]install.RenderedObject{}
	for _, rel := range p.Releases {
		out[rel.Chart] = byRelease[rel.Name]
	}
	return out, nil
}

// renderWithPlaceholders renders a Linkerd install whose identity apply
// will generate: twice, with two throwaway identities. Objects that come out
// the same do not depend on the identity and are known now; the others
// (the issuer Secret, the trust-roots ConfigMap, ...) are known after apply.
func (r *installResource) renderWithPlaceholders(ctx context.Context, inst *install.Installer, m installModel, in mesh.Install, diags *diag.Diagnostics) types.Map {
	var renders [2]map[string][]install.RenderedObject
	for i := range renders {
		var id install.LinkerdIdentity
		var err error
		id.TrustAnchorsPEM, id.IssuerCertPEM, id.IssuerKeyPEM, err = certs.GenerateLinkerdIdentity(time.Now())
		if err == nil {
			renders[i], err = r.render(ctx, inst, m, in, id)
		}
		if err != nil {
			renderFailed(diags, err)
			return types.MapUnknown(renderedType)
		}
	}
	elems := map[string]attr.Value{}
	for chart, objs := range renders[0] {
		a, b := renderedLines(objs), renderedLines(renders[1][chart])
		vs := make([]attr.Value, len(a))
		for i := range a {
			vs[i] = types.StringUnknown()
			if i < len(b) && a[i] == b[i] {
				vs[i] = types.StringValue(a[i])
			}
		}
		elems[chart] = types.ListValueMust(types.StringType, vs)
	}
	return types.MapValueMust(renderedType, elems)
}

// mergeRendered keeps every line the plan knew and fills the unknown ones
// from fresh, rendered with the identity apply generated.
func mergeRendered(planned types.Map, fresh map[string][]install.RenderedObject) types.Map {
	if planned.IsUnknown() || planned.IsNull() {
		return renderedValue(fresh)
	}
	elems := map[string]attr.Value{}
	for chart, v := range planned.Elements() {
		list, ok := v.(types.List)
		lines := renderedLines(fresh[chart])
		if !ok || list.IsUnknown() || len(list.Elements()) != len(lines) {
			elems[chart] = stringList(lines)
			continue
		}
		vs := list.Elements()
		for i := range vs {
			if vs[i].IsUnknown() {
				vs[i] = types.StringValue(lines[i])
			}
		}
		elems[chart] = types.ListValueMust(types.StringType, vs)
	}
	return types.MapValueMust(renderedType, elems)
}

func (r *installResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, cfg installModel
	resp.Diagnostics.Append(getPlan(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(getConfig(ctx, req.Config, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id, ok := r.applyIdentity(ctx, &plan, cfg, &resp.Diagnostics)
	if ok && r.apply(ctx, &plan, id, false, &resp.Diagnostics) {
		resp.Diagnostics.Append(setState(ctx, &resp.State, plan)...)
		recordApplied(ctx, resp.Private, plan, &resp.Diagnostics)
	}
}

func (r *installResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, cfg installModel
	resp.Diagnostics.Append(getPlan(ctx, req.Plan, &plan)...)
	resp.Diagnostics.Append(getState(ctx, req.State, &state)...)
	resp.Diagnostics.Append(getConfig(ctx, req.Config, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.ReleaseRevisions.IsUnknown() {
		resp.Diagnostics.Append(setState(ctx, &resp.State, plan)...) // only wait, timeout or chart_repository changed
		return
	}
	id, ok := r.applyIdentity(ctx, &plan, cfg, &resp.Diagnostics)
	if !ok {
		return
	}
	if r.apply(ctx, &plan, id, true, &resp.Diagnostics) {
		resp.Diagnostics.Append(setState(ctx, &resp.State, plan)...)
		recordApplied(ctx, resp.Private, plan, &resp.Diagnostics)
		return
	}
	// The engine rolled every release back: keep the prior configuration,
	// with the revisions the rollback made, so the next plan is clean.
	var d diag.Diagnostics
	if r.refreshReleases(ctx, &state, &d) {
		recordApplied(ctx, resp.Private, state, &d)
	}
	resp.Diagnostics.Append(setState(ctx, &resp.State, state)...)
}

// apply installs or upgrades the releases the plan describes and records
// the outcome in plan.
func (r *installResource) apply(ctx context.Context, plan *installModel, id install.LinkerdIdentity, update bool, diags *diag.Diagnostics) bool {
	in, _, d := plan.intent(ctx)
	diags.Append(d...)
	if diags.HasError() {
		return false
	}
	if problems := in.Validate(); problems.HasErrors() {
		addProblems(diags, problems)
		return false
	}
	// Budget: the readiness wait, a rollback's own wait, and the downloads.
	ctx, cancel := context.WithTimeout(ctx, 2*plan.applyTimeout()+5*time.Minute)
	defer cancel()
	inst, err := r.engine()
	if err != nil {
		clusterUnavailable(diags, err)
		return false
	}
	if err := r.clusterChecks(ctx, *plan, in, diags); err != nil {
		clusterUnavailable(diags, err)
		return false
	}
	if diags.HasError() || !r.installGatewayAPI(ctx, *plan, diags) {
		return false
	}
	p, err := installPlan(in, plan.ChartRepository.ValueString(), id)
	if err != nil {
		diags.AddError("Invalid install", redact(err.Error()))
		return false
	}
	if !update {
		if err := refuseExisting(inst, p, plan.ID.ValueString(), diags); err != nil {
			clusterUnavailable(diags, err)
		}
		if diags.HasError() {
			return false
		}
	}
	res, err := inst.Apply(ctx, p, install.ApplyOptions{Wait: plan.Wait.ValueBool(), Timeout: plan.applyTimeout(), UncommittedLabel: mesh.LabelCommitted})
	if err != nil {
		installFailed(diags, plan.ID.ValueString(), err, update)
		return false
	}
	for _, did := range res.Recovered {
		tflog.Warn(ctx, "recovered a pending Helm release", map[string]any{"resource": plan.ID.ValueString(), "recovered": did})
		diags.AddWarning("Recovered an interrupted Helm operation", fmt.Sprintf("%s: %s.", plan.ID.ValueString(), did))
	}
	plan.Components = componentsValue(res.Components)
	if !r.refreshReleases(ctx, plan, diags) {
		return false
	}
	if !plan.RenderedObjects.IsNull() && !plan.RenderedObjects.IsUnknown() && fullyKnown(plan.RenderedObjects) {
		return true
	}
	fresh, err := renderByChart(ctx, inst, p)
	if err != nil {
		renderFailed(diags, err)
		return false
	}
	plan.RenderedObjects = mergeRendered(plan.RenderedObjects, fresh)
	return true
}

func fullyKnown(m types.Map) bool {
	for _, v := range m.Elements() {
		l, ok := v.(types.List)
		if !ok || l.IsUnknown() {
			return false
		}
		for _, e := range l.Elements() {
			if e.IsUnknown() {
				return false
			}
		}
	}
	return true
}

// installGatewayAPI applies the embedded Gateway API CRDs when asked to.
func (r *installResource) installGatewayAPI(ctx context.Context, m installModel, diags *diag.Diagnostics) bool {
	g, d := m.gatewayAPI(ctx)
	diags.Append(d...)
	if g.Mode.ValueString() != string(mesh.GatewayAPIInstall) {
		return !diags.HasError()
	}
	mgr, err := r.manager()
	if err != nil {
		clusterUnavailable(diags, err)
		return false
	}
	if err := gatewayapi.Install(ctx, mgr.Dynamic(), mgr.FieldManager(), g.Version.ValueString(), m.applyTimeout()); err != nil {
		diags.AddAttributeError(path.Root("gateway_api_crds"), "Installing the Gateway API CRDs failed", err.Error()+". Nothing else was changed.")
		return false
	}
	return true
}

// refreshReleases reads the releases' revisions and digest into m; it
// reports false (with a diagnostic) when they cannot be read.
func (r *installResource) refreshReleases(ctx context.Context, m *installModel, diags *diag.Diagnostics) bool {
	st, p, ok := r.status(ctx, *m, diags)
	if !ok {
		return false
	}
	m.ReleaseRevisions, m.ManifestsDigest = liveRevisions(p, st)
	return true
}

// status reads the releases of m from the cluster.
func (r *installResource) status(ctx context.Context, m installModel, diags *diag.Diagnostics) (*install.Status, install.Plan, bool) {
	inst, err := r.engine()
	if err != nil {
		clusterUnavailable(diags, err)
		return nil, install.Plan{}, false
	}
	in, _, d := m.intent(ctx)
	diags.Append(d...)
	p, err := installPlan(in, m.ChartRepository.ValueString(), placeholderIdentity) // Status reads release names only
	if err != nil {
		diags.AddError("Invalid install", redact(err.Error()))
		return nil, p, false
	}
	st, err := inst.Status(ctx, p)
	if err != nil {
		diags.AddError("Reading the Helm releases failed", redact(err.Error()))
		return nil, p, false
	}
	return st, p, true
}

// placeholderIdentity stands in where only the releases' names matter.
var placeholderIdentity = install.LinkerdIdentity{TrustAnchorsPEM: "-", IssuerCertPEM: "-", IssuerKeyPEM: "-"}

// liveRevisions returns each existing release's revision by chart, and one
// digest over their deployed manifests.
func liveRevisions(p install.Plan, st *install.Status) (types.Map, types.String) {
	revs := map[string]int{}
	h := sha256.New()
	for _, rel := range p.Releases {
		rs, ok := releaseStatus(st, rel)
		if !ok || !rs.Exists || !rs.Deployed() {
			// A failed or pending revision is not what was applied: drift,
			// which the next apply repairs.
			continue
		}
		revs[rel.Chart] = rs.Revision
		_, _ = fmt.Fprintf(h, "%s=%s\n", rel.Chart, rs.ManifestsDigest) // a hash never fails to write
	}
	return revisionsValue(revs), types.StringValue(hex.EncodeToString(h.Sum(nil)))
}

// releaseStatus finds a release's status, keyed by release or chart name.
func releaseStatus(st *install.Status, rel install.Release) (install.ReleaseStatus, bool) {
	if rs, ok := st.Releases[rel.Name]; ok {
		return rs, true
	}
	rs, ok := st.Releases[rel.Chart]
	return rs, ok
}

func (r *installResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state installModel
	resp.Diagnostics.Append(getState(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, defaultReadTimeout)
	defer cancel()
	if state.Version.IsNull() {
		if r.importLive(ctx, &state, &resp.Diagnostics) {
			resp.Diagnostics.Append(setState(ctx, &resp.State, state)...)
			recordApplied(ctx, resp.Private, state, &resp.Diagnostics)
		}
		return
	}
	st, p, ok := r.status(ctx, state, &resp.Diagnostics)
	if !ok {
		return
	}
	state.ReleaseRevisions, state.ManifestsDigest = liveRevisions(p, st)
	if len(state.ReleaseRevisions.Elements()) == 0 {
		resp.State.RemoveResource(ctx) // every release was uninstalled out of band
		return
	}
	resp.Diagnostics.Append(setState(ctx, &resp.State, state)...)
}

func (r *installResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state installModel
	resp.Diagnostics.Append(getState(ctx, req.State, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	inst, err := r.engine()
	if err != nil {
		clusterUnavailable(&resp.Diagnostics, err)
		return
	}
	in, _, d := state.intent(ctx)
	resp.Diagnostics.Append(d...)
	p, err := installPlan(in, state.ChartRepository.ValueString(), placeholderIdentity) // Uninstall needs release names only
	if err != nil {
		resp.Diagnostics.AddError("Invalid install", redact(err.Error()))
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*state.applyTimeout())
	defer cancel()
	if err := inst.Uninstall(ctx, p, state.applyTimeout()); err != nil {
		resp.Diagnostics.AddError("Uninstall failed",
			fmt.Sprintf("%s: %s. Releases not yet removed stay visible in `helm list -n %s`; run terraform destroy again.", state.ID.ValueString(), redact(err.Error()), in.Namespace))
	}
}

// privateKeyPEM matches a PEM private key, which must never reach a
// diagnostic (Helm errors can quote values).
var privateKeyPEM = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)`)

func redact(s string) string {
	return privateKeyPEM.ReplaceAllString(s, "[redacted private key]")
}

func renderFailed(diags *diag.Diagnostics, err error) {
	diags.AddError("Rendering the charts failed",
		redact(err.Error())+". Check version, chart_repository (reachable from where Terraform runs) and values.")
}

// installFailed says what failed and, truthfully, what the engine undid:
// "rolled back" only when every change was.
func installFailed(diags *diag.Diagnostics, address string, err error, update bool) {
	verb, undone := "install", "Nothing is left installed, and the resource is not created."
	if update {
		verb, undone = "upgrade", "Terraform state keeps the previous configuration, which is what the cluster runs again."
	}
	var ie *install.Error
	if !errors.As(err, &ie) {
		diags.AddError("Mesh "+verb+" failed", fmt.Sprintf("%s: %s", address, redact(err.Error())))
		return
	}
	var b strings.Builder
	if ie.Release != "" {
		fmt.Fprintf(&b, "%s: the %s failed at release %s: %s.", address, verb, ie.Release, redact(fmt.Sprint(ie.Cause)))
	} else {
		fmt.Fprintf(&b, "%s: the %s failed: %s.", address, verb, redact(fmt.Sprint(ie.Cause)))
	}
	for _, did := range ie.Recovered {
		fmt.Fprintf(&b, "\nFirst, %s.", did)
	}
	for _, c := range ie.NotReady {
		fmt.Fprintf(&b, "\n  not ready: %s/%s/%s: %s", c.Kind, c.Namespace, c.Name, c.Message)
	}
	if len(ie.RolledBack) > 0 {
		fmt.Fprintf(&b, "\nRolled back to their previous revisions: %s.", strings.Join(ie.RolledBack, ", "))
	}
	if len(ie.Uninstalled) > 0 {
		fmt.Fprintf(&b, "\nUninstalled (this apply had created them): %s.", strings.Join(ie.Uninstalled, ", "))
	}
	summary := fmt.Sprintf("Mesh %s failed and was rolled back", verb)
	switch {
	case ie.RollbackErr != nil:
		summary = fmt.Sprintf("Mesh %s failed and could not be rolled back", verb)
		fmt.Fprintf(&b, "\nUndoing the change failed for %s, left as this apply changed them: %s.\nRun terraform apply again once the cause is fixed: the next plan shows what differs.",
			strings.Join(ie.NotUndone, ", "), redact(ie.RollbackErr.Error()))
	case len(ie.RolledBack)+len(ie.Uninstalled) == 0:
		summary = fmt.Sprintf("Mesh %s failed", verb)
		b.WriteString("\nNothing was changed.")
	default:
		b.WriteString("\n" + undone)
	}
	// A readiness wait reports a refused read in a component's message.
	if apierrors.IsForbidden(err) || strings.Contains(b.String(), " is forbidden: User ") {
		summary = "Permission denied: " + summary
		b.WriteString("\n" + permissionHint)
	}
	diags.AddError(summary, b.String())
}
