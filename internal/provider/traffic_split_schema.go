package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

func trafficSplitSchema(ctx context.Context) schema.Schema {
	return schema.Schema{
		MarkdownDescription: "Canary and A/B routing for one Service port, rendered as an Istio VirtualService and " +
			"DestinationRule (istio-sidecar), or a Gateway API HTTPRoute attached to the Service (istio-ambient, linkerd, " +
			"or `istio_api = \"gateway_api\"`). The rendered objects are shown in the plan (`manifests`), applied atomically " +
			"with server-side apply, and rolled back if any of them fails.",
		Attributes: map[string]schema.Attribute{
			"id":        idAttribute("`namespace/name`; also the import ID."),
			"name":      objectKeyAttribute("Name of the split, and of every object it renders."),
			"namespace": objectKeyAttribute("Namespace of the parent Service and of the rendered objects."),
			"service":   parentServiceAttribute(),
			"port":      portAttribute("The parent Service port that clients call.", true),
			"target":    targetAttribute(),
			"backends": schema.ListNestedAttribute{
				Required: true,
				MarkdownDescription: "The weighted default rule: where requests that match no `match_routes` entry go " +
					"(1 to 16 backends).",
				NestedObject: backendSchema(),
				Validators:   []validator.List{listvalidator.SizeBetween(1, mesh.MaxBackends)},
			},
			"match_routes": schema.ListNestedAttribute{
				Optional: true,
				MarkdownDescription: "A/B rules, evaluated before the weighted default rule. Gateway API precedence applies " +
					"(exact path, then longest prefix, then method, then most headers); VirtualService rules are sorted to match.",
				NestedObject: matchRouteSchema(),
				Validators:   []validator.List{listvalidator.SizeAtMost(mesh.MaxMatchRoutes)},
			},
			"weight_semantics": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(string(mesh.WeightPercent)),
				MarkdownDescription: "How `weight` is read: " + enumList(mesh.WeightSemanticsValues) + ". `percent` (default): the " +
					"weights of each rule must sum to 100. `relative`: each backend gets weight/sum of the traffic (up to 1,000,000).",
				Validators: []validator.String{oneOf(enumStrings(mesh.WeightSemanticsValues)...)},
			},
			"istio_api":        istioAPIAttribute(),
			"ambient_waypoint": ambientWaypointAttribute(),
			"mirror":           splitMirrorAttribute(),
			"manifests":        manifestsAttribute(),
			"revision":         revisionAttribute(),
			"timeouts":         timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

func backendSchema() schema.NestedAttributeObject {
	return schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
		"service": schema.StringAttribute{
			Optional:            true,
			Computed:            true,
			MarkdownDescription: "Backend Service in the same namespace. Default: the parent `service`.",
			Validators:          []validator.String{dnsLabel()},
		},
		"port": portAttribute("Backend Service port. Default: the parent `port`.", false),
		"weight": schema.Int64Attribute{
			Optional: true,
			Computed: true,
			MarkdownDescription: "Share of the rule's traffic: 0 to 100 with `weight_semantics = \"percent\"`, 0 to 1,000,000 " +
				"with `relative`. Optional only when the rule has a single backend (it then gets 100).",
			Validators: []validator.Int64{int64validator.Between(0, mesh.MaxRelativeWeight)},
		},
		"subset_labels": schema.MapAttribute{
			Optional:    true,
			ElementType: types.StringType,
			MarkdownDescription: "Pod labels that pick a version of the backend Service (istio-sidecar with VirtualService only; " +
				"rendered as a DestinationRule subset). Other targets need one Service per version.",
		},
	}}
}

func matchRouteSchema() schema.NestedAttributeObject {
	attrs := matchConditionAttributes()
	attrs["backends"] = schema.ListNestedAttribute{
		Required:            true,
		MarkdownDescription: "Where matching requests go (1 to 16 backends), same fields as the top-level `backends`.",
		NestedObject:        backendSchema(),
		Validators:          []validator.List{listvalidator.SizeBetween(1, mesh.MaxBackends)},
	}
	return schema.NestedAttributeObject{Attributes: attrs}
}

