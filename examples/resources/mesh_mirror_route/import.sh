# Import by namespace/name: the provider rebuilds the resource from the live
# VirtualService (with its DestinationRules) or HTTPRoute of that name.
terraform import mesh_mirror_route.httpbin default/httpbin-mirror
