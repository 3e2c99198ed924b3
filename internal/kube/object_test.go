package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKeyRoundTrip(t *testing.T) {
	for _, id := range []ID{
		{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService", Namespace: "shop", Name: "reviews"},
		{Version: "v1", Kind: "Service", Namespace: "shop", Name: "reviews"},
		{Version: "v1", Kind: "Namespace", Name: "shop"},
	} {
		got, err := ParseKey(id.Key())
		if err != nil {
			t.Fatalf("ParseKey(%q): %v", id.Key(), err)
		}
		if diff := cmp.Diff(id, got); diff != "" {
			t.Errorf("ParseKey(%q) (-want +got):\n%s", id.Key(), diff)
		}
	}
}

func TestParseKeyRejects(t *testing.T) {
	for _, key := range []string{"", "v1/Service/ns", "a/b/c/d/e/f", "v1//ns/name", "v1/Service/ns/"} {
		if _, err := ParseKey(key); err == nil {
			t.Errorf("ParseKey(%q): want an error", key)
		}
	}
}

func TestIDString(t *testing.T) {
	for id, want := range map[ID]string{
		{Version: "v1", Kind: "Service", Namespace: "shop", Name: "reviews"}: "Service/shop/reviews",
		{Version: "v1", Kind: "Namespace", Name: "shop"}:                     "Namespace/shop",
	} {
		if got := id.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}
