package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// defaultGatewayAPIVersion is the Gateway API bundle the provider embeds
// and installs with gateway_api_crds.mode = "install" (it is within Linkerd
// 2.20's supported 1.2.1–1.5.1 and has mirror percentages, ≥ v1.3.0).
const defaultGatewayAPIVersion = "v1.4.0"

const defaultInstallTimeout = "10m"

func (r *installResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		// Version 1: no private key in state (see install_upgrade.go).
		Version: 1,
		MarkdownDescription: "Installs, upgrades and uninstalls a mesh control plane (Istio sidecar or ambient, or Linkerd) as " +
			"ordinary Helm releases, with the Helm SDK in-process. The plan lists every object each chart would create " +
			"(`rendered_objects`), apply waits until the control plane is ready the way `istioctl install` and `linkerd check` " +
			"mean it (webhooks included), and a failed install or upgrade is rolled back so that state matches the cluster.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`<mesh>/<namespace>`; also the import ID.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"mesh": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The control plane: " + enumList(mesh.InstallMeshes) + ". Changing it forces replacement.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{oneOf(enumStrings(mesh.InstallMeshes)...)},
			},
			"mode": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "Istio only: " + enumList(mesh.InstallModes) + ". Default `ambient` (base, istiod, cni and " +
					"ztunnel); `sidecar` installs base and istiod. Changing it forces replacement.",
				Validators: []validator.String{oneOf(enumStrings(mesh.InstallModes)...)},
			},
			"version": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Chart version, the same for every chart of the mesh: e.g. `1.30.3` for Istio, `2026.8.3` " +
					"(= edge-26.8.3) for Linkerd edge. Changing it upgrades in place, control plane first.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"namespace": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "Namespace of the releases. Default `" + mesh.IstioNamespace + "` or `" + mesh.LinkerdNamespace + "`. Changing it forces replacement.",
			},
			"chart_repository": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "Helm repository (`https://…`) or OCI registry (`oci://…`) holding the charts, e.g. an " +
					"internal mirror. Default `" + mesh.IstioRepository + "` or `" + mesh.LinkerdRepository + "`.",
				Validators: []validator.String{stringvalidator.RegexMatches(repositoryPattern,
					"must be an http://, https:// or oci:// URL")},
			},
			"revision": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Istio only: control-plane revision. istiod becomes release `istiod-<revision>` and workloads " +
					"opt in with the label `" + mesh.LabelIstioRev + "=<revision>`. Changing it forces replacement.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"values": schema.MapAttribute{
				Optional:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Per chart name (`base`, `istiod`, `cni`, `ztunnel`, `linkerd-crds`, `linkerd-control-plane`), " +
					"a YAML mapping deep-merged over the values the provider sets. Use `yamlencode({...})`.",
			},
			"gateway_api_crds": gatewayAPIAttribute(),
			"linkerd_identity": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "Linkerd only: the trust anchors and the issuer (an intermediate CA signed by an anchor), " +
					"ECDSA P-256, PEM. The certificates are plain attributes, so a rotation shows in the plan; the key is " +
					"write-only (Terraform 1.11 or later), so it is never in plan or state. When omitted, the provider generates " +
					"an identity once on create (anchor valid 10 years, issuer 1 year): see `generated_identity`. Rotation: " +
					"[the Linkerd identity guide](../guides/linkerd-identity.md).",
				Attributes: map[string]schema.Attribute{
					"trust_anchors_pem": schema.StringAttribute{Required: true, MarkdownDescription: "Trust anchor certificate(s), PEM. Several (a bundle) while an anchor is rotated."},
					"issuer_cert_pem":   schema.StringAttribute{Required: true, MarkdownDescription: "Issuer certificate, PEM (a CA signed by a trust anchor)."},
					"issuer_key_pem": schema.StringAttribute{Required: true, Sensitive: true, WriteOnly: true,
						MarkdownDescription: "Issuer private key, PEM. Write-only: read from the configuration at every plan and " +
							"apply (e.g. from an ephemeral resource or a variable marked `ephemeral`), never stored. It must " +
							"belong to `issuer_cert_pem`, so a new key always comes with a new certificate, which the plan shows."},
				},
			},
			"generated_identity": schema.SingleNestedAttribute{
				Computed: true,
				MarkdownDescription: "Linkerd without `linkerd_identity`: the generated trust anchor and issuer certificates, kept " +
					"for the life of the resource. Their private keys are never in state: the issuer key lives in the cluster only " +
					"(Secret `<namespace>/linkerd-identity-issuer`, written by the chart), the anchor key is not kept. The plan " +
					"warns 60 days before either expires.",
				Attributes: map[string]schema.Attribute{
					"trust_anchors_pem":        schema.StringAttribute{Computed: true, MarkdownDescription: "The generated trust anchor, PEM: public, share it with clusters that must trust this one."},
					"issuer_cert_pem":          schema.StringAttribute{Computed: true, MarkdownDescription: "The generated issuer certificate, PEM."},
					"trust_anchor_fingerprint": schema.StringAttribute{Computed: true, MarkdownDescription: "`sha256:` and the hex SHA-256 of the trust anchor's DER."},
					"trust_anchor_expires_at":  schema.StringAttribute{Computed: true, MarkdownDescription: "When the trust anchor expires (RFC 3339)."},
					"issuer_fingerprint":       schema.StringAttribute{Computed: true, MarkdownDescription: "`sha256:` and the hex SHA-256 of the issuer certificate's DER."},
					"issuer_expires_at":        schema.StringAttribute{Computed: true, MarkdownDescription: "When the issuer certificate expires (RFC 3339)."},
				},
			},
			"wait": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
				MarkdownDescription: "Wait until the control plane is ready: CRDs Established, Deployments and DaemonSets rolled " +
					"out, webhook configurations present with a caBundle. Default `true`.",
			},
			"timeout": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(defaultInstallTimeout),
				MarkdownDescription: "How long apply waits for readiness before it rolls back (a Go duration). Default `" + defaultInstallTimeout + "`.",
				Validators:          []validator.String{durationValidator{}},
			},
			"rendered_objects": schema.MapAttribute{
				Computed:    true,
				ElementType: types.ListType{ElemType: types.StringType},
				MarkdownDescription: "Per chart, one line per object the chart renders: `Kind/namespace/name sha256`. Known at " +
					"plan time, so a plan shows which objects a version or values change touches.",
			},
			"components": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "What apply waited for, with its readiness after apply.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":      schema.StringAttribute{Computed: true, MarkdownDescription: "Component name."},
					"kind":      schema.StringAttribute{Computed: true, MarkdownDescription: "Kubernetes kind."},
					"namespace": schema.StringAttribute{Computed: true, MarkdownDescription: "Namespace; empty for cluster-scoped objects."},
					"ready":     schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether it was ready."},
					"message":   schema.StringAttribute{Computed: true, MarkdownDescription: "Why it is not ready; empty when ready."},
				}},
			},
			"release_revisions": schema.MapAttribute{
				Computed:            true,
				ElementType:         types.Int64Type,
				MarkdownDescription: "Helm release revision per chart. A change outside Terraform (rollback, upgrade, uninstall) shows here as drift.",
			},
			"manifests_digest": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "sha256 over the deployed manifests of every release.",
			},
		},
	}
}

func gatewayAPIAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		Computed: true,
		Default: objectdefault.StaticValue(types.ObjectValueMust(gatewayAPIAttrTypes, map[string]attr.Value{
			"mode": types.StringValue(string(mesh.GatewayAPIRequire)), "version": types.StringValue(defaultGatewayAPIVersion),
		})),
		MarkdownDescription: "The Gateway API CRDs (standard channel), required by Linkerd and by Istio ambient waypoints.",
		Attributes: map[string]schema.Attribute{
			"mode": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(string(mesh.GatewayAPIRequire)),
				MarkdownDescription: enumList(mesh.GatewayAPIModes) + ". `require` (default): Linkerd needs them present " +
					"(checked at plan time). `install`: server-side apply the bundle `version` before the charts (never a " +
					"downgrade; left in place on destroy). `ignore`: no check.",
				Validators: []validator.String{oneOf(enumStrings(mesh.GatewayAPIModes)...)},
			},
			"version": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(defaultGatewayAPIVersion),
				MarkdownDescription: "Bundle version for `install`. Default `" + defaultGatewayAPIVersion + "`, the version " +
					"embedded in the provider (installs work offline); other versions are not supported by `install`.",
			},
		},
	}
}

// durationValidator checks a positive Go duration.
type durationValidator struct{}

func (durationValidator) Description(context.Context) string {
	return "must be a positive duration such as 10m or 90s"
}
func (v durationValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}
func (v durationValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if d, err := time.ParseDuration(req.ConfigValue.ValueString()); err != nil || d <= 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid timeout",
			req.Path.String()+" "+v.Description(ctx)+", got "+req.ConfigValue.String()+".")
	}
}
