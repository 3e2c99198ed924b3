# Only the web frontend may read the orders API; everything else to the
# orders pods is denied (an ALLOW policy denies what it does not match).
resource "mesh_authorization" "orders" {
  name        = "orders-allow"
  namespace   = "shop"
  mesh_target = "istio-sidecar" # the data plane; `target` below is the workload

  target = { workload_selector = { app = "orders" } }

  rules = [{
    from = [{ service_accounts = ["frontend/web"] }]
    to   = [{ ports = [8080], methods = ["GET"], paths = ["/api/*"] }]
  }]
}

# On Istio ambient, HTTP rules are enforced by the Service's waypoint, so the
# policy targets the Service (rendered as targetRefs).
resource "mesh_authorization" "payments" {
  name        = "payments-allow"
  namespace   = "shop"
  mesh_target = "istio-ambient"

  target = { service = "payments" }

  rules = [{
    from = [{ namespaces = ["shop"] }]
    to   = [{ methods = ["POST"], paths = ["/charge"] }]
  }]
}

# On Linkerd, one Server per port; kubelet probes stay authorized.
resource "mesh_authorization" "inventory" {
  name        = "inventory-allow"
  namespace   = "shop"
  mesh_target = "linkerd"

  target = { workload_selector = { app = "inventory" }, ports = [8080] }

  rules = [{
    from = [{ service_accounts = ["shop/orders"] }, { ip_blocks = ["10.0.0.0/8"] }]
  }]
}

# Explicitly allow nothing to the admin pods.
resource "mesh_authorization" "admin" {
  name      = "admin-deny-all"
  namespace = "shop"
  target    = { workload_selector = { app = "admin" } }
  deny_all  = true
}
