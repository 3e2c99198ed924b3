package kubetest

import "testing"

func TestStartCause(t *testing.T) {
	for tail, want := range map[string]string{
		"I1201 started\nF1201 12:00:00 hooks.go:203] PostStartHook \"rbac/bootstrap-roles\" failed: unable to initialize roles: timed out\nI1201 shutting down\n": `F1201 12:00:00 hooks.go:203] PostStartHook "rbac/bootstrap-roles" failed: unable to initialize roles: timed out`,
		"I1201 a\nE1201 listen tcp: address already in use\nI1201 b\n":                                                                                            "E1201 listen tcp: address already in use",
		"I1201 a\nI1201 b\n": "I1201 b",
	} {
		if got := startCause(tail); got != want {
			t.Errorf("startCause(%q) = %q, want %q", tail, got, want)
		}
	}
}
