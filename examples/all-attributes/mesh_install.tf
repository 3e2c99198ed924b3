# Istio with sidecars as a canary revision, in its own namespace, without
# waiting for readiness, with the Gateway API CRDs of a given version.
resource "mesh_install" "istio_canary" {
  mesh      = "istio"
  mode      = "sidecar"
  version   = "1.30.3"
  namespace = "istio-control"
  revision  = "canary"
  wait      = false
  timeout   = "10m"

  values = {
    istiod = yamlencode({ pilot = { autoscaleEnabled = false } })
  }

  gateway_api_crds = { mode = "install", version = "v1.4.0" }
}
