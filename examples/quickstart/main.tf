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

output "rendered_objects" {
  value = keys(mesh_traffic_split.reviews.manifests)
}

output "revision" {
  value = mesh_traffic_split.reviews.revision
}
