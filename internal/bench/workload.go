// Package bench holds the pure parts of the benchmark (make bench): the
// workloads' Terraform configurations, the figures' statistics, the audit
// log's request counts and the report table. cmd/meshbench runs them.
package bench

import (
	"fmt"
	"strings"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// Namespaces is how many namespaces a workload spreads over.
const Namespaces = 10

// Workload is one benchmarked configuration.
type Workload struct {
	Name string // "traffic_split" or "mixed"
	N    int    // resources in all
	// Backend is where Terraform keeps the state: "local" (a file, the
	// default; also when empty) or "http" (a remote backend).
	Backend string
}

// backendNote is what a table's heading says of the backend: nothing for
// Terraform's default.
func (w Workload) backendNote() string {
	if w.Backend == "" || w.Backend == "local" {
		return ""
	}
	return ", state in an " + w.Backend + " backend"
}

// Namespace of resource i.
func Namespace(i int) string { return fmt.Sprintf("bench-%d", i%Namespaces) }

// MeshConfig is the workload as mesh_* resources. var.weight is the canary
// weight: changing it changes every resource.
func (w Workload) MeshConfig() string {
	var b strings.Builder
	b.WriteString(`terraform {
  required_providers {
    mesh = { source = "meshform/mesh" }
  }
}

provider "mesh" {
  target = "istio-sidecar"
}

variable "weight" {
  type = number
}
`)
	if w.Name == "traffic_split" {
		fmt.Fprintf(&b, splitHCL, w.N, 0)
		return b.String()
	}
	q := w.N / 4
	fmt.Fprintf(&b, splitHCL, q, 0)
	fmt.Fprintf(&b, mirrorHCL, q, q)
	fmt.Fprintf(&b, mtlsHCL, q, 2*q)
	fmt.Fprintf(&b, authzHCL, w.N-3*q, 3*q)
	return b.String()
}

// Each block takes its count and the index of its first resource, so that
// resource i of the workload lives in Namespace(i) and uses svc-<i> or app
// w-<i> of its own.
const splitHCL = `
resource "mesh_traffic_split" "s" {
  count     = %d
  name      = "split-${count.index + %[2]d}"
  namespace = "bench-${(count.index + %[2]d) %% 10}"
  service   = "svc-${count.index + %[2]d}"
  port      = 8080
  backends = [
    { subset_labels = { version = "v1" }, weight = 100 - var.weight },
    { subset_labels = { version = "v2" }, weight = var.weight },
  ]
}
`

const mirrorHCL = `
resource "mesh_mirror_route" "m" {
  count      = %d
  name       = "mirror-${count.index + %[2]d}"
  namespace  = "bench-${(count.index + %[2]d) %% 10}"
  service    = "svc-${count.index + %[2]d}"
  port       = 8080
  mirror     = { service = "shadow", port = 8080 }
  percentage = var.weight
}
`

const mtlsHCL = `
resource "mesh_mtls_policy" "p" {
  count             = %d
  name              = "mtls-${count.index + %[2]d}"
  scope             = "workload"
  namespace         = "bench-${(count.index + %[2]d) %% 10}"
  workload_selector = { app = "w-${count.index + %[2]d}" }
  mode              = "PERMISSIVE"
  ports             = [{ port = 9000 + var.weight, mode = "DISABLE" }]
}
`

const authzHCL = `
resource "mesh_authorization" "a" {
  count     = %d
  name      = "authz-${count.index + %[2]d}"
  namespace = "bench-${(count.index + %[2]d) %% 10}"
  target    = { workload_selector = { app = "w-${count.index + %[2]d}" } }
  rules = [{
    from = [{ namespaces = ["bench-${(count.index + %[2]d) %% 10}"] }]
    to   = [{ ports = [8000 + var.weight] }]
  }]
}
`

// KubectlManifestConfig manages the YAML files in dir/<var.set>/ with one
// kubectl_manifest each (server-side apply, as our provider uses), keyed by
// file name so that a second set with the same names is an update.
const KubectlManifestConfig = `terraform {
  required_providers {
    kubectl = { source = "gavinbunney/kubectl" }
  }
}

provider "kubectl" {}

variable "set" {
  type = string
}

resource "kubectl_manifest" "m" {
  for_each          = fileset("${path.module}/${var.set}", "*.yaml")
  yaml_body         = file("${path.module}/${var.set}/${each.value}")
  server_side_apply = true
  force_conflicts   = true
}
`

// TerraformAloneConfig holds the JSON files in dir/<var.set>/, each the
// manifests of one of our resources, in one terraform_data each: Terraform's
// own share of a phase (its graph walk and its state writes: the local
// backend rewrites the whole state file after every resource it changes).
// terraform_data keeps its input twice (input and output), so its state is
// somewhat larger than ours (3.4 MB against 2.4 MB at N = 1000), and it runs
// inside Terraform's own process.
const TerraformAloneConfig = `variable "set" {
  type = string
}

resource "terraform_data" "m" {
  for_each = fileset("${path.module}/${var.set}", "*.json")
  input    = jsondecode(file("${path.module}/${var.set}/${each.value}"))
}
`

// Fixtures is the cluster side of the workload, as one multi-document YAML:
// the namespaces (in the mesh), a Service per resource, a shadow Service
// per namespace, and v1/v2 Deployments every Service selects.
func (w Workload) Fixtures() string {
	var b strings.Builder
	for ns := range Namespaces {
		fmt.Fprintf(&b, fixtureNamespace, ns)
		fmt.Fprintf(&b, fixtureService, "shadow", ns)
		for _, v := range []string{"v1", "v2"} {
			fmt.Fprintf(&b, fixtureDeployment, v, ns)
		}
	}
	for i := range w.N {
		fmt.Fprintf(&b, fixtureService, fmt.Sprintf("svc-%d", i), i%Namespaces)
	}
	return b.String()
}

const fixtureNamespace = `---
apiVersion: v1
kind: Namespace
metadata:
  name: bench-%d
  labels: {` + mesh.LabelIstioInjection + `: enabled}
`

const fixtureService = `---
apiVersion: v1
kind: Service
metadata: {name: %s, namespace: bench-%d}
spec:
  selector: {app: bench}
  ports: [{name: http, port: 8080}]
`

const fixtureDeployment = `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: bench-%[1]s, namespace: bench-%[2]d}
spec:
  replicas: 1
  selector: {matchLabels: {app: bench, version: %[1]s}}
  template:
    metadata: {labels: {app: bench, version: %[1]s}}
    spec:
      containers: [{name: app, image: registry.k8s.io/pause:3.10}]
`
