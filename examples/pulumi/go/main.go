// A 90/10 canary for reviews and an authorization that lets only the
// frontend call it, on Istio (sidecar), from a Go Pulumi program.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/meshform/terraform-provider-mesh/sdk/go/mesh"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		namespace := cfg.Get("namespace")
		if namespace == "" {
			namespace = "bookinfo"
		}
		canary := 10
		if w, err := cfg.TryInt("canaryWeight"); err == nil {
			canary = w
		}

		split, err := mesh.NewTrafficSplit(ctx, "reviews", &mesh.TrafficSplitArgs{
			Name:      pulumi.String("reviews-split"),
			Namespace: pulumi.String(namespace),
			Service:   pulumi.String("reviews"),
			Port:      pulumi.Int(9080),
			Target:    pulumi.String("istio-sidecar"),
			Backends: mesh.TrafficSplitBackendArray{
				mesh.TrafficSplitBackendArgs{SubsetLabels: pulumi.StringMap{"version": pulumi.String("v1")}, Weight: pulumi.Int(100 - canary)},
				mesh.TrafficSplitBackendArgs{SubsetLabels: pulumi.StringMap{"version": pulumi.String("v2")}, Weight: pulumi.Int(canary)},
			},
		})
		if err != nil {
			return err
		}
		_, err = mesh.NewAuthorization(ctx, "reviews", &mesh.AuthorizationArgs{
			Name:       pulumi.String("reviews-allow-frontend"),
			Namespace:  pulumi.String(namespace),
			MeshTarget: pulumi.String("istio-sidecar"),
			Target:     mesh.AuthorizationTargetArgs{WorkloadSelector: pulumi.StringMap{"app": pulumi.String("reviews")}},
			Rules: mesh.AuthorizationRuleArray{mesh.AuthorizationRuleArgs{
				Froms: mesh.AuthorizationRuleFromArray{mesh.AuthorizationRuleFromArgs{
					ServiceAccounts: pulumi.StringArray{pulumi.String(namespace + "/productpage")},
				}},
			}},
		})
		if err != nil {
			return err
		}
		ctx.Export("manifests", split.Manifests)
		return nil
	})
}
