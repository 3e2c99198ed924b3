# The quickstart, in one plan: install Istio ambient, then on top of it a
# 90/10 canary of reviews with a header-based beta route, STRICT mTLS for the
# namespace, and an authorization that lets only the frontend call reviews.
# `make demo` applies it to a local cluster, with the charts served from an
# offline mirror on loopback.
terraform {
  required_providers {
    mesh = {
      source = "meshform/mesh"
    }
  }
}

variable "chart_repository" {
  description = "Helm repository with the Istio charts (an air-gapped mirror in the demo)."
  type        = string
  default     = "https://istio-release.storage.googleapis.com/charts"
}

variable "istio_version" {
  description = "Istio chart version."
  type        = string
  default     = "1.31.0-dev.20260827"
}

variable "stable_weight" {
  description = "Percent of the default traffic sent to reviews v1."
  type        = number
  default     = 90
}

variable "canary_weight" {
  description = "Percent of the default traffic sent to reviews v2."
  type        = number
  default     = 10
}

provider "mesh" {
  target = "istio-ambient"
}

# The control plane: base, istiod, cni and ztunnel, plus the Gateway API CRDs
# that ambient routes and waypoints need.
resource "mesh_install" "istio" {
  mesh             = "istio"
  mode             = "ambient"
  version          = var.istio_version
  chart_repository = var.chart_repository

  gateway_api_crds = {
    mode = "install"
  }
}

# On an empty cluster the policies' cluster checks cannot find the Istio and
# Gateway API CRDs at plan time: they warn, and run again before apply, once
# the install has put the CRDs there.
resource "mesh_traffic_split" "reviews" {
  name      = "reviews-canary"
  namespace = "bookinfo"
  service   = "reviews"
  port      = 9080

  backends = [
    { service = "reviews-v1", weight = var.stable_weight },
    { service = "reviews-v2", weight = var.canary_weight },
  ]

  match_routes = [{
    headers  = [{ name = "x-user-group", value = "beta" }]
    backends = [{ service = "reviews-v2" }]
  }]

  # Ambient routes are enforced by a waypoint: create one for bookinfo.
  ambient_waypoint = { mode = "create" }

  depends_on = [mesh_install.istio]
}

# Mutual TLS required for every workload in bookinfo. The plan warns about
# any pod that would call into it without the mesh (strict_preflight).
resource "mesh_mtls_policy" "bookinfo" {
  name      = "default"
  scope     = "namespace"
  namespace = "bookinfo"
  mode      = "STRICT"

  depends_on = [mesh_install.istio]
}

# Only the frontend (productpage) may call reviews: an identity (L4) rule,
# enforced by ztunnel. The split above binds reviews to a waypoint, and
# requests that go through it reach the reviews pods with the waypoint's
# identity, so the rule admits the waypoint too (without it the provider
# refuses the policy: MESH-AUTHZ-009, every such request would be denied).
resource "mesh_authorization" "reviews_from_frontend" {
  name      = "reviews-allow-frontend"
  namespace = "bookinfo"
  target    = { workload_selector = { app = "reviews" } }

  rules = [{
    from = [{ service_accounts = ["bookinfo/productpage", "bookinfo/waypoint"] }]
  }]

  # After the split, whose waypoint the check looks for.
  depends_on = [mesh_install.istio, mesh_traffic_split.reviews]
}

output "installed_components" {
  value = [for c in mesh_install.istio.components : "${c.kind}/${c.namespace}/${c.name}: ${c.ready ? "ready" : c.message}"]
}

output "rendered_objects" {
  value = concat(
    keys(mesh_traffic_split.reviews.manifests),
    keys(mesh_mtls_policy.bookinfo.manifests),
    keys(mesh_authorization.reviews_from_frontend.manifests),
  )
}
