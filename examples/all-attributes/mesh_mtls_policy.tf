# Mesh-wide STRICT mTLS, in a control plane installed in its own namespace.
resource "mesh_mtls_policy" "mesh" {
  name           = "default"
  scope          = "mesh"
  root_namespace = "istio-control"
  mode           = "STRICT"
  target         = "istio-sidecar"

  timeouts = {
    create = "5m"
    read   = "2m"
    update = "5m"
    delete = "5m"
  }
}
