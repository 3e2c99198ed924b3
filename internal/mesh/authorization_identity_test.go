package mesh

import "testing"

func TestPrincipalServiceAccount(t *testing.T) {
	tests := map[string]string{ // principal → service account, "" when none
		"cluster.local/ns/frontend/sa/web": "frontend/web",
		"example.org/ns/frontend/sa/web":   "",
		"cluster.local/ns/frontend/sa/*":   "",
		"cluster.local/ns/*/sa/web":        "",
		"cluster.local/ns//sa/web":         "",
		"cluster.local/ns/a/sa/b/c":        "",
		"cluster.local/ns/frontend":        "",
		"*":                                "",
	}
	for p, want := range tests {
		got, ok := PrincipalServiceAccount(p)
		if got != want || ok != (want != "") {
			t.Errorf("PrincipalServiceAccount(%q) = %q, %v; want %q", p, got, ok, want)
		}
		if ok && ServiceAccountPrincipal(got) != p {
			t.Errorf("ServiceAccountPrincipal(%q) = %q, want %q", got, ServiceAccountPrincipal(got), p)
		}
	}
}

func TestNeedsIdentityLookup(t *testing.T) {
	withSA := Authorization{Target: TargetIstioSidecar, Rules: []AuthzRule{{From: []AuthzSource{{Namespaces: []string{"a"}}, {ServiceAccounts: []string{"a/b"}}}}}}
	if !withSA.NeedsIdentityLookup() {
		t.Error("an Istio policy naming service accounts needs the identity lookup")
	}
	for name, a := range map[string]Authorization{
		"linkerd":             {Target: TargetLinkerd, Rules: withSA.Rules},
		"allow_all":           {Target: TargetIstioSidecar, AllowAll: true},
		"no service accounts": {Target: TargetIstioAmbient, Rules: []AuthzRule{{From: []AuthzSource{{Namespaces: []string{"a"}}}}}},
	} {
		if a.NeedsIdentityLookup() {
			t.Errorf("%s: needs the identity lookup", name)
		}
	}
}
