// Command pulumi-tfgen-mesh generates the Pulumi package schema and the SDKs
// from the Terraform provider's schema. Run it from the repository root (the
// GNUmakefile's tfgen and build_sdks targets do):
//
//	pulumi-tfgen-mesh schema --out provider/cmd/pulumi-resource-mesh
//	pulumi-tfgen-mesh go|nodejs|python|dotnet --out sdk/<lang>
//
// The schema comes from pulumi-terraform-bridge, which reads the resource docs
// from ./docs (tfplugindocs output, generated from the schema descriptions).
// Each SDK is generated from the committed schema, as the bridge does, but
// in-process (see internal/sdkgen).
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"

	pfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	mesh "github.com/meshform/terraform-provider-mesh/provider"
	"github.com/meshform/terraform-provider-mesh/provider/internal/sdkgen"
)

const schemaPath = "provider/cmd/pulumi-resource-mesh/schema.json"

func main() {
	if len(os.Args) > 1 && slices.Contains(sdkgen.Languages, os.Args[1]) {
		generateSDK(os.Args[1], os.Args[2:])
		return
	}
	// The bridge converts the docs' HCL examples to each language either
	// through `pulumi convert` (which needs the pulumi-converter-terraform
	// plugin, not installable offline) or in-process. Use the in-process one.
	if _, set := os.LookupEnv("PULUMI_CONVERT"); !set {
		_ = os.Setenv("PULUMI_CONVERT", "0")
	}
	info := mesh.Provider()
	info.UpstreamRepoPath = "."
	pfgen.Main("mesh", info)
}

func generateSDK(lang string, args []string) {
	flags := flag.NewFlagSet(lang, flag.ExitOnError)
	out := flags.String("out", "sdk/"+lang, "directory to write the "+lang+" SDK into")
	_ = flags.Parse(args)
	opts := sdkgen.Options{SchemaPath: schemaPath, OutDir: *out, Version: mesh.Provider().Version, Logo: "assets/logo.png"}
	if err := sdkgen.Generate(lang, opts); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-tfgen-mesh %s: %v\n", lang, err)
		os.Exit(1)
	}
}
