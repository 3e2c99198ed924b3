package provider

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/meshform/terraform-provider-mesh/internal/certs"
	"github.com/meshform/terraform-provider-mesh/internal/install"
)

var pemCertificate = regexp.MustCompile(`^-----BEGIN CERTIFICATE-----`)

func timeNow() time.Time { return time.Now() }

func containsTrimmed(haystack, needle string) bool {
	return strings.Contains(haystack, strings.TrimSpace(needle))
}

// No diagnostic may carry a private key, even when Helm quotes values.
func TestInstallFailedRedactsKeys(t *testing.T) {
	_, _, key, err := certs.GenerateLinkerdIdentity(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, update := range []bool{false, true} {
		var diags diag.Diagnostics
		cause := errors.New("template: identity.yaml: bad value " + key)
		installFailed(&diags, "linkerd/linkerd", &install.Error{Release: "linkerd-control-plane", Cause: cause,
			RolledBack: []string{"linkerd-control-plane to revision 1"}}, update)
		renderFailed(&diags, cause)
		installFailed(&diags, "linkerd/linkerd", cause, update)
		for _, d := range diags {
			if strings.Contains(d.Detail(), "PRIVATE KEY") || strings.Contains(d.Summary(), "PRIVATE KEY") {
				t.Errorf("diagnostic leaks the key: %s: %s", d.Summary(), d.Detail())
			}
			if !strings.Contains(d.Detail(), "[redacted private key]") {
				t.Errorf("diagnostic lost the redaction marker: %s", d.Detail())
			}
		}
	}
}

func TestInstallFailedSaysWhatWasUndone(t *testing.T) {
	var diags diag.Diagnostics
	installFailed(&diags, "istio/istio-system", &install.Error{
		Release: "istiod", Cause: errors.New("resources not ready after 20s"),
		NotReady:   []install.Component{{Name: "istiod", Kind: "Deployment", Namespace: "istio-system", Message: "0/1 pods ready: Unschedulable"}},
		RolledBack: []string{"istiod to revision 1"},
	}, true)
	got := diags[0].Summary() + "\n" + diags[0].Detail()
	for _, want := range []string{"Mesh upgrade failed and was rolled back", "failed at release istiod",
		"not ready: Deployment/istio-system/istiod: 0/1 pods ready: Unschedulable", "istiod to revision 1",
		"Terraform state keeps the previous configuration"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestDrifted(t *testing.T) {
	state := emptyInstallModel()
	state.ReleaseRevisions = revisionsValue(map[string]int{"base": 1, "istiod": 2})
	state.ManifestsDigest = types.StringValue("d1")
	cases := []struct {
		name    string
		applied string
		want    bool
	}{
		{"no record (imported)", ``, false},
		{"same", `{"revisions":{"base":1,"istiod":2},"digest":"d1"}`, false},
		{"rolled back outside", `{"revisions":{"base":1,"istiod":1},"digest":"d1"}`, true},
		{"release gone", `{"revisions":{"base":1,"istiod":2,"cni":1},"digest":"d1"}`, true},
		{"manifests changed", `{"revisions":{"base":1,"istiod":2},"digest":"d0"}`, true},
	}
	for _, c := range cases {
		if got := drifted([]byte(c.applied), state); got != c.want {
			t.Errorf("%s: drifted = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestMergeRendered(t *testing.T) {
	planned := types.MapValueMust(renderedType, map[string]attr.Value{
		"linkerd-control-plane": types.ListValueMust(types.StringType, []attr.Value{
			types.StringValue("ConfigMap/linkerd/a 1"), types.StringUnknown(),
		}),
	})
	fresh := map[string][]install.RenderedObject{"linkerd-control-plane": {
		{Kind: "ConfigMap", Namespace: "linkerd", Name: "a", SHA256: "1"},
		{Kind: "Secret", Namespace: "linkerd", Name: "b", SHA256: "2"},
	}}
	got := mergeRendered(planned, fresh)
	want := renderedValue(fresh)
	if !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestValuesDiff(t *testing.T) {
	got := map[string]any{"revision": "canary", "meshConfig": map[string]any{"rootNamespace": "x", "trustDomain": "td"}, "replicaCount": float64(2)}
	base := map[string]any{"revision": "canary", "meshConfig": map[string]any{"rootNamespace": "x"}, "replicaCount": 2}
	d := valuesDiff(got, base)
	if len(d) != 1 || d["meshConfig"].(map[string]any)["trustDomain"] != "td" || len(d["meshConfig"].(map[string]any)) != 1 {
		t.Errorf("valuesDiff = %v", d)
	}
}

// A configuration that leaves gateway_api_crds.version out gets the
// embedded default: ValidateConfig sees it null (defaults apply only to the
// plan) and must not call it unsupported. A version that is not embedded is.
func TestValidateGatewayAPIVersion(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		version attr.Value
		wantErr bool
	}{
		{"default (null)", types.StringNull(), false},
		{"embedded", types.StringValue("v1.4.0"), false},
		{"not embedded", types.StringValue("v1.6.1"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var cfg installModel
			cfg.GatewayAPICRDs = types.ObjectValueMust(gatewayAPIAttrTypes, map[string]attr.Value{
				"mode": types.StringValue("install"), "version": c.version,
			})
			var diags diag.Diagnostics
			validateGatewayAPI(ctx, cfg, &diags)
			if diags.HasError() != c.wantErr {
				t.Errorf("errors = %v, want error %v", diags, c.wantErr)
			}
		})
	}
}

// "Rolled back" only when every change was: an undo that failed names the
// releases left changed, and a failure that changed nothing says so.
func TestInstallFailedIsTruthfulAboutTheUndo(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     *install.Error
		summary string
		want    []string
		notWant string
	}{
		{"undo failed", &install.Error{Release: "ztunnel", Cause: errors.New("not ready"), RolledBack: []string{"istiod to revision 1"},
			NotUndone: []string{"ztunnel"}, RollbackErr: errors.New("roll back ztunnel to revision 1: connection refused")},
			"Mesh upgrade failed and could not be rolled back",
			[]string{"Undoing the change failed for ztunnel, left as this apply changed them", "connection refused", "istiod to revision 1"},
			"keeps the previous configuration"},
		{"nothing changed", &install.Error{Release: "istiod", Cause: errors.New("chart not found")},
			"Mesh upgrade failed", []string{"Nothing was changed."}, "rolled back"},
		{"recovered first", &install.Error{Release: "istiod", Cause: errors.New("chart not found"),
			Recovered: []string{"release istiod was left pending-upgrade at revision 2 by an interrupted run (5m0s ago): rolled it back to revision 1 first"}},
			"Mesh upgrade failed", []string{"First, release istiod was left pending-upgrade"}, "was rolled back"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var diags diag.Diagnostics
			installFailed(&diags, "istio/istio-system", tc.err, true)
			if diags[0].Summary() != tc.summary {
				t.Errorf("summary %q, want %q", diags[0].Summary(), tc.summary)
			}
			for _, w := range tc.want {
				if !strings.Contains(diags[0].Detail(), w) {
					t.Errorf("detail lacks %q:\n%s", w, diags[0].Detail())
				}
			}
			if strings.Contains(diags[0].Summary()+diags[0].Detail(), tc.notWant) {
				t.Errorf("diagnostic says %q:\n%s\n%s", tc.notWant, diags[0].Summary(), diags[0].Detail())
			}
		})
	}
}

// The version 0 upgrade drops a supplied key (it is in the configuration),
// and keeps a generated one, failing, while the cluster cannot confirm it.
func TestInstallStateUpgradeFromV0(t *testing.T) {
	anchor, cert, key, err := certs.GenerateLinkerdIdentity(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := NewInstallResource().(*installResource) // not configured: no cluster
	upgrade := func(v0 map[string]any) (map[string]any, []string) {
		raw, _ := json.Marshal(v0)
		var resp resource.UpgradeStateResponse
		r.upgradeFromV0(context.Background(), resource.UpgradeStateRequest{RawState: &tfprotov6.RawState{JSON: raw}}, &resp)
		var msgs []string
		for _, d := range resp.Diagnostics {
			msgs = append(msgs, d.Summary()+": "+d.Detail())
		}
		if resp.DynamicValue == nil {
			return nil, msgs
		}
		var out map[string]any
		if err := json.Unmarshal(resp.DynamicValue.JSON, &out); err != nil {
			t.Fatal(err)
		}
		return out, msgs
	}
	supplied := map[string]any{"trust_anchors_pem": anchor, "issuer_cert_pem": cert, "issuer_key_pem": key}
	out, msgs := upgrade(map[string]any{"mesh": "linkerd", "namespace": "linkerd", "linkerd_identity": supplied, "generated_identity": nil})
	if len(msgs) > 0 || out == nil {
		t.Fatalf("supplied: %v", msgs)
	}
	if got := out["linkerd_identity"].(map[string]any); got["issuer_key_pem"] != nil || got["issuer_cert_pem"] != cert {
		t.Errorf("supplied identity upgraded to %v", got)
	}
	if out["generated_identity"] != nil {
		t.Errorf("generated_identity = %v", out["generated_identity"])
	}

	out, msgs = upgrade(map[string]any{"mesh": "linkerd", "namespace": "linkerd",
		"generated_identity": map[string]any{"trust_anchors_pem": anchor, "issuer_cert_pem": cert, "issuer_key_pem": key}})
	if out != nil || len(msgs) != 1 || !strings.Contains(msgs[0], "the generated issuer key is not confirmed in the cluster") ||
		!strings.Contains(msgs[0], "the cluster cannot be read") || !strings.Contains(msgs[0], "Nothing was changed") {
		t.Errorf("generated, no cluster: %v %v", out, msgs)
	}
	if strings.Contains(strings.Join(msgs, ""), "PRIVATE KEY") {
		t.Error("a message quotes the key")
	}

	// Istio, or a generated identity whose key a v0 state never had.
	out, msgs = upgrade(map[string]any{"mesh": "istio", "namespace": "istio-system", "linkerd_identity": nil, "generated_identity": nil})
	if len(msgs) > 0 || out["mesh"] != "istio" {
		t.Errorf("istio: %v %v", out, msgs)
	}
}

// A generated identity near or past its expiry warns or fails the plan,
// naming generated_identity and how to rotate.
func TestGeneratedIdentityExpiry(t *testing.T) {
	for _, tc := range []struct {
		age      time.Duration
		severity diag.Severity
	}{
		{0, 0},
		{365*24*time.Hour - 30*24*time.Hour, diag.SeverityWarning},
		{366 * 24 * time.Hour, diag.SeverityError},
	} {
		anchor, cert, _, err := certs.GenerateLinkerdIdentity(time.Now().Add(-tc.age))
		if err != nil {
			t.Fatal(err)
		}
		m := emptyInstallModel()
		m.Mesh = types.StringValue("linkerd")
		m.GeneratedIdentity = generatedIdentityValue(anchor, cert)
		var diags diag.Diagnostics
		checkGeneratedExpiry(m, &diags)
		if tc.severity == 0 {
			if len(diags) > 0 {
				t.Errorf("fresh: %v", diags)
			}
			continue
		}
		if len(diags) != 1 || diags[0].Severity() != tc.severity || !strings.Contains(diags[0].Detail(), "supply linkerd_identity") ||
			!strings.Contains(diags[0].Detail(), "generated issuer certificate") {
			t.Errorf("age %s: %v", tc.age, diags)
		}
	}
}

// A refused read during the readiness wait makes the summary say
// "Permission denied" and where the roles are, besides the truthful undo.
func TestInstallFailedNamesAMissingPermission(t *testing.T) {
	var diags diag.Diagnostics
	installFailed(&diags, "istio/istio-system", &install.Error{Cause: errors.New("resources not ready after 3s"),
		NotReady: []install.Component{{Kind: "Deployment", Namespace: "istio-system", Name: "istiod",
			Message: `replicasets.apps is forbidden: User "system:serviceaccount:mesh-system:terraform-mesh" cannot list resource "replicasets" in API group "apps" in the namespace "istio-system"`}},
		Uninstalled: []string{"istiod", "istio-base"}}, false)
	if len(diags) != 1 || diags[0].Summary() != "Permission denied: Mesh install failed and was rolled back" ||
		!strings.Contains(diags[0].Detail(), "examples/rbac") || !strings.Contains(diags[0].Detail(), `cannot list resource "replicasets"`) {
		t.Errorf("%v", diags)
	}
}
