// Package version holds the version of the Pulumi provider plugin and SDKs.
package version

// Version is stamped at build time:
//
//	-ldflags "-X github.com/meshform/terraform-provider-mesh/provider/version.Version=0.1.0"
//
// The GNUmakefile stamps it from $(VERSION); an unstamped build reports 0.0.0-dev.
var Version = "0.0.0-dev"
