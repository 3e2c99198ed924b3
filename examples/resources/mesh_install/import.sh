# Adopt the Helm releases of a mesh installed with helm or the provider, by
# <mesh>/<namespace>. Set chart_repository in the configuration to where the
# charts come from: Helm does not record it.
terraform import mesh_install.istio istio/istio-system
terraform import mesh_install.linkerd linkerd/linkerd
