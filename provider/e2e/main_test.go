// Package e2e drives the bridged provider from a real Pulumi program: the
// Pulumi CLI (built from source and cached), the resource plugin built from
// this module, and a Go program that imports the generated SDK, run through
// the Automation API against the local cluster.
package e2e

import (
	"testing"

	"github.com/meshform/terraform-provider-mesh/internal/kubetest"
)

var cluster *kubetest.Cluster

func TestMain(m *testing.M) { kubetest.Main(m, &cluster) }
