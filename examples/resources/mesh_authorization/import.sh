# Import by namespace/name. Istio: the AuthorizationPolicy of that name.
# Linkerd: the objects labeled mesh.terraform.io/owner=mesh_authorization.<namespace>.<name>.
terraform import mesh_authorization.orders shop/orders-allow
