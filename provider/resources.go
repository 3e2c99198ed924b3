// Package provider bridges the Terraform provider (internal/provider) to
// Pulumi through pulumi-terraform-bridge. There is no second implementation:
// every resource, validator and plan-time manifest comes from the Terraform
// provider itself.
package provider

import (
	"context"
	_ "embed"

	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	pfshim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf"
	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"

	"github.com/meshform/terraform-provider-mesh/internal/protoserver"
	meshprovider "github.com/meshform/terraform-provider-mesh/internal/provider"
	"github.com/meshform/terraform-provider-mesh/provider/version"
)

const (
	// mainPkg is the Pulumi package name: tokens read mesh:index/trafficSplit:TrafficSplit.
	mainPkg = "mesh"
	// mainMod is the single module every resource lives in.
	mainMod = "index"
)

// LogoURL is where the package registries find the logo; the same file is
// committed at assets/logo.png, which SDK generation reads instead (offline).
const LogoURL = "https://raw.githubusercontent.com/meshform/terraform-provider-mesh/main/assets/logo.png"

//go:embed cmd/pulumi-resource-mesh/bridge-metadata.json
var bridgeMetadata []byte

// Provider returns the bridge's description of the mesh provider.
func Provider() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:                 shimProvider(meshprovider.New(version.Version)()),
		Name:              "mesh",
		DisplayName:       "Mesh",
		Publisher:         "meshform",
		Version:           version.Version,
		Description:       "Service-mesh intent (canaries, mirroring, mTLS, authorization, control-plane installs) rendered onto Istio or Linkerd.",
		Keywords:          []string{"pulumi", "mesh", "istio", "linkerd", "kubernetes", "category/cloud"},
		License:           "MPL-2.0",
		Homepage:          "https://github.com/meshform/terraform-provider-mesh",
		LogoURL:           LogoURL,
		Repository:        "https://github.com/meshform/terraform-provider-mesh",
		GitHubOrg:         "meshform",
		TFProviderLicense: refLicense(tfbridge.MPL20LicenseType),
		MetadataInfo:      tfbridge.NewProviderMetadata(bridgeMetadata),
		JavaScript: &tfbridge.JavaScriptInfo{
			PackageName:          "@meshform/mesh",
			RespectSchemaVersion: true,
			// sdk/nodejs/package-lock.json pins the exact versions that
			// `npm ci` installs for the compile check.
			Dependencies: map[string]string{
				"@pulumi/pulumi": "^3.220.0",
			},
			DevDependencies: map[string]string{
				"@types/node": "^20.0.0",
			},
			TypeScriptVersion: "^5.9.3",
		},
		Python: &tfbridge.PythonInfo{
			PackageName:          "pulumi_meshform_mesh",
			RespectSchemaVersion: true,
			Requires: map[string]string{
				"pulumi": ">=3.220.0,<4.0.0",
			},
		},
		Golang: &tfbridge.GolangInfo{
			ImportBasePath:                 "github.com/meshform/terraform-provider-mesh/sdk/go/mesh",
			GenerateResourceContainerTypes: true,
			RespectSchemaVersion:           true,
		},
		CSharp: &tfbridge.CSharpInfo{
			RootNamespace:        "Meshform",
			RespectSchemaVersion: true,
			PackageReferences: map[string]string{
				"Pulumi": "3.*",
			},
		},
	}
	info.MustComputeTokens(tokens.SingleModule("mesh_", mainMod, tokens.MakeStandard(mainPkg)))
	return info
}

func refLicense(t tfbridge.TFProviderLicense) *tfbridge.TFProviderLicense { return &t }

// shimProvider is pf.ShimProvider, serving the framework through
// protoserver as the Terraform provider does: the framework's own protocol
// server, which the bridge calls in process, keeps every request's context
// until the provider stops (internal/protoserver).
func shimProvider(p fwprovider.Provider) shim.Provider {
	s := pf.ShimProvider(p)
	if full, ok := s.(pfshim.ShimProvider); ok {
		return releasingShim{full, p}
	}
	return s
}

type releasingShim struct {
	pfshim.ShimProvider
	p fwprovider.Provider
}

func (s releasingShim) Server(ctx context.Context) (tfprotov6.ProviderServer, error) {
	inner, err := s.ShimProvider.Server(ctx)
	if err != nil {
		return nil, err
	}
	return protoserver.Wrap(inner, s.p), nil
}
