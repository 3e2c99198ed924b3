package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// authzMaxRules bounds rules and sources (MESH-MAPPING §5.1).
const authzMaxRules = 512

func authorizationSchema(ctx context.Context) schema.Schema {
	return schema.Schema{
		MarkdownDescription: "Identity-based access control for a set of pods, rendered as an Istio AuthorizationPolicy " +
			"(istio-sidecar, istio-ambient: ztunnel or waypoint) or as Linkerd Servers, authentications, " +
			"AuthorizationPolicies and inbound HTTPRoutes (linkerd). Default-deny aware: an ALLOW policy denies what it " +
			"does not match, so an ALLOW policy without rules is rejected unless `deny_all` or `allow_all` says which was meant.",
		Attributes: map[string]schema.Attribute{
			"id":        idAttribute("`namespace/name`; also the import ID."),
			"name":      objectKeyAttribute("Name of the policy, and the prefix of every object it renders."),
			"namespace": objectKeyAttribute("Namespace of the protected pods and of the rendered objects."),
			"target": schema.SingleNestedAttribute{
				Required: true,
				MarkdownDescription: "The pods this policy protects: exactly one of `workload_selector` and `service`. " +
					"(The data plane is chosen by `mesh_target`.)",
				Attributes: map[string]schema.Attribute{
					"workload_selector": schema.MapAttribute{
						Optional:            true,
						ElementType:         types.StringType,
						MarkdownDescription: "Pod labels that select the protected pods.",
					},
					"service": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "A Service in `namespace`: its `spec.selector` picks the pods (looked up at plan time), " +
							"and on istio-ambient a policy with HTTP attributes attaches to it (`targetRefs`), enforced by its waypoint.",
						Validators: []validator.String{dnsLabel()},
					},
					"ports": schema.ListAttribute{
						Optional:    true,
						ElementType: types.Int64Type,
						MarkdownDescription: "Container ports (linkerd: one Server each). Required on linkerd with `workload_selector`; " +
							"with `service` they default to its targetPorts. Istio ignores them (restrict ports in `rules[].to[].ports`).",
						Validators: []validator.List{listvalidator.ValueInt64sAre(int64validator.Between(1, 65535))},
					},
				},
			},
			"mesh_target": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "Data plane to render for: " + targetList() + ". Default: the provider's `target`. " +
					"Changing it forces replacement when it changes the rendered objects. (Other resources call this attribute `target`; here `target` is the " +
					"protected workload.)",
				Validators: []validator.String{oneOf(targetStrings()...)},
			},
			"action": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(string(mesh.AuthzAllow)),
				MarkdownDescription: "What a matching request gets: " + enumList(mesh.AuthzActionValues) + ". Default `ALLOW`. " +
					"Linkerd is allow-list only: `DENY` and `CUSTOM` are rejected, and `AUDIT` becomes `accessPolicy: audit`.",
				Validators: []validator.String{oneOf(enumStrings(mesh.AuthzActionValues)...)},
			},
			"custom_provider": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "`CUSTOM` only: the name of an extension provider in Istio's `meshConfig.extensionProviders`.",
			},
			"deny_all": schema.BoolAttribute{
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
				MarkdownDescription: "Allow nothing: Istio `spec: {}` with the selector; Linkerd Servers without authorizations.",
			},
			"allow_all": schema.BoolAttribute{
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
				MarkdownDescription: "Allow everything: Istio `rules: [{}]`; Linkerd Servers with `accessPolicy: all-unauthenticated`.",
			},
			"rules": schema.ListNestedAttribute{
				Optional: true,
				MarkdownDescription: "A request matches the policy when it matches any rule; a rule matches when one `from` " +
					"source, one `to` operation and every `when` condition match (an omitted list matches everything).",
				NestedObject: authzRuleSchema(),
				Validators:   []validator.List{listvalidator.SizeAtMost(authzMaxRules)},
			},
			"dry_run": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Evaluate without enforcing: Istio annotation `" + mesh.AnnotationIstioDryRun + ": \"true\"` (ALLOW and DENY " +
					"only); Linkerd `Server.spec.accessPolicy: audit`.",
			},
			"enforcement_point": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Which proxy enforces the policy: " + enumList(mesh.EnforcementPointValues) + ".",
			},
			"manifests": schema.MapAttribute{
				Computed:    true,
				ElementType: types.StringType,
				MarkdownDescription: "The rendered objects, keyed by `apiVersion/Kind/namespace/name`, as YAML. Known at plan " +
					"time (unless `target.service` cannot be looked up yet). After a refresh it holds the fields this provider " +
					"owns on the live objects, so an out-of-band edit shows up as a diff.",
			},
			"revision": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "Increments on every applied change of `manifests`. A failed apply is rolled back to the objects of this revision.",
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

func authzRuleSchema() schema.NestedAttributeObject {
	strings := func(description string) schema.ListAttribute {
		return schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: description}
	}
	return schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
		"from": schema.ListNestedAttribute{
			Optional:            true,
			MarkdownDescription: "Sources, ORed. Each source ANDs its fields and must set at least one.",
			Validators:          []validator.List{listvalidator.SizeAtMost(authzMaxRules)},
			NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"service_accounts": strings("Client service accounts, `\"<namespace>/<service-account>\"` (Istio `serviceAccounts`, Istio ≥ 1.25; Linkerd `identityRefs`)."),
				"namespaces":       strings("Client namespaces (any mesh identity in them)."),
				"authenticated": schema.BoolAttribute{
					Optional:            true,
					MarkdownDescription: "Any authenticated mesh identity (Istio `principals: [\"*\"]`; Linkerd `identities: [\"*\"]`).",
				},
				"ip_blocks":  strings("Client address blocks in CIDR notation (`10.1.2.3/32` for one address)."),
				"principals": strings("Istio only: raw principals, `<trust-domain>/ns/<namespace>/sa/<service-account>` (no `spiffe://`)."),
			}},
		},
		"to": schema.ListNestedAttribute{
			Optional:            true,
			MarkdownDescription: "Operations, ORed. Each operation ANDs its fields and must set at least one.",
			NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"ports": schema.ListAttribute{
					Optional:            true,
					ElementType:         types.Int64Type,
					MarkdownDescription: "Container ports.",
					Validators:          []validator.List{listvalidator.ValueInt64sAre(int64validator.Between(1, 65535))},
				},
				"methods": strings("HTTP methods, upper case."),
				"paths": strings("Request paths, Istio matching: exact (`/api`), prefix (`/api/*`), suffix (`*.json`) or " +
					"presence (`*`). linkerd also takes a regular expression written `~<RE2>`; Istio rejects it (MESH-AUTHZ-017)."),
			}},
		},
		"when": schema.ListNestedAttribute{
			Optional:            true,
			MarkdownDescription: "Istio only: conditions, ANDed.",
			NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"key":    schema.StringAttribute{Required: true, MarkdownDescription: "An Istio condition key, e.g. `request.headers[x-tenant]` or `source.ip`."},
				"values": schema.ListAttribute{Required: true, ElementType: types.StringType, MarkdownDescription: "Values, ORed."},
			}},
		},
	}}
}
