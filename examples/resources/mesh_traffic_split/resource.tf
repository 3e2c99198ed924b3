# A 90/10 canary of reviews v1/v2 on Istio with sidecars, with requests from
# beta users (header x-user-group: beta) always sent to v2.
resource "mesh_traffic_split" "reviews" {
  name      = "reviews-canary"
  namespace = "bookinfo"
  service   = "reviews"
  port      = 9080
  target    = "istio-sidecar"

  backends = [
    { subset_labels = { version = "v1" }, weight = 90 },
    { subset_labels = { version = "v2" }, weight = 10 },
  ]

  match_routes = [{
    headers  = [{ name = "x-user-group", value = "beta" }]
    backends = [{ subset_labels = { version = "v2" } }]
  }]
}

# The same canary on Istio ambient or Linkerd: one Service per version, and a
# Gateway API HTTPRoute attached to the parent Service.
resource "mesh_traffic_split" "ratings" {
  name      = "ratings-canary"
  namespace = "bookinfo"
  service   = "ratings"
  port      = 9080
  target    = "istio-ambient"

  backends = [
    { service = "ratings-v1", weight = 80 },
    { service = "ratings-v2", weight = 20 },
  ]

  # Create the waypoint that enforces the route, and bind the Service to it.
  ambient_waypoint = { mode = "create" }
}
