# Require mutual TLS for every workload of the mesh (Istio: a PeerAuthentication
# "default" in the root namespace, istio-system).
resource "mesh_mtls_policy" "mesh" {
  name   = "default"
  scope  = "mesh"
  mode   = "STRICT"
  target = "istio-sidecar"
}

# Payments accepts plaintext on its metrics port only. Ports are container
# ports of the selected pods, not Service ports.
resource "mesh_mtls_policy" "payments" {
  name              = "payments"
  scope             = "workload"
  namespace         = "shop"
  workload_selector = { app = "payments" }
  mode              = "STRICT"
  ports             = [{ port = 9090, mode = "PERMISSIVE" }]
  target            = "istio-sidecar"

  # Fail the plan (instead of warning) when pods without a sidecar would be
  # cut off by STRICT.
  strict_preflight = "error"
}

# On Linkerd, a namespace-wide policy is the namespace's default inbound
# policy annotation; running pods keep the old one until restarted
# (requires_restart = true).
resource "mesh_mtls_policy" "bookinfo" {
  name      = "default"
  scope     = "namespace"
  namespace = "bookinfo"
  mode      = "STRICT"
  target    = "linkerd"
}
