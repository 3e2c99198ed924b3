package provider

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

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

// The heartbeat schedule is pinned (stable plans) unless values set it.
func TestWithHeartbeatSchedule(t *testing.T) {
	a, err := withHeartbeatSchedule(nil, "linkerd")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := withHeartbeatSchedule(map[string]string{}, "linkerd")
	if a["linkerd-control-plane"] == "" || a["linkerd-control-plane"] != b["linkerd-control-plane"] {
		t.Errorf("schedule not pinned and stable: %q vs %q", a["linkerd-control-plane"], b["linkerd-control-plane"])
	}
	user := map[string]string{"linkerd-control-plane": "heartbeatSchedule: \"1 2 * * *\"\n"}
	c, _ := withHeartbeatSchedule(user, "linkerd")
	if c["linkerd-control-plane"] != user["linkerd-control-plane"] {
		t.Errorf("user schedule overridden: %q", c["linkerd-control-plane"])
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
