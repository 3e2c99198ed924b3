package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshform/terraform-provider-mesh/internal/certs"
)

var (
	fingerprintPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	rfc3339Pattern     = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
)

// privateKeyMarker is in every PEM private key and nowhere else.
const privateKeyMarker = "PRIVATE KEY-----"

// noPrivateKeyInPlan fails when the plan's values (prior state, changes,
// planned values, outputs) hold a private key. The configuration section
// is left out: it quotes the test's own literal HCL.
type noPrivateKeyInPlan struct{}

func (noPrivateKeyInPlan) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	p := req.Plan
	b, err := json.Marshal([]any{p.PriorState, p.PlannedValues, p.ResourceChanges, p.ResourceDrift, p.OutputChanges, p.RelevantAttributes})
	if err != nil {
		resp.Error = err
		return
	}
	if strings.Contains(string(b), privateKeyMarker) {
		resp.Error = fmt.Errorf("the plan holds a private key")
	}
}

// noPrivateKeyInState fails when any attribute of any resource in state
// holds a private key.
func noPrivateKeyInState(s *terraform.State) error {
	for addr, rs := range s.RootModule().Resources {
		for k, v := range rs.Primary.Attributes {
			if strings.Contains(v, privateKeyMarker) {
				return fmt.Errorf("%s: state attribute %s holds a private key", addr, k)
			}
		}
	}
	return nil
}

// withTraceLog makes Terraform and the provider log at TRACE into a file,
// and returns a check that the log holds the provider's lines and no
// private key.
func withTraceLog(t *testing.T) func() error {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	return func() error {
		b, err := os.ReadFile(logPath)
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), "mesh_install") || !strings.Contains(string(b), "ApplyResourceChange") {
			return fmt.Errorf("the trace log (%d bytes) does not hold the provider's apply, so it proves nothing", len(b))
		}
		if i := strings.Index(string(b), privateKeyMarker); i >= 0 {
			return fmt.Errorf("the trace log holds a private key near: %q", string(b[max(0, i-300):i]))
		}
		return nil
	}
}

// issuerSecret is what the chart's issuer Secret holds.
func (ic *installCluster) issuerSecret(t *testing.T) (crt, key string) {
	t.Helper()
	s, err := ic.cs.CoreV1().Secrets("linkerd").Get(context.Background(), "linkerd-identity-issuer", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("issuer Secret: %v", err)
	}
	return string(s.Data["crt.pem"]), string(s.Data["key.pem"])
}

// expectIssuer asserts the cluster's issuer is cert, with its own key.
func (ic *installCluster) expectIssuer(t *testing.T, cert string) error {
	crt, key := ic.issuerSecret(t)
	if strings.TrimSpace(crt) != strings.TrimSpace(cert) {
		return fmt.Errorf("linkerd-identity-issuer holds another certificate:\n%s", crt)
	}
	return certs.KeyMatches(cert, key)
}

