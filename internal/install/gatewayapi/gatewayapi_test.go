package gatewayapi

import "testing"

func TestCRDsEmbedded(t *testing.T) {
	crds, err := CRDs("v1.4.0")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, c := range crds {
		if c.GetKind() != "CustomResourceDefinition" {
			t.Errorf("%s is a %s", c.GetName(), c.GetKind())
		}
		if got := c.GetAnnotations()[BundleAnnotation]; got != "v1.4.0" {
			t.Errorf("%s: bundle-version %q", c.GetName(), got)
		}
		names[c.GetName()] = true
	}
	for _, want := range []string{"httproutes.gateway.networking.k8s.io", "grpcroutes.gateway.networking.k8s.io", "gateways.gateway.networking.k8s.io"} {
		if !names[want] {
			t.Errorf("missing %s", want)
		}
	}
}

func TestCRDsUnsupportedVersion(t *testing.T) {
	if _, err := CRDs("v1.6.1"); err == nil {
		t.Fatal("want an error for a version that is not embedded")
	}
}

func TestNewer(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{{"v1.5.1", "v1.4.0", true}, {"v1.4.0", "v1.4.0", false}, {"v1.2.1", "v1.4.0", false}, {"", "v1.4.0", false}, {"v1.10.0", "v1.9.9", true}} {
		if got := newer(c.a, c.b); got != c.want {
			t.Errorf("newer(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
