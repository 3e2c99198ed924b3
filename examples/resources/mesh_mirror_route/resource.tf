# Copy 12.5 % of the requests to httpbin:8000 that carry x-mirror: yes to
# httpbin-v2 in the shadow namespace; every request is still served by
# httpbin-v1, and the mirror's responses are discarded.
resource "mesh_mirror_route" "httpbin" {
  name      = "httpbin-mirror"
  namespace = "default"
  service   = "httpbin"
  port      = 8000

  primary = { service = "httpbin-v1" }
  mirror  = { service = "httpbin-v2", namespace = "shadow", port = 8000 }

  percentage = 12.5
  match = {
    headers = [{ name = "x-mirror", value = "yes" }]
  }
}

# On ambient the route is enforced by a waypoint, here created by the route.
resource "mesh_mirror_route" "ratings" {
  name      = "ratings-mirror"
  namespace = "bookinfo"
  service   = "ratings"
  port      = 9080
  target    = "istio-ambient"

  mirror     = { service = "ratings-v2", port = 9080 }
  percentage = 25

  ambient_waypoint = { mode = "create" }
}
