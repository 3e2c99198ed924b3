# The quickstart: a 90/10 canary of reviews v1/v2 with a header-based beta
# route, on Istio with sidecars. `make demo` applies it to a local cluster.
terraform {
  required_providers {
    mesh = {
      source = "meshform/mesh"
    }
  }
}

variable "stable_weight" {
  description = "Percent of the default traffic sent to reviews v1."
  type        = number
  default     = 90
}

variable "canary_weight" {
  description = "Percent of the default traffic sent to reviews v2."
  type        = number
  default     = 10
}

provider "mesh" {
  target = "istio-sidecar"
}

resource "mesh_traffic_split" "reviews" {
  name      = "reviews-canary"
  namespace = "bookinfo"
  service   = "reviews"
  port      = 9080

  backends = [
    { subset_labels = { version = "v1" }, weight = var.stable_weight },
    { subset_labels = { version = "v2" }, weight = var.canary_weight },
  ]

  match_routes = [{
    headers  = [{ name = "x-user-group", value = "beta" }]
    backends = [{ subset_labels = { version = "v2" } }]
  }]
}

# Mutual TLS required for every workload in bookinfo. The plan warns about
# any pod that would call into it without a proxy (strict_preflight).
resource "mesh_mtls_policy" "bookinfo" {
  name      = "default"
  scope     = "namespace"
  namespace = "bookinfo"
  mode      = "STRICT"
}

# Only the frontend (productpage) may call reviews, and only to read.
resource "mesh_authorization" "reviews_from_frontend" {
  name      = "reviews-allow-frontend"
  namespace = "bookinfo"
  target    = { workload_selector = { app = "reviews" } }

  rules = [{
    from = [{ service_accounts = ["bookinfo/productpage"] }]
    to   = [{ methods = ["GET"] }]
  }]
}

output "rendered_objects" {
  value = concat(
    keys(mesh_traffic_split.reviews.manifests),
    keys(mesh_mtls_policy.bookinfo.manifests),
    keys(mesh_authorization.reviews_from_frontend.manifests),
  )
}

output "revision" {
  value = mesh_traffic_split.reviews.revision
}
