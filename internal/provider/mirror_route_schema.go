package provider

import (
	"context"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64default"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

func mirrorRouteSchema(ctx context.Context) schema.Schema {
	return schema.Schema{
		MarkdownDescription: "Shadows a share of the requests to one Service port to a second backend, fire-and-forget " +
			"(the mirror's responses are discarded). Rendered as an Istio VirtualService with `mirrors` (istio-sidecar), or " +
			"a Gateway API HTTPRoute with a `RequestMirror` filter (istio-ambient, or `istio_api = \"gateway_api\"`). Linkerd " +
			"has no mirroring. To split and mirror the same Service port, use the `mirror` block of `mesh_traffic_split`.",
		Attributes: map[string]schema.Attribute{
			"id":        idAttribute("`namespace/name`; also the import ID."),
			"name":      objectKeyAttribute("Name of the mirror route, and of every object it renders."),
			"namespace": objectKeyAttribute("Namespace of the parent Service and of the rendered objects."),
			"service":   parentServiceAttribute(),
			"port":      portAttribute("The parent Service port that clients call.", true),
			"target":    targetAttribute(),
			"primary": schema.SingleNestedAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "Where requests go, as without the mirror. Default: the parent `service` and `port`.",
				Attributes: map[string]schema.Attribute{
					"service": schema.StringAttribute{
						Optional:            true,
						Computed:            true,
						MarkdownDescription: "Primary Service in the same namespace. Default: the parent `service`.",
						Validators:          []validator.String{dnsLabel()},
					},
					"port":          portAttribute("Primary Service port. Default: the parent `port`.", false),
					"subset_labels": subsetLabelsAttribute("the primary Service"),
				},
			},
			"mirror": schema.SingleNestedAttribute{
				Required:            true,
				MarkdownDescription: "Where copies of the requests go.",
				Attributes:          mirrorTargetAttributes(),
			},
			"percentage": percentageAttribute(),
			"match": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: matchDescription,
				Attributes:          matchConditionAttributes(),
			},
			"istio_api":        istioAPIAttribute(),
			"ambient_waypoint": ambientWaypointAttribute(),
			"manifests":        manifestsAttribute(),
			"revision":         revisionAttribute(),
			"timeouts":         timeouts.Attributes(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

const matchDescription = "Mirror only the requests that match (headers, path and method as in `mesh_traffic_split` " +
	"`match_routes`); every request is still routed to the primary. Default: mirror every request."

// mirrorTargetAttributes are the mirror's service, namespace, port and
// subset labels.
func mirrorTargetAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"service": schema.StringAttribute{
			Required:            true,
			MarkdownDescription: "The mirror Service.",
			Validators:          []validator.String{dnsLabel()},
		},
		"namespace": schema.StringAttribute{
			Optional:            true,
			Computed:            true,
			MarkdownDescription: "Namespace of the mirror Service. Default: the route's `namespace`.",
		},
		"port":          portAttribute("The mirror Service port.", true),
		"subset_labels": subsetLabelsAttribute("the mirror Service"),
	}
}

func subsetLabelsAttribute(what string) schema.MapAttribute {
	return schema.MapAttribute{
		Optional:    true,
		ElementType: types.StringType,
		MarkdownDescription: "Pod labels that pick a version of " + what + " (istio-sidecar with VirtualService only; rendered " +
			"as a DestinationRule subset). Other targets need one Service per version.",
	}
}

func percentageAttribute() schema.Float64Attribute {
	return schema.Float64Attribute{
		Optional: true,
		Computed: true,
		Default:  float64default.StaticFloat64(mesh.MaxMirrorPercentage),
		MarkdownDescription: "Share of the requests mirrored, from 0 to 100 (fractions such as 12.5 allowed). Default 100. " +
			"Gateway API renders an integer as `percent` and any other value as a `fraction` over 10000.",
	}
}

// splitMirrorAttribute is mesh_traffic_split's mirror block: the mirror
// target's attributes, with percentage and match beside them.
func splitMirrorAttribute() schema.SingleNestedAttribute {
	attrs := mirrorTargetAttributes()
	maps.Copy(attrs, map[string]schema.Attribute{
		"percentage": percentageAttribute(),
		"match": schema.SingleNestedAttribute{
			Optional: true,
			MarkdownDescription: "Mirror only the requests of the default rule that match (headers, path and method as in " +
				"`match_routes`). Not allowed together with `match_routes` on Gateway API rendering.",
			Attributes: matchConditionAttributes(),
		},
	})
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "Also shadow the requests of the weighted default rule (`backends`) to a second backend, " +
			"fire-and-forget, as `mesh_mirror_route` does; requests of `match_routes` are not mirrored. Not supported on linkerd.",
		Attributes: attrs,
	}
}
