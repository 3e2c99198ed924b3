# Istio with sidecars: a VirtualService split by relative weights, with
# header, path and method routes, and a mirror of a slice of the traffic.
resource "mesh_traffic_split" "checkout" {
  name             = "checkout-canary"
  namespace        = "shop"
  service          = "checkout"
  port             = 8080
  target           = "istio-sidecar"
  istio_api        = "virtualservice"
  weight_semantics = "relative"

  backends = [
    { subset_labels = { version = "v1" }, port = 8080, weight = 900 },
    { subset_labels = { version = "v2" }, port = 8080, weight = 100 },
  ]

  match_routes = [{
    headers  = [{ name = "x-canary", value = "always", type = "exact" }]
    path     = { type = "prefix", value = "/api/v2" }
    method   = "POST"
    backends = [{ subset_labels = { version = "v2" }, port = 8080, weight = 1 }]
  }]

  mirror = {
    service       = "checkout-shadow"
    namespace     = "shop"
    port          = 8080
    subset_labels = { version = "v2" }
    percentage    = 5
    match = {
      headers = [{ name = "x-mirror", value = "yes", type = "exact" }]
      path    = { type = "prefix", value = "/api" }
      method  = "GET"
    }
  }

  timeouts = {
    create = "5m"
    read   = "2m"
    update = "5m"
    delete = "5m"
  }
}

# Istio ambient, through a waypoint of a given name.
resource "mesh_traffic_split" "cart" {
  name      = "cart-canary"
  namespace = "shop"
  service   = "cart"
  port      = 8080
  target    = "istio-ambient"
  istio_api = "gateway_api"

  backends = [
    { service = "cart-v1", port = 8080, weight = 95 },
    { service = "cart-v2", port = 8080, weight = 5 },
  ]

  ambient_waypoint = { mode = "require", name = "shop-waypoint" }
}
