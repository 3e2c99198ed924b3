# Import by namespace/name: the provider rebuilds the resource from the live
# VirtualService/DestinationRule or HTTPRoute of that name.
terraform import mesh_traffic_split.reviews bookinfo/reviews-canary
