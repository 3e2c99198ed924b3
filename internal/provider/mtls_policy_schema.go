package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

func mtlsPolicySchema(ctx context.Context) schema.Schema {
	modes := enumList(mesh.MTLSModeValues)
	return schema.Schema{
		MarkdownDescription: "Peer authentication (mutual TLS) for the whole mesh, a namespace or a workload, with " +
			"Istio PeerAuthentication semantics. Rendered as a `" + mesh.GVKPeerAuthentication.GroupVersion().String() + "` PeerAuthentication (istio-sidecar, " +
			"istio-ambient), or for linkerd as the namespace's `" + mesh.AnnotationDefaultInboundPolicy + "` annotation " +
			"(scope `namespace`) or one `" + mesh.GVKPolicyServer.GroupVersion().String() + "` Server per port (scope `workload`). The rendered " +
			"objects are shown in the plan (`manifests`), applied atomically with server-side apply, and rolled back if " +
			"any of them fails.",
		Attributes: map[string]schema.Attribute{
			"id": idAttribute("`namespace/name` of the rendered objects (for scope `mesh` on Istio, " +
				"`<root_namespace>/<name>`); also the import ID."),
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Name of the policy: of the PeerAuthentication, or the prefix of the Linkerd Servers " +
					"(`<name>-<port>`). `default` is customary for mesh and namespace scope. Changing it forces replacement.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"scope": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "What the policy applies to: " + enumList(mesh.MTLSScopeValues) + ". `mesh`: every workload " +
					"(Istio only; the object goes to `root_namespace`). `namespace`: every workload of `namespace`. `workload`: " +
					"the pods `workload_selector` selects in `namespace`.",
				Validators: []validator.String{oneOf(enumStrings(mesh.MTLSScopeValues)...)},
			},
			"namespace": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Namespace the policy applies to; required for scope `namespace` and `workload`, " +
					"not set for `mesh`. Changing it forces replacement.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"workload_selector": schema.MapAttribute{
				Optional:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Pod labels that select the workloads; required when `scope = \"workload\"`, not " +
					"allowed otherwise. Rendered as `spec.selector.matchLabels` (Istio) or `spec.podSelector.matchLabels` (Linkerd Server).",
			},
			"mode": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Mutual TLS mode: " + modes + ". `UNSET` inherits the parent policy and needs `ports`. " +
					"`DISABLE` is not possible on istio-ambient or linkerd. For linkerd, `STRICT` renders `all-authenticated` and " +
					"`PERMISSIVE` `all-unauthenticated`.",
				Validators: []validator.String{oneOf(enumStrings(mesh.MTLSModeValues)...)},
			},
			"ports": schema.ListNestedAttribute{
				Optional: true,
				MarkdownDescription: "Per-port modes, scope `workload` only: Istio `portLevelMtls`, or one Linkerd Server " +
					"per port. Ports are the workload's container ports, not Service ports.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"port": schema.Int64Attribute{
						Required:            true,
						MarkdownDescription: "Container (target) port of the selected pods.",
						Validators:          []validator.Int64{int64validator.Between(1, 65535)},
					},
					"mode": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: "Mode on this port: " + modes + ". `UNSET` inherits `mode`.",
						Validators:          []validator.String{oneOf(enumStrings(mesh.MTLSModeValues)...)},
					},
				}},
			},
			"root_namespace": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(mesh.DefaultRootNamespace),
				MarkdownDescription: "Istio's `meshConfig.rootNamespace`, where a scope `mesh` policy lives. Default `" +
					mesh.DefaultRootNamespace + "`.",
			},
			"strict_preflight": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(string(mesh.StrictPreflightWarn)),
				MarkdownDescription: "What the plan does when `STRICT` would reject pods that have no proxy (MESH-MTLS-010): " +
					enumList(mesh.StrictPreflightValues) + ". `warn` (default) lists them in a warning, `error` fails the plan, " +
					"`off` skips the check.",
				Validators: []validator.String{oneOf(enumStrings(mesh.StrictPreflightValues)...)},
			},
			"target": targetAttribute(),
			"manifests": schema.MapAttribute{
				Computed:    true,
				ElementType: types.StringType,
				MarkdownDescription: "The rendered objects, keyed by `apiVersion/Kind/namespace/name`, as YAML. Known at plan " +
					"time, so the plan shows each object and a line-level diff of every change. After a refresh it holds the " +
					"fields this provider owns on the live objects, so an out-of-band edit shows up as a diff.",
			},
			"revision": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "Increments on every applied change of `manifests`. A failed apply is rolled back to the objects of this revision.",
			},
			"requires_restart": schema.BoolAttribute{
				Computed: true,
				MarkdownDescription: "`true` when running pods keep the old policy until restarted: Linkerd reads the " +
					"namespace annotation only when a pod is created (scope `namespace` on linkerd).",
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}
