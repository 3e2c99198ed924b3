# Import by namespace/name: a PeerAuthentication of that name, else the Linkerd
# Servers <name>-<port> of the namespace, else the namespace's
# config.linkerd.io/default-inbound-policy annotation.
terraform import mesh_mtls_policy.payments shop/payments

# A mesh-wide Istio policy lives in the root namespace.
terraform import mesh_mtls_policy.mesh istio-system/default