// TestAccInstall_LinkerdGeneratedIdentity lets the provider generate the
// identity: state keeps the certificates, their fingerprints and expiry
// dates, and no key, nor does the plan or the trace log; the key is in the
// cluster only, and a state of version 0 (which kept it) is upgraded only
// once the cluster is confirmed to hold the same key.
func TestAccInstall_LinkerdGeneratedIdentity(t *testing.T) {
	ic := newInstallCluster(t)
	logClean := withTraceLog(t)
	config := ic.config(`
  mesh    = "linkerd"
  version = "` + linkerdVersion + `"
`)
	gen := func(attr string) tfjsonpath.Path { return tfjsonpath.New("generated_identity").AtMapKey(attr) }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if err := logClean(); err != nil {
				return err
			}
			return ic.expectDeployment(t, "linkerd", "linkerd-identity", false)
		},
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						renderedKnown("linkerd-crds"),
						plancheck.ExpectUnknownValue(installAddress, tfjsonpath.New("generated_identity")),
						noPrivateKeyInPlan{},
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan(), noPrivateKeyInPlan{}},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(installAddress, tfjsonpath.New("id"), knownvalue.StringExact("linkerd/linkerd")),
					statecheck.ExpectKnownValue(installAddress, gen("trust_anchors_pem"), knownvalue.StringRegexp(pemCertificate)),
					statecheck.ExpectKnownValue(installAddress, gen("issuer_cert_pem"), knownvalue.StringRegexp(pemCertificate)),
					statecheck.ExpectKnownValue(installAddress, gen("trust_anchor_fingerprint"), knownvalue.StringRegexp(fingerprintPattern)),
					statecheck.ExpectKnownValue(installAddress, gen("issuer_fingerprint"), knownvalue.StringRegexp(fingerprintPattern)),
					statecheck.ExpectKnownValue(installAddress, gen("trust_anchor_expires_at"), knownvalue.StringRegexp(rfc3339Pattern)),
					statecheck.ExpectKnownValue(installAddress, gen("issuer_expires_at"), knownvalue.StringRegexp(rfc3339Pattern)),
					revisions(map[string]int64{"linkerd-crds": 1, "linkerd-control-plane": 1}),
				},
				Check: func(s *terraform.State) error {
					attrs := s.RootModule().Resources[installAddress].Primary.Attributes
					if err := noPrivateKeyInState(s); err != nil {
						return err
					}
					if err := ic.expectIssuer(t, attrs["generated_identity.issuer_cert_pem"]); err != nil {
						return err
					}
					info, err := certs.Inspect(attrs["generated_identity.issuer_cert_pem"])
					if err != nil || info.Fingerprint != attrs["generated_identity.issuer_fingerprint"] {
						return fmt.Errorf("issuer_fingerprint %s is not the certificate's (%s, %v)", attrs["generated_identity.issuer_fingerprint"], info.Fingerprint, err)
					}
					ic.checkUpgradeFromV0(t, attrs)
					return ic.expectTrustRoots(t, attrs["generated_identity.trust_anchors_pem"])
				},
			},
			{
				// An upgrade reads the key back from the cluster: the values
				// change, the identity does not.
				Config: ic.config(`
  mesh    = "linkerd"
  version = "` + linkerdVersion + `"
  values  = { "linkerd-control-plane" = yamlencode({ controllerLogLevel = "debug" }) }
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectKnownValue(installAddress, gen("issuer_cert_pem"), knownvalue.StringRegexp(pemCertificate)),
						renderedKnown("linkerd-control-plane"),
						noPrivateKeyInPlan{},
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{revisions(map[string]int64{"linkerd-crds": 1, "linkerd-control-plane": 2})},
				Check: func(s *terraform.State) error {
					if err := noPrivateKeyInState(s); err != nil {
						return err
					}
					return ic.expectIssuer(t, s.RootModule().Resources[installAddress].Primary.Attributes["generated_identity.issuer_cert_pem"])
				},
			},
		},
	})
}

// checkUpgradeFromV0 feeds the provider the version 0 state of this
// install (which kept the generated key) and asserts the upgrade drops the
// key when the cluster holds it, and refuses, keeping the state, when the
// cluster holds another.
func (ic *installCluster) checkUpgradeFromV0(t *testing.T, attrs map[string]string) {
	t.Helper()
	_, liveKey := ic.issuerSecret(t)
	_, _, otherKey, err := certs.GenerateLinkerdIdentity(timeNow())
	if err != nil {
		t.Fatal(err)
	}
	server, schemas := configuredServer(t, ic.identity.Kubeconfig)
	typ := schemas.ResourceSchemas[installType].ValueType()
	for _, tc := range []struct {
		key, wantErr string
	}{
		{liveKey, ""},
		{otherKey, "holds another key than the state"},
	} {
		v0 := map[string]any{
			"id": attrs["id"], "mesh": "linkerd", "namespace": "linkerd", "version": attrs["version"],
			"chart_repository": attrs["chart_repository"], "wait": true, "timeout": attrs["timeout"],
			"generated_identity": map[string]any{
				"trust_anchors_pem": attrs["generated_identity.trust_anchors_pem"],
				"issuer_cert_pem":   attrs["generated_identity.issuer_cert_pem"],
				"issuer_key_pem":    tc.key,
			},
		}
		raw, _ := json.Marshal(v0)
		resp, err := server.UpgradeResourceState(context.Background(), &tfprotov6.UpgradeResourceStateRequest{
			TypeName: installType, Version: 0, RawState: &tfprotov6.RawState{JSON: raw},
		})
		if err != nil {
			t.Fatal(err)
		}
		errs := strings.Join(errorsOf(resp.Diagnostics), "\n")
		if tc.wantErr != "" {
			if !strings.Contains(errs, "the generated issuer key is not confirmed in the cluster") || !strings.Contains(errs, tc.wantErr) || resp.UpgradedState != nil {
				t.Errorf("upgrade with another key: %q (state %v), want the upgrade refused: %s", errs, resp.UpgradedState, tc.wantErr)
			}
			if strings.Contains(errs, privateKeyMarker) {
				t.Error("the upgrade's error quotes a key")
			}
			continue
		}
		if errs != "" || resp.UpgradedState == nil {
			t.Fatalf("upgrade: %s", errs)
		}
		up, err := resp.UpgradedState.Unmarshal(typ)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(up.String(), privateKeyMarker) {
			t.Errorf("the upgraded state holds a private key: %s", up)
		}
		var top map[string]tftypes.Value
		var gen map[string]tftypes.Value
		var fingerprint, anchors string
		if err := up.As(&top); err != nil {
			t.Fatal(err)
		}
		if err := top["generated_identity"].As(&gen); err != nil {
			t.Fatal(err)
		}
		_ = gen["issuer_fingerprint"].As(&fingerprint)
		_ = gen["trust_anchors_pem"].As(&anchors)
		if fingerprint != attrs["generated_identity.issuer_fingerprint"] || anchors != attrs["generated_identity.trust_anchors_pem"] {
			t.Errorf("upgraded generated_identity = %v", gen)
		}
	}
}

// configuredServer is the provider's protocol server, configured for
// kubeconfig.
func configuredServer(t *testing.T, kubeconfig string) (tfprotov6.ProviderServer, *tfprotov6.GetProviderSchemaResponse) {
	t.Helper()
	return protocolServer(t, map[string]tftypes.Value{"kubeconfig_path": tftypes.NewValue(tftypes.String, kubeconfig)})
}

// TestAccInstall_LinkerdSuppliedIdentity installs with the user's
// certificates (every object known at plan; the key write-only, so in no
// plan or state) and walks the documented rotation path
// (docs/guides/linkerd-identity.md): a new issuer under the same anchor,
// then an anchor rotation through a bundle.
func TestAccInstall_LinkerdSuppliedIdentity(t *testing.T) {
	ic := newInstallCluster(t)
	now := timeNow()
	must := func(p certs.Pair, err error) certs.Pair {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	anchorA, anchorB := must(certs.NewAnchor("root-a.linkerd.cluster.local", now)), must(certs.NewAnchor("root-b.linkerd.cluster.local", now))
	issuer1 := must(certs.NewIssuer(anchorA, "identity.linkerd.cluster.local", now))
	issuer2 := must(certs.NewIssuer(anchorA, "identity.linkerd.cluster.local", now))
	issuer3 := must(certs.NewIssuer(anchorB, "identity.linkerd.cluster.local", now))
	config := func(anchors string, issuer certs.Pair) string {
		return ic.config(`
  mesh    = "linkerd"
  version = "` + linkerdVersion + `"
  linkerd_identity = {
    trust_anchors_pem = ` + hcl(anchors) + `
    issuer_cert_pem   = ` + hcl(issuer.CertPEM) + `
    issuer_key_pem    = ` + hcl(issuer.KeyPEM) + `
  }
`)
	}
	step := func(anchors string, issuer certs.Pair, revision int64, first bool) resource.TestStep {
		pre := []plancheck.PlanCheck{renderedKnown("linkerd-crds"), renderedKnown("linkerd-control-plane"), noPrivateKeyInPlan{}}
		if !first {
			pre = append(pre, plancheck.ExpectResourceAction(installAddress, plancheck.ResourceActionUpdate),
				expectRenderedChange([]string{"linkerd-control-plane"}, []string{"linkerd-crds"}))
		}
		return resource.TestStep{
			Config: config(anchors, issuer),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply:             pre,
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(installAddress, tfjsonpath.New("generated_identity"), knownvalue.Null()),
				statecheck.ExpectKnownValue(installAddress, tfjsonpath.New("linkerd_identity").AtMapKey("issuer_key_pem"), knownvalue.Null()),
				statecheck.ExpectKnownValue(installAddress, tfjsonpath.New("linkerd_identity").AtMapKey("issuer_cert_pem"), knownvalue.StringExact(issuer.CertPEM)),
				revisions(map[string]int64{"linkerd-crds": 1, "linkerd-control-plane": revision}),
			},
			Check: func(s *terraform.State) error {
				if err := noPrivateKeyInState(s); err != nil {
					return err
				}
				if err := ic.expectIssuer(t, issuer.CertPEM); err != nil {
					return err
				}
				return ic.expectTrustRootsExactly(t, anchors)
			},
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviderFactories,
		Steps: []resource.TestStep{
			step(anchorA.CertPEM, issuer1, 1, true),
			// Issuer rotation: a new issuer under the same anchor.
			step(anchorA.CertPEM, issuer2, 2, false),
			// Anchor rotation: bundle the new anchor, then move the issuer
			// under it, then drop the old anchor.
			step(anchorA.CertPEM+anchorB.CertPEM, issuer2, 3, false),
			step(anchorA.CertPEM+anchorB.CertPEM, issuer3, 4, false),
			step(anchorB.CertPEM, issuer3, 5, false),
		},
	})
}

// expectTrustRootsExactly asserts Linkerd's trust-roots ConfigMap holds
// exactly the anchors bundle.
func (ic *installCluster) expectTrustRootsExactly(t *testing.T, anchors string) error {
	cm, err := ic.cs.CoreV1().ConfigMaps("linkerd").Get(context.Background(), "linkerd-identity-trust-roots", metav1.GetOptions{})
	if err != nil {
		return err
	}
	if got := cm.Data["ca-bundle.crt"]; strings.TrimSpace(got) != strings.TrimSpace(anchors) {
		return fmt.Errorf("linkerd-identity-trust-roots ca-bundle.crt is not the anchors bundle:\n%s", got)
	}
	return nil
}
