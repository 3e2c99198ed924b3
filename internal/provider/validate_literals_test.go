package provider

import (
	"context"
	"strings"
	"testing"

	hclv2 "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/zclconf/go-cty/cty"
)

// `terraform validate` runs without cluster credentials and without the
// provider's configuration: a mistake in literal values that depends
// neither on the cluster nor on the target must fail it, naming the
// attribute, even when the resource leaves the target to the provider.
func TestValidateRejectsTargetIndependentMistakes(t *testing.T) {
	server, schemas := unknownsServer(t, "", true)
	cases := []struct {
		name, typeName, body, code, attr string
	}{
		{"weights sum to 0", trafficSplitType, `name = "s"
namespace = "shop"
service = "reviews"
port = 9080
backends = [{ service = "a", weight = 0 }, { service = "b", weight = 0 }]`, "MESH-TS-001", "backends"},
		{"invalid regex", trafficSplitType, `name = "s"
namespace = "shop"
service = "reviews"
port = 9080
backends = [{ service = "a", weight = 100 }]
match_routes = [{ headers = [{ name = "x-user", value = "(", type = "regex" }], backends = [{ service = "b" }] }]`, "MESH-TS-019", "match_routes"},
		{"unknown HTTP method", trafficSplitType, `name = "s"
namespace = "shop"
service = "reviews"
port = 9080
backends = [{ service = "a", weight = 100 }]
match_routes = [{ method = "FETCH", backends = [{ service = "b" }] }]`, "MESH-TS-019", "match_routes"},
		{"bad name", trafficSplitType, `name = "Reviews_Split"
namespace = "shop"
service = "reviews"
port = 9080
backends = [{ service = "a", weight = 100 }]`, "MESH-TS-025", "name"},
		{"bad label key", trafficSplitType, `name = "s"
namespace = "shop"
service = "reviews"
port = 9080
backends = [{ subset_labels = { "bad key!" = "v1" }, weight = 100 }]`, "MESH-TS-026", "backends"},
		{"header name not a token", mirrorRouteType, `name = "m"
namespace = "shop"
service = "reviews"
port = 9080
mirror = { service = "shadow", port = 9080 }
match = { headers = [{ name = "x user", value = "1" }] }`, "MESH-TS-019", "match"},
		{"bad CIDR", authorizationType, `name = "a"
namespace = "shop"
target = { workload_selector = { app = "orders" } }
rules = [{ from = [{ ip_blocks = ["10.0.0.0/33"] }] }]`, "MESH-AUTHZ-", "rules"},
		{"service account without namespace", authorizationType, `name = "a"
namespace = "shop"
target = { workload_selector = { app = "orders" } }
rules = [{ from = [{ service_accounts = ["web"] }] }]`, "MESH-AUTHZ-", "rules"},
		{"deny_all with allow_all", authorizationType, `name = "a"
namespace = "shop"
target = { workload_selector = { app = "orders" } }
deny_all = true
allow_all = true`, "MESH-AUTHZ-", ""},
		{"bad selector value", mtlsPolicyType, `name = "p"
namespace = "shop"
scope = "workload"
mode = "STRICT"
workload_selector = { app = "not a label value" }`, "MESH-MTLS-019", "workload_selector"},
		{"mirror that is also a backend", trafficSplitType, `name = "s"
namespace = "shop"
service = "reviews"
port = 9080
backends = [{ service = "a", weight = 100 }]
mirror = { service = "a", port = 9080 }`, "MESH-", "mirror"},
		{"version not a chart version", installType, `mesh = "istio"
version = "latest!"`, "MESH-INS-016", "version"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file, diags := hclsyntax.ParseConfig([]byte(c.body), "main.tf", hclv2.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			attrs := map[string]cty.Value{}
			for name, a := range file.Body.(*hclsyntax.Body).Attributes {
				attrs[name] = exampleValue(a.Expr)
			}
			s := schemas.ResourceSchemas[c.typeName]
			cfg := blockValue(t, s, exampleBlock{file: c.name, typeName: c.typeName, name: "test", attrs: attrs})
			resp, err := server.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{
				TypeName: c.typeName, Config: dynamicValue(t, s.ValueType(), cfg),
			})
			if err != nil {
				t.Fatal(err)
			}
			var found []string
			for _, d := range resp.Diagnostics {
				if d.Severity != tfprotov6.DiagnosticSeverityError {
					continue
				}
				found = append(found, d.Summary)
				if !strings.HasPrefix(d.Summary, c.code) {
					continue
				}
				if c.attr != "" && (d.Attribute == nil || !strings.Contains(d.Attribute.String(), `"`+c.attr+`"`)) {
					t.Errorf("%s names %v, want attribute %s", d.Summary, d.Attribute, c.attr)
				}
				if d.Detail == "" {
					t.Errorf("%s says nothing of how to fix it", d.Summary)
				}
				return
			}
			t.Errorf("validate without a target did not report %s; errors: %v", c.code, found)
		})
	}
	// A choice that is right for one target (subset_labels on Istio with
	// sidecars) is the plan's to judge, once the provider's target is known.
	t.Run("target-dependent", func(t *testing.T) {
		file, _ := hclsyntax.ParseConfig([]byte(`name = "s"
namespace = "shop"
service = "reviews"
port = 9080
backends = [{ subset_labels = { version = "v1" }, weight = 100 }]`), "main.tf", hclv2.InitialPos)
		attrs := map[string]cty.Value{}
		for name, a := range file.Body.(*hclsyntax.Body).Attributes {
			attrs[name] = exampleValue(a.Expr)
		}
		s := schemas.ResourceSchemas[trafficSplitType]
		cfg := blockValue(t, s, exampleBlock{typeName: trafficSplitType, name: "test", attrs: attrs})
		resp, err := server.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{
			TypeName: trafficSplitType, Config: dynamicValue(t, s.ValueType(), cfg),
		})
		if err != nil {
			t.Fatal(err)
		}
		if errs := errorsOf(resp.Diagnostics); len(errs) > 0 {
			t.Errorf("validate without a target rejected what one target accepts: %v", errs)
		}
	})
}
