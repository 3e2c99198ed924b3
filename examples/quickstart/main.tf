# The quickstart: a 90/10 canary of reviews v1/v2 with a header-based beta
# route, on Istio with sidecars. `make demo` applies it to a local cluster.
terraform {
  required_providers {
    mesh = {
      source = "meshform/mesh"
    }
  }
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
    { subset_labels = { version = "v1" }, weight = 90 },
    { subset_labels = { version = "v2" }, weight = 10 },
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
