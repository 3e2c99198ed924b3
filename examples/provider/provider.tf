# Connect through a kubeconfig (KUBECONFIG or ~/.kube/config by default) and
# render every resource for Istio with sidecars unless it says otherwise.
provider "mesh" {
  kubeconfig_path    = "~/.kube/config"
  kubeconfig_context = "prod-eu-1"
  target             = "istio-sidecar"
}

# Or connect explicitly, e.g. to a cluster created in the same configuration.
provider "mesh" {
  alias                  = "explicit"
  host                   = "https://203.0.113.10:6443"
  token                  = var.cluster_token
  cluster_ca_certificate = var.cluster_ca_pem
  target                 = "linkerd"
}

variable "cluster_token" {
  type      = string
  sensitive = true
}

variable "cluster_ca_pem" {
  type = string
}