// matchConditionAttributes are the conditions of a match route, and of a
// mirror's match.
func matchConditionAttributes() map[string]schema.Attribute {
	matchType := func(what string) schema.StringAttribute {
		return schema.StringAttribute{
			Optional:            true,
			Computed:            true,
			Default:             stringdefault.StaticString(string(mesh.MatchExact)),
			MarkdownDescription: "How the " + what + " is compared: " + enumList(mesh.MatchTypeValues) + ". Default `exact`.",
			Validators:          []validator.String{oneOf(enumStrings(mesh.MatchTypeValues)...)},
		}
	}
	return map[string]schema.Attribute{
		"headers": schema.ListNestedAttribute{
			Optional:            true,
			MarkdownDescription: "Request headers that must all match.",
			NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"name":  schema.StringAttribute{Required: true, MarkdownDescription: "Header name."},
				"value": schema.StringAttribute{Required: true, MarkdownDescription: "Value, prefix or RE2 regular expression."},
				"type":  matchType("header value"),
			}},
		},
		"path": schema.SingleNestedAttribute{
			Optional:            true,
			MarkdownDescription: "Request path match. `prefix` matches whole path segments (`/api` matches `/api` and `/api/x`, not `/apix`).",
			Attributes: map[string]schema.Attribute{
				"type":  matchType("path"),
				"value": schema.StringAttribute{Required: true, MarkdownDescription: "Path, path prefix or RE2 regular expression."},
			},
		},
		"method": schema.StringAttribute{
			Optional:            true,
			MarkdownDescription: "HTTP method, e.g. `GET`.",
		},
	}
}

func istioAPIAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true,
		Computed: true,
		Default:  stringdefault.StaticString(string(mesh.IstioAPIAuto)),
		MarkdownDescription: "Istio routing API: " + enumList(mesh.IstioAPIValues) + ". `auto` (default): VirtualService plus " +
			"DestinationRule on istio-sidecar, Gateway API HTTPRoute on istio-ambient. Ignored for linkerd.",
		Validators: []validator.String{oneOf(enumStrings(mesh.IstioAPIValues)...)},
	}
}

func ambientWaypointAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		Computed: true,
		Default: objectdefault.StaticValue(types.ObjectValueMust(waypointAttrTypes, map[string]attr.Value{
			"mode": types.StringValue(string(mesh.WaypointRequire)), "name": types.StringValue(mesh.DefaultWaypointName),
		})),
		MarkdownDescription: "istio-ambient only: the waypoint that enforces the route. Without a waypoint an ambient " +
			"route is silently not applied, so the default `require` checks at plan time that the Service or its " +
			"namespace carries `" + mesh.LabelUseWaypoint + "`.",
		Attributes: map[string]schema.Attribute{
			"mode": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(string(mesh.WaypointRequire)),
				MarkdownDescription: enumList(mesh.WaypointModeValues) + ". `require` (default): the waypoint must already be bound. " +
					"`create`: render a waypoint Gateway (class `istio-waypoint`) and label the Service with `" + mesh.LabelUseWaypoint + "`.",
				Validators: []validator.String{oneOf(enumStrings(mesh.WaypointModeValues)...)},
			},
			"name": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(mesh.DefaultWaypointName),
				MarkdownDescription: "Name of the waypoint Gateway. Default `waypoint`.",
			},
		},
	}
}

func manifestsAttribute() schema.MapAttribute {
	return schema.MapAttribute{
		Computed:    true,
		ElementType: types.StringType,
		MarkdownDescription: "The rendered objects, keyed by `apiVersion/Kind/namespace/name`, as YAML. Known at plan " +
			"time, so the plan shows each object and a line-level diff of every change. After a refresh it holds the " +
			"fields this provider owns on the live objects, so an out-of-band edit shows up as a diff.",
	}
}

func revisionAttribute() schema.Int64Attribute {
	return schema.Int64Attribute{
		Computed:            true,
		MarkdownDescription: "Increments on every applied change of `manifests`. A failed apply is rolled back to the objects of this revision.",
	}
}
