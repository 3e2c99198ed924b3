package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/meshform/terraform-provider-mesh/internal/debugstats"
	"github.com/meshform/terraform-provider-mesh/internal/provider"
)

// Generate the docs with `make docs` (tfplugindocs runs from tools/docs).

// version is stamped by goreleaser (-X main.version=...).
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	stop := debugstats.Start()
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/meshform/mesh",
		Debug:   debug,
	})
	stop()
	if err != nil {
		log.Fatal(err)
	}
}
