# Istio: any authenticated caller from the frontend namespace may GET the
# catalog pods, but only with a JWT issued by the shop.
resource "mesh_authorization" "catalog" {
  name        = "catalog-allow"
  namespace   = "shop"
  mesh_target = "istio-sidecar"
  action      = "ALLOW"
  dry_run     = true

  target = { workload_selector = { app = "catalog" } }

  rules = [{
    from = [{ authenticated = true, principals = ["cluster.local/ns/frontend/sa/web"] }]
    to   = [{ methods = ["GET"] }]
    when = [{ key = "request.auth.claims[iss]", values = ["https://auth.shop.example"] }]
  }]

  timeouts = {
    create = "5m"
    read   = "2m"
    update = "5m"
    delete = "5m"
  }
}

# Istio: send every request to the admin pods to an external authorizer.
resource "mesh_authorization" "admin_ext" {
  name            = "admin-ext-authz"
  namespace       = "shop"
  mesh_target     = "istio-sidecar"
  action          = "CUSTOM"
  custom_provider = "shop-ext-authz"

  target = { workload_selector = { app = "admin" } }

  rules = [{
    to = [{ paths = ["/admin/*"] }]
  }]
}

# Allow everything to the public pods.
resource "mesh_authorization" "public" {
  name        = "public-allow-all"
  namespace   = "shop"
  mesh_target = "istio-sidecar"
  target      = { workload_selector = { app = "public" } }
  allow_all   = true
}
