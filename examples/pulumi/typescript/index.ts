// A 90/10 canary for reviews, and an authorization that lets only the
// frontend call it, on Istio (sidecar). The same resources, validation and
// plan-time manifests as the Terraform provider: `pulumi preview --diff`
// shows the VirtualService and DestinationRule that will change.
import * as pulumi from "@pulumi/pulumi";
import * as mesh from "@meshform/mesh";

const config = new pulumi.Config();
const namespace = config.get("namespace") ?? "bookinfo";
const canaryWeight = config.getNumber("canaryWeight") ?? 10;

const split = new mesh.TrafficSplit("reviews", {
    name: "reviews-split",
    namespace,
    service: "reviews",
    port: 9080,
    target: "istio-sidecar",
    backends: [
        { subsetLabels: { version: "v1" }, weight: 100 - canaryWeight },
        { subsetLabels: { version: "v2" }, weight: canaryWeight },
    ],
});

new mesh.Authorization("reviews", {
    name: "reviews-allow-frontend",
    namespace,
    meshTarget: "istio-sidecar",
    target: { workloadSelector: { app: "reviews" } },
    rules: [{ froms: [{ serviceAccounts: [`${namespace}/productpage`] }] }],
});

// The Kubernetes objects the split renders, keyed apiVersion/kind/namespace/name.
export const manifests = split.manifests;
