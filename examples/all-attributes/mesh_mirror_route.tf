# Istio with sidecars: mirror a tenth of the POSTs under /orders from the v1
# pods of orders to its v2 pods.
resource "mesh_mirror_route" "orders" {
  name      = "orders-mirror"
  namespace = "shop"
  service   = "orders"
  port      = 8080
  target    = "istio-sidecar"
  istio_api = "virtualservice"

  primary = { subset_labels = { version = "v1" }, port = 8080 }
  mirror  = { service = "orders", subset_labels = { version = "v2" }, port = 8080 }

  percentage = 10
  match = {
    headers = [{ name = "x-tenant", value = "test-", type = "prefix" }]
    path    = { type = "prefix", value = "/orders" }
    method  = "POST"
  }

  timeouts = {
    create = "5m"
    read   = "2m"
    update = "5m"
    delete = "5m"
  }
}

# Istio ambient, through a waypoint of a given name.
resource "mesh_mirror_route" "search" {
  name      = "search-mirror"
  namespace = "shop"
  service   = "search"
  port      = 8080
  target    = "istio-ambient"

  mirror     = { service = "search-v2", port = 8080 }
  percentage = 50

  ambient_waypoint = { mode = "require", name = "shop-waypoint" }
}
