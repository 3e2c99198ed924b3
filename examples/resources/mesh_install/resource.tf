# Istio ambient: base, istiod, cni and ztunnel, from the official repository.
resource "mesh_install" "istio" {
  mesh    = "istio"
  version = "1.30.3"

  values = {
    istiod = yamlencode({
      meshConfig = { accessLogFile = "/dev/stdout" }
    })
  }
}

# Linkerd edge with a certificate chain managed outside Terraform, from an
# internal mirror (air-gapped clusters).
resource "mesh_install" "linkerd" {
  mesh             = "linkerd"
  version          = "2026.8.3"
  chart_repository = "oci://registry.example.internal/helm-charts/linkerd"
  timeout          = "15m"

  gateway_api_crds = {
    mode = "install" # server-side applies the embedded v1.4.0 standard CRDs
  }

  linkerd_identity = {
    trust_anchors_pem = file("${path.module}/pki/ca.crt")
    issuer_cert_pem   = file("${path.module}/pki/issuer.crt")
    issuer_key_pem    = file("${path.module}/pki/issuer.key")
  }
}
