package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestStateStoreSpeaksTerraformsHTTPBackend(t *testing.T) {
	s := newStateStore()
	url, stop, err := s.serve()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	do := func(method, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, url+"/state/w/mesh", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		got, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(got)
	}
	for _, step := range []struct {
		method, body string
		code         int
		want         string
	}{
		{http.MethodGet, "", http.StatusNotFound, ""}, // no state yet
		{"LOCK", `{"ID":"a"}`, http.StatusOK, ""},
		{"LOCK", `{"ID":"b"}`, http.StatusLocked, `{"ID":"a"}`}, // the holder's info
		{http.MethodPost, `{"serial":1}`, http.StatusOK, ""},
		{http.MethodGet, "", http.StatusOK, `{"serial":1}`},
		{"UNLOCK", `{"ID":"a"}`, http.StatusOK, ""},
		{"LOCK", `{"ID":"b"}`, http.StatusOK, ""},
		{http.MethodPut, "", http.StatusMethodNotAllowed, "method PUT is not one of Terraform's http backend\n"},
		{http.MethodDelete, "", http.StatusOK, ""},
		{http.MethodGet, "", http.StatusNotFound, ""},
	} {
		code, body := do(step.method, step.body)
		if code != step.code || body != step.want {
			t.Errorf("%s %s: %d %q, want %d %q", step.method, step.body, code, body, step.code, step.want)
		}
	}
	if s.Writes() != 1 {
		t.Errorf("Writes() = %d, want 1", s.Writes())
	}
}
