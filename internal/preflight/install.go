package preflight

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// Install runs the cluster checks of a mesh_install: the Kubernetes version
// (MESH-INS-003), the Gateway API CRDs Linkerd needs (MESH-INS-004) and
// another mesh's control plane (MESH-INS-013).
func Install(ctx context.Context, m *kube.Manager, in mesh.Install, gateway mesh.GatewayAPIMode) (mesh.Problems, error) {
	v, err := m.Clientset().Discovery().ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("read the Kubernetes version: %w", err)
	}
	problems := mesh.KubernetesTooOld(in.Mesh, in.Version, v.GitVersion)
	if problems.HasErrors() {
		return problems, nil // Helm would refuse every chart: nothing else matters
	}
	if in.Mesh == mesh.MeshLinkerd && gateway == mesh.GatewayAPIRequire {
		ok, err := m.Serves(ctx, mesh.GVKHTTPRoute)
		if err != nil {
			return nil, err
		}
		if !ok {
			problems.Errorf(mesh.CodeInsGatewayAPICRDs, []any{"gateway_api_crds", "mode"}, "Gateway API CRDs missing",
				`Linkerd requires the Gateway API HTTPRoute CRD (served version v1, bundle ≥ v1.1.1). Install https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/standard-install.yaml or set gateway_api_crds.mode = "install".`)
		}
	}
	other, err := otherMesh(ctx, m, in.Mesh)
	if err != nil {
		return nil, err
	}
	if other != "" {
		problems.Errorf(mesh.CodeInsOtherMesh, []any{"mesh"}, "another service mesh is installed",
			"another service mesh (%s) is installed in this cluster. Running Istio and Linkerd side by side is not supported (MESH-GEN-001): uninstall it first, or install %s in another cluster.",
			other, in.Mesh)
	}
	return problems, nil
}

// otherMesh finds the control plane of the mesh that is not want: an istiod
// Deployment, or Linkerd's linkerd-config ConfigMap. It returns "<mesh> in
// <namespace>", or "".
func otherMesh(ctx context.Context, m *kube.Manager, want mesh.InstallMesh) (string, error) {
	cs := m.Clientset()
	if want == mesh.MeshLinkerd {
		deps, err := (lookup{m}).istiods(ctx)
		if err != nil {
			return "", fmt.Errorf("look for istiod: %w", err)
		}
		if len(deps) > 0 {
			d := deps[0]
			return fmt.Sprintf("istio: Deployment %s in %s", d.Name, d.Namespace), nil
		}
		return "", nil
	}
	cms, err := cs.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=linkerd-config"})
	if err != nil {
		return "", fmt.Errorf("look for linkerd-config: %w", err)
	}
	if len(cms.Items) > 0 {
		return "linkerd: ConfigMap linkerd-config in " + cms.Items[0].Namespace, nil
	}
	return "", nil
}
