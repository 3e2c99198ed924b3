package provider

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	pfshim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf"

	"github.com/meshform/terraform-provider-mesh/internal/protoserver/protoservertest"
	meshprovider "github.com/meshform/terraform-provider-mesh/internal/provider"
)

// stableTokens are the published Pulumi tokens. Programs and state refer to
// them: a change here breaks every existing stack, so it needs an alias.
var stableTokens = map[string]string{
	"mesh_authorization": "mesh:index/authorization:Authorization",
	"mesh_install":       "mesh:index/install:Install",
	"mesh_mirror_route":  "mesh:index/mirrorRoute:MirrorRoute",
	"mesh_mtls_policy":   "mesh:index/mtlsPolicy:MtlsPolicy",
	"mesh_traffic_split": "mesh:index/trafficSplit:TrafficSplit",
}

func TestEveryTerraformResourceHasAStableToken(t *testing.T) {
	info := Provider()
	got := map[string]string{}
	for tfName, res := range info.Resources {
		got[tfName] = string(res.Tok)
	}
	if diff := cmp.Diff(stableTokens, got); diff != "" {
		t.Errorf("Pulumi tokens (-published +computed):\n%s", diff)
	}
	if diff := cmp.Diff(sortedKeys(stableTokens), terraformResourceNames(t)); diff != "" {
		t.Errorf("Terraform resources without a published token (-published +terraform):\n%s", diff)
	}
}

// TestCommittedSchemaHasTheTokens guards the committed schema.json, which
// the plugin embeds and the SDKs are generated from.
func TestCommittedSchemaHasTheTokens(t *testing.T) {
	raw, err := os.ReadFile("cmd/pulumi-resource-mesh/schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Resources map[string]json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, tok := range stableTokens {
		want = append(want, tok)
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, sortedKeys(schema.Resources)); diff != "" {
		t.Errorf("schema.json resources (-want +got); run make build_sdks:\n%s", diff)
	}
}

func terraformResourceNames(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	p := meshprovider.New("test")()
	var names []string
	for _, newResource := range p.Resources(ctx) {
		var resp fwresource.MetadataResponse
		newResource().Metadata(ctx, fwresource.MetadataRequest{ProviderTypeName: "mesh"}, &resp)
		names = append(names, resp.TypeName)
	}
	sort.Strings(names)
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// The bridge calls the framework's protocol server in process, and a Pulumi
// provider process lives for a whole `pulumi up`: the server it builds must
// let go of request contexts, as the Terraform provider's does.
func TestBridgeServerReleasesRequestContexts(t *testing.T) {
	shim, ok := Provider().P.(pfshim.ShimProvider)
	if !ok {
		t.Fatalf("Provider().P is %T, not a plugin-framework shim", Provider().P)
	}
	srv, err := shim.Server(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := protoservertest.RetainedPerRequest(t, srv, 200); got > 1024 {
		t.Errorf("the bridge's server retains %d bytes per request; want next to none (each request's context carried %d)", got, protoservertest.PayloadSize)
	}
}
