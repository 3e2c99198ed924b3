package install

import (
	"strings"
	"testing"

	"github.com/meshform/terraform-provider-mesh/internal/meshtest"

	"sigs.k8s.io/yaml"
)

// planYAML is a plan as the golden files show it: releases in install
// order, then the upgrade order.
func planYAML(t *testing.T, p Plan) []byte {
	t.Helper()
	var upgrade []string
	for _, r := range p.UpgradeOrder() {
		upgrade = append(upgrade, r.Name)
	}
	out, err := yaml.Marshal(map[string]any{"plan": p, "upgradeOrder": upgrade})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const testIdentity = "(pem)"

func TestPlansGolden(t *testing.T) {
	id := LinkerdIdentity{TrustAnchorsPEM: "anchor " + testIdentity, IssuerCertPEM: "issuer " + testIdentity, IssuerKeyPEM: "key " + testIdentity}
	for name, build := range map[string]func() (Plan, error){
		"istio_ambient": func() (Plan, error) {
			return IstioPlan(IstioOptions{Version: "1.31.0", Ambient: true})
		},
		"istio_sidecar_revision_custom_namespace": func() (Plan, error) {
			return IstioPlan(IstioOptions{Namespace: "mesh", Repository: "oci://mirror.example/istio", Version: "1.31.0", Revision: "canary"})
		},
		"istio_ambient_user_values_merged": func() (Plan, error) {
			return IstioPlan(IstioOptions{Version: "1.31.0", Ambient: true, Values: map[string]string{
				"istiod":  "meshConfig:\n  accessLogFile: /dev/stdout\nprofile: ambient\npilot:\n  autoscaleMin: 2\n",
				"ztunnel": "istioNamespace: other\n",
				"cni":     "cni:\n  logLevel: debug\n",
			}})
		},
		"linkerd": func() (Plan, error) {
			return LinkerdPlan(LinkerdOptions{Version: "2026.8.3", Identity: id})
		},
		"linkerd_user_values_merged": func() (Plan, error) {
			return LinkerdPlan(LinkerdOptions{Version: "2026.8.3", Identity: id, Values: map[string]string{
				"linkerd-control-plane": "identity:\n  issuer:\n    issuanceLifetime: 48h\ncontrollerReplicas: 3\n",
			}})
		},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := build()
			if err != nil {
				t.Fatal(err)
			}
			meshtest.Golden(t, name, string(planYAML(t, p)))
		})
	}
}

func TestPlanErrors(t *testing.T) {
	id := LinkerdIdentity{TrustAnchorsPEM: "a", IssuerCertPEM: "c", IssuerKeyPEM: "k"}
	for name, tc := range map[string]struct {
		build func() (Plan, error)
		want  string
	}{
		"istio values do not parse": {func() (Plan, error) {
			return IstioPlan(IstioOptions{Version: "1", Values: map[string]string{"istiod": "env: [unclosed"}})
		}, `values for chart "istiod" are not valid YAML`},
		"istio values not a map": {func() (Plan, error) {
			return IstioPlan(IstioOptions{Version: "1", Values: map[string]string{"base": "- a list"}})
		}, `values for chart "base" are not valid YAML`},
		"istio unknown chart": {func() (Plan, error) {
			return IstioPlan(IstioOptions{Version: "1", Values: map[string]string{"istio-d": "a: 1"}})
		}, `values for chart "istio-d": istio has no such chart (charts: base, istiod, cni, ztunnel)`},
		"istio without version": {func() (Plan, error) { return IstioPlan(IstioOptions{}) }, "version is required"},
		"linkerd values do not parse": {func() (Plan, error) {
			return LinkerdPlan(LinkerdOptions{Version: "1", Identity: id, Values: map[string]string{"linkerd-crds": "a: b: c"}})
		}, `values for chart "linkerd-crds" are not valid YAML`},
		"linkerd without identity": {func() (Plan, error) {
			return LinkerdPlan(LinkerdOptions{Version: "1"})
		}, "trust anchors, issuer certificate and issuer key are all required"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tc.build()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestSidecarPlanIgnoresValuesOfUninstalledCharts(t *testing.T) {
	p, err := IstioPlan(IstioOptions{Version: "1", Values: map[string]string{"cni": "a: 1"}})
	if err != nil || len(p.Releases) != 2 {
		t.Errorf("plan %+v, err %v", p, err)
	}
}

func TestUpgradeOrderControlPlaneFirst(t *testing.T) {
	p := Plan{Releases: []Release{{Name: "ztunnel", Chart: "ztunnel"}, {Name: "istio-cni", Chart: "cni"}, {Name: "istiod", Chart: "istiod"}, {Name: "istio-base", Chart: "base"}}}
	var got []string
	for _, r := range p.UpgradeOrder() {
		got = append(got, r.Name)
	}
	if strings.Join(got, ",") != "istio-base,istiod,ztunnel,istio-cni" {
		t.Errorf("UpgradeOrder = %v", got)
	}
}

func TestDeepMergeLeavesInputsAlone(t *testing.T) {
	base := map[string]any{"a": map[string]any{"b": 1, "c": 2}}
	over := map[string]any{"a": map[string]any{"b": 3}, "d": 4}
	got := deepMerge(base, over)
	want := `a:
  b: 3
  c: 2
d: 4
`
	if out, _ := yaml.Marshal(got); string(out) != want {
		t.Errorf("merged:\n%s", out)
	}
	if base["a"].(map[string]any)["b"] != 1 {
		t.Error("deepMerge modified its base")
	}
}

// The heartbeat CronJob's schedule is pinned per namespace, so that two
// renders a minute apart are the same, unless values set it.
func TestLinkerdHeartbeatSchedulePinned(t *testing.T) {
	id := LinkerdIdentity{TrustAnchorsPEM: "a", IssuerCertPEM: "c", IssuerKeyPEM: "k"}
	schedule := func(o LinkerdOptions) any {
		t.Helper()
		o.Version, o.Identity = "1", id
		p, err := LinkerdPlan(o)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Releases {
			if r.Chart == "linkerd-control-plane" {
				return r.Values["heartbeatSchedule"]
			}
		}
		t.Fatal("no linkerd-control-plane release")
		return nil
	}
	def, again := schedule(LinkerdOptions{}), schedule(LinkerdOptions{Namespace: "linkerd"})
	if s, ok := def.(string); !ok || len(strings.Fields(s)) != 5 || def != again {
		t.Errorf("default schedule %v and %v, want one five-field cron schedule", def, again)
	}
	if other := schedule(LinkerdOptions{Namespace: "mesh-b"}); other == def {
		t.Errorf("namespaces linkerd and mesh-b share the schedule %v", def)
	}
	user := schedule(LinkerdOptions{Values: map[string]string{"linkerd-control-plane": "heartbeatSchedule: \"1 2 * * *\"\n"}})
	if user != "1 2 * * *" {
		t.Errorf("values set heartbeatSchedule 1 2 * * *, plan has %v", user)
	}
}
