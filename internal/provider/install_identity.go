package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/meshform/terraform-provider-mesh/internal/certs"
	"github.com/meshform/terraform-provider-mesh/internal/install"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// The Linkerd identity's private keys are never in plan, state or logs. A
// supplied issuer key is a write-only attribute, read from the
// configuration at every plan and apply; a generated one lives in the
// cluster only (the chart's issuer Secret and the Helm release), and is read
// back from there when a plan renders the charts or an upgrade runs them.

// identityGuide is where the rotation steps are documented.
const identityGuide = "docs/guides/linkerd-identity.md"

// identity is the identity the charts of m render with: m's certificates,
// with the key from the configuration (supplied) or from the cluster
// (generated). ok is false while the identity is not known yet (generated
// by apply, or a supplied value unknown); a diagnostic says why it cannot
// be had.
func (r *installResource) identity(ctx context.Context, inst *install.Installer, m, cfg installModel, diags *diag.Diagnostics) (install.LinkerdIdentity, bool) {
	anchors, issuer, generated, ok, d := m.certificates()
	diags.Append(d...)
	if !ok || d.HasError() {
		return install.LinkerdIdentity{}, false
	}
	if !generated {
		id, ok, d := cfg.suppliedIdentity()
		diags.Append(d...)
		return id, ok
	}
	key, err := inst.LinkerdIssuerKey(ctx, m.Namespace.ValueString())
	if err == nil {
		err = certs.KeyMatches(issuer, key)
	}
	if err != nil {
		missingGeneratedKey(diags, m.Namespace.ValueString(), err)
		return install.LinkerdIdentity{}, false
	}
	return install.LinkerdIdentity{TrustAnchorsPEM: anchors, IssuerCertPEM: issuer, IssuerKeyPEM: key}, true
}

func missingGeneratedKey(diags *diag.Diagnostics, namespace string, err error) {
	var why string
	var keyErr *certs.KeyError
	switch {
	case errors.Is(err, install.ErrNoIssuerKey):
		why = err.Error()
	case errors.As(err, &keyErr):
		why = "the key it holds does not belong to generated_identity.issuer_cert_pem (" + keyErr.Error() + "): it was changed outside Terraform"
	default:
		clusterUnavailable(diags, err)
		return
	}
	diags.AddAttributeError(path.Root("generated_identity"), "The generated Linkerd issuer key is not in the cluster",
		fmt.Sprintf("A generated identity's private key is kept in the cluster only, in Secret %s/linkerd-identity-issuer, never in "+
			"Terraform state; %s. Supply linkerd_identity (a trust anchor bundle and an issuer with its key, see %s), or "+
			"replace the install (terraform apply -replace) to generate a new identity; meshed workloads trust a new "+
			"anchor only after they restart.", namespace, why, identityGuide))
}

// applyIdentity is the identity an apply installs with: generated now when
// the plan leaves generated_identity to apply (a create, or linkerd_identity
// removed), recorded in plan without its key; else as identity has it.
func (r *installResource) applyIdentity(ctx context.Context, plan *installModel, cfg installModel, diags *diag.Diagnostics) (install.LinkerdIdentity, bool) {
	if plan.Mesh.ValueString() != string(mesh.MeshLinkerd) {
		return install.LinkerdIdentity{}, true
	}
	if plan.GeneratedIdentity.IsUnknown() {
		var id install.LinkerdIdentity
		var err error
		id.TrustAnchorsPEM, id.IssuerCertPEM, id.IssuerKeyPEM, err = certs.GenerateLinkerdIdentity(time.Now())
		if err != nil {
			diags.AddError("Generating the Linkerd identity failed", err.Error())
			return id, false
		}
		plan.GeneratedIdentity = generatedIdentityValue(id.TrustAnchorsPEM, id.IssuerCertPEM)
		return id, true
	}
	inst, err := r.engine()
	if err != nil {
		clusterUnavailable(diags, err)
		return install.LinkerdIdentity{}, false
	}
	id, ok := r.identity(ctx, inst, *plan, cfg, diags)
	if !ok && !diags.HasError() {
		diags.AddAttributeError(path.Root("linkerd_identity"), "Linkerd identity unknown at apply",
			"linkerd_identity is still unknown at apply; this is a bug in the provider.")
	}
	return id, ok && !diags.HasError()
}

// regenerateLostIdentity plans a new generated identity when the old one's
// key is gone with the release that held it: linkerd-control-plane was
// uninstalled outside Terraform (Read found no deployed revision of it) and
// the cluster holds no issuer key. The key was kept nowhere else, so the
// repair needs a new identity; the plan shows generated_identity as known
// after apply and says what that means. A key missing while the release is
// deployed is not repaired this way (identity reports it at plan).
func (r *installResource) regenerateLostIdentity(ctx context.Context, plan *installModel, state installModel, diags *diag.Diagnostics) {
	_, _, generated, ok, _ := plan.certificates()
	if !generated || !ok || state.ReleaseRevisions.IsNull() || state.ReleaseRevisions.IsUnknown() {
		return
	}
	if _, deployed := state.ReleaseRevisions.Elements()[mesh.ChartLinkerdControlPlane]; deployed {
		return
	}
	inst, err := r.engine()
	if err != nil {
		return // the cluster checks report it
	}
	if _, err := inst.LinkerdIssuerKey(ctx, plan.Namespace.ValueString()); !errors.Is(err, install.ErrNoIssuerKey) {
		return
	}
	plan.GeneratedIdentity = types.ObjectUnknown(generatedIdentityAttrTypes)
	diags.AddAttributeWarning(path.Root("generated_identity"), "A new Linkerd identity will be generated",
		fmt.Sprintf("Release %s/%s is not installed (removed outside Terraform), and the generated identity's issuer key, "+
			"which was kept in the cluster only, went with it. Apply reinstalls it with a new generated trust anchor and "+
			"issuer (generated_identity is known after apply). Meshed workloads trust the new anchor only after they restart.",
			plan.Namespace.ValueString(), mesh.ChartLinkerdControlPlane))
}

// checkGeneratedExpiry warns when a generated certificate in use expires
// within 60 days (linkerd check's threshold), and fails once it has.
func checkGeneratedExpiry(plan installModel, diags *diag.Diagnostics) {
	anchors, issuer, generated, ok, _ := plan.certificates()
	if !generated || !ok {
		return
	}
	rotate := fmt.Sprintf("Rotate it: supply linkerd_identity with a trust anchor bundle and a new issuer (%s), or replace "+
		"the install (terraform apply -replace) to generate a new identity.", identityGuide)
	now := time.Now()
	addProblems(diags, certs.CheckExpiry([]any{"generated_identity", "trust_anchors_pem"}, "generated trust anchor", anchors, now, rotate))
	addProblems(diags, certs.CheckExpiry([]any{"generated_identity", "issuer_cert_pem"}, "generated issuer certificate", issuer, now, rotate))
}
