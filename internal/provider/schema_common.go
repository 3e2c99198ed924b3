package provider

import (
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

var dnsLabelPattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// dnsLabel validates Kubernetes object and namespace names.
func dnsLabel() validator.String {
	return stringvalidator.All(
		stringvalidator.LengthBetween(1, 63),
		stringvalidator.RegexMatches(dnsLabelPattern,
			"must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit"),
	)
}

func portAttribute(description string, required bool) schema.Int64Attribute {
	return schema.Int64Attribute{
		Required:            required,
		Optional:            !required,
		Computed:            !required,
		MarkdownDescription: description,
		Validators:          []validator.Int64{int64validator.Between(1, 65535)},
	}
}

// targetAttribute is the per-resource override of the provider's target. A
// change of data plane that changes the rendered objects forces replacement
// (decided in ModifyPlan, where the provider default is known).
func targetAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true,
		Computed: true,
		MarkdownDescription: "Data plane to render for: " + targetList() + ". Default: the provider's `target`. " +
			"Changing it forces replacement when it changes the rendered objects.",
		Validators: []validator.String{oneOf(targetStrings()...)},
	}
}

// idAttribute is the computed `id`: the import ID, stable once created.
func idAttribute(description string) schema.StringAttribute {
	return schema.StringAttribute{
		Computed:            true,
		MarkdownDescription: description,
		PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
}

// objectKeyAttribute is a required name or namespace that names the
// rendered objects, so changing it forces replacement.
func objectKeyAttribute(description string) schema.StringAttribute {
	return schema.StringAttribute{
		Required:            true,
		MarkdownDescription: description + " Changing it forces replacement.",
		PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
		// Its syntax is the intent's check (MESH-*-025 and the like), which
		// says what to change; a validator here would say it twice.
	}
}

// parentServiceAttribute is the Service clients call, of the route resources.
func parentServiceAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Required:            true,
		MarkdownDescription: "The parent Service: the name clients call. Must be a ClusterIP Service in `namespace`.",
		Validators:          []validator.String{dnsLabel()},
	}
}
