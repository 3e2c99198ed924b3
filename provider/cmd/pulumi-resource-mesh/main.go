// Command pulumi-resource-mesh is the Pulumi resource plugin: the Terraform
// provider served through pulumi-terraform-bridge.
package main

import (
	"context"
	_ "embed"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	mesh "github.com/meshform/terraform-provider-mesh/provider"
)

//go:embed schema.json
var schema []byte

func main() {
	pf.Main(context.Background(), "mesh", mesh.Provider(), pf.ProviderMetadata{PackageSchema: schema})
}
