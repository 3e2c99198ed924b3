package main

import (
	"flag"
	"log"
	"os"
	rdebug "runtime/debug"

	"github.com/meshform/terraform-provider-mesh/internal/debugstats"
	"github.com/meshform/terraform-provider-mesh/internal/protoserver"
	"github.com/meshform/terraform-provider-mesh/internal/provider"
)

// Generate the docs with `make docs` (tfplugindocs runs from tools/docs).

// version is stamped by goreleaser (-X main.version=...).
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	quietSDKLogs(os.LookupEnv, os.Setenv)
	tuneGC(os.LookupEnv, rdebug.SetMemoryLimit, rdebug.SetGCPercent)
	stop := debugstats.Start()
	// protoserver is providerserver.Serve without the framework's retention
	// of every request's context.
	err := protoserver.Serve("registry.terraform.io/meshform/mesh", provider.New(version), debug)
	stop()
	if err != nil {
		log.Fatal(err)
	}
}

// tuneGC sets the collector's soft memory limit and pacing, each unless the
// user set it (GOMEMLIMIT, GOGC).
func tuneGC(lookup func(string) (string, bool), setLimit func(int64) int64, setPercent func(int) int) {
	if _, set := lookup("GOMEMLIMIT"); !set {
		setLimit(softMemoryLimit)
	}
	if _, set := lookup("GOGC"); !set {
		setPercent(gcPercent)
	}
}

// gcPercent lets the heap grow to five times the live data between
// collections (Go's default is twice), up to softMemoryLimit, which then
// paces the collector. The framework's garbage is short-lived: in a plan of
// 1,000 resources with no changes the default pacing collected 169 times for
// 27 MiB live at most, 2.6 of the provider's 8.0 CPU seconds; at 400, 72
// times, 1.2 of 6.6 seconds, for a peak RSS of 149 MiB instead of 107
// (BENCHMARKS.md, round 8).
const gcPercent = 400

// softMemoryLimit makes the garbage collector work harder before the heap
// grows past it (GOMEMLIMIT overrides it). The plugin framework allocates
// several GB of short-lived schema copies in a plan of 1,000 resources; with
// the default pacing alone the heap, and the provider's RSS, grew to twice
// the live data. 112 MiB rather than 128 keeps the mixed workload's largest
// process under 200 MB with a margin, for about 20% more provider CPU in a
// plan of 1,000 resources (BENCHMARKS.md, round 5).
const softMemoryLimit = 112 << 20

// logEnv are the variables through which Terraform (which passes its
// environment to providers) or a user asks for provider or SDK logs.
var logEnv = []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_PROVIDER_MESH", "TF_LOG_SDK",
	"TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PATH", "TF_ACC_LOG_PATH"}

// quietLogEnv are the levels quietSDKLogs turns off. TF_LOG_PROVIDER_MESH is
// the provider's own root logger (terraform-plugin-go reads
// TF_LOG_PROVIDER_<type>, not TF_LOG_PROVIDER, for it): the timeouts
// package logs through it on every read, create, update and delete.
var quietLogEnv = []string{"TF_LOG_PROVIDER", "TF_LOG_PROVIDER_MESH", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"}

// quietSDKLogs turns the SDK's and the provider's logs off when nobody asked
// for logs. Unset, their level defaults to TRACE: the plugin SDK then formats
// a JSON line per attribute of every request for Terraform to discard, a
// fifth of the provider's CPU in a plan of 1,000 resources (BENCHMARKS.md).
func quietSDKLogs(lookup func(string) (string, bool), set func(string, string) error) {
	for _, name := range logEnv {
		if _, asked := lookup(name); asked {
			return
		}
	}
	for _, name := range quietLogEnv {
		_ = set(name, "OFF")
	}
}
