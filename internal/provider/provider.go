// Package provider is the Terraform layer: it maps schema to the mesh intent,
// and results and errors to diagnostics. Rendering lives in internal/mesh,
// all API-server traffic in internal/kube.
package provider

import (
	"context"
	"flag"
	"io"
	"os"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"k8s.io/klog/v2"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
)

var _ provider.Provider = (*meshProvider)(nil)

// New returns the provider factory for the given release version.
func New(version string) func() provider.Provider {
	quietKlog.Do(func() {
		// client-go logs retries and discovery failures through klog to
		// stderr; the provider reports every failure as a diagnostic instead.
		flags := flag.NewFlagSet("klog", flag.ContinueOnError)
		klog.InitFlags(flags)
		_ = flags.Set("logtostderr", "false")
		_ = flags.Set("stderrthreshold", "FATAL")
		klog.SetOutput(io.Discard)
	})
	return func() provider.Provider { return &meshProvider{version: version, fast: &fastPlanState{}} }
}

var quietKlog sync.Once

type meshProvider struct {
	version string
	// fast is what the plan's fast path (fastplan.go) needs.
	fast *fastPlanState
}

type providerModel struct {
	KubeconfigPath       types.String  `tfsdk:"kubeconfig_path"`
	KubeconfigContext    types.String  `tfsdk:"kubeconfig_context"`
	Host                 types.String  `tfsdk:"host"`
	Token                types.String  `tfsdk:"token"`
	ClusterCACertificate types.String  `tfsdk:"cluster_ca_certificate"`
	ClientCertificate    types.String  `tfsdk:"client_certificate"`
	ClientKey            types.String  `tfsdk:"client_key"`
	Insecure             types.Bool    `tfsdk:"insecure"`
	Target               types.String  `tfsdk:"target"`
	FieldManager         types.String  `tfsdk:"field_manager"`
	QPS                  types.Float64 `tfsdk:"qps"`
	Burst                types.Int64   `tfsdk:"burst"`
}

func (p *meshProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "mesh"
	resp.Version = p.version
}

func (p *meshProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	defaults := kube.DefaultOptions()
	resp.Schema = schema.Schema{
		MarkdownDescription: "Manages service-mesh intent (traffic splits, mirroring, mTLS, authorization, control-plane installs) " +
			"as typed resources, rendered onto Istio (sidecar or ambient) or Linkerd objects and applied with server-side apply.\n\n" +
			"Connection settings come from a kubeconfig file (`kubeconfig_path`, `KUBECONFIG`, then `~/.kube/config`) unless `host` is set. " +
			"Every attribute can also be set through the environment variable named in its description.",
		Attributes: map[string]schema.Attribute{
			"kubeconfig_path": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Path to a kubeconfig file. Env: `" + envKubeconfig + "`, then `KUBECONFIG` (a list separated by `:` is merged), then `~/.kube/config`. Ignored when `host` is set.",
			},
			"kubeconfig_context": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Context of the kubeconfig to use; default: its current context. Env: `" + envContext + "`.",
			},
			"host": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "API server URL (`https://host:port`). When set, the kubeconfig is not read. Env: `" + envHost + "`.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"token": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "Bearer token for `host`. Env: `" + envToken + "`.",
			},
			"cluster_ca_certificate": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "PEM CA bundle that signs the API server's certificate, for `host`. Env: `" + envCA + "`.",
			},
			"client_certificate": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "PEM client certificate for `host`. Env: `" + envClientCert + "`.",
			},
			"client_key": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "PEM private key of `client_certificate`. Env: `" + envClientKey + "`.",
			},
			"insecure": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "Skip verification of the API server's certificate. Default `false`; never use it outside a throwaway cluster. Env: `" + envInsecure + "`.",
			},
			"target": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Default data plane for every resource: " + targetList() + ". A resource's own `target` overrides it. Env: `" + envTarget + "`.",
				Validators:          []validator.String{stringvalidator.OneOf(targetStrings()...)},
			},
			"field_manager": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Server-side apply field manager. Default `" + kube.DefaultFieldManager + "`. Env: `" + envFieldManager + "`.",
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 128)},
			},
			"qps": schema.Float64Attribute{
				Optional:            true,
				MarkdownDescription: "Sustained API requests per second, for all of one provider process's requests together. Default " + formatFloat(defaults.QPS) + " (client-go's own default of 5 makes large plans crawl).",
			},
			"burst": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Burst of API requests above `qps`. Default " + formatInt(defaults.Burst) + ".",
			},
		},
	}
}

func (p *meshProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(getConfig(ctx, req.Config, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	data := newProviderData(ctx, cfg, os.Getenv, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.ResourceData = data
	resp.DataSourceData = data
	p.fast.data.Store(data)
}

func (p *meshProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewTrafficSplitResource,
		NewAuthorizationResource,
		NewMirrorRouteResource,
		NewMTLSPolicyResource,
		NewInstallResource,
	}
}

func (p *meshProvider) DataSources(context.Context) []func() datasource.DataSource {
	return nil
}
