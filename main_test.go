package main

import (
	"context"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tfsdklog"
)

func TestQuietSDKLogs(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want map[string]string
	}{
		{"nobody asked: off", map[string]string{},
			map[string]string{"TF_LOG_PROVIDER": "OFF", "TF_LOG_PROVIDER_MESH": "OFF", "TF_LOG_SDK": "OFF", "TF_LOG_SDK_PROTO": "OFF", "TF_LOG_SDK_FRAMEWORK": "OFF"}},
		{"TF_LOG set: untouched", map[string]string{"TF_LOG": "DEBUG"}, map[string]string{"TF_LOG": "DEBUG"}},
		{"an SDK level set: untouched", map[string]string{"TF_LOG_SDK_FRAMEWORK": "TRACE"}, map[string]string{"TF_LOG_SDK_FRAMEWORK": "TRACE"}},
		{"a log file set: untouched", map[string]string{"TF_LOG_PATH": "/tmp/tf.log"}, map[string]string{"TF_LOG_PATH": "/tmp/tf.log"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tc.env {
				env[k] = v
			}
			lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			set := func(k, v string) error { env[k] = v; return nil }
			quietSDKLogs(lookup, set)
			if diff := cmp.Diff(tc.want, env); diff != "" {
				t.Errorf("environment (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTuneGCLeavesWhatTheUserSet(t *testing.T) {
	for _, tc := range []struct {
		name                string
		env                 map[string]string
		wantLimit, wantPerc int64
	}{
		{"nothing set", map[string]string{}, softMemoryLimit, gcPercent},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, -1, gcPercent},
		{"GOGC set", map[string]string{"GOGC": "100"}, softMemoryLimit, -1},
		{"GOGC=off", map[string]string{"GOGC": "off", "GOMEMLIMIT": "64MiB"}, -1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limit, percent := int64(-1), int64(-1)
			tuneGC(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok },
				func(n int64) int64 { limit = n; return 0 },
				func(n int) int { percent = int64(n); return 0 })
			if limit != tc.wantLimit || percent != tc.wantPerc {
				t.Errorf("memory limit %d, GC percent %d; want %d, %d (-1: left alone)", limit, percent, tc.wantLimit, tc.wantPerc)
			}
		})
	}
}

// TestQuietSDKLogsSilencesTheProviderLogger builds the provider's root logger
// as terraform-plugin-go's server does for our address (its level from
// TF_LOG_PROVIDER_<type>) and checks that, with nobody asking for logs, an
// Info line (what the timeouts package writes on every read) is not written.
func TestQuietSDKLogsSilencesTheProviderLogger(t *testing.T) {
	for _, name := range logEnv {
		if v, ok := os.LookupEnv(name); ok {
			t.Setenv(name, v) // restored after the test
			if err := os.Unsetenv(name); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, name := range quietLogEnv {
		t.Setenv(name, "") // restored after the test
		if err := os.Unsetenv(name); err != nil {
			t.Fatal(err)
		}
	}
	// The root logger writes to os.Stderr as it is when the logger is made.
	defer func(f *os.File) { os.Stderr = f }(os.Stderr)
	logLine := func() string {
		f, err := os.CreateTemp(t.TempDir(), "stderr")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = f.Close() }() // read back by name below
		os.Stderr = f
		ctx := tfsdklog.NewRootProviderLogger(context.Background(),
			tfsdklog.WithLogName("mesh"), tflog.WithLevelFromEnv("TF_LOG_PROVIDER", "mesh"))
		tflog.Info(ctx, "read timeout configuration not found, using provided default")
		out, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	if logLine() == "" {
		t.Fatal("with no level set the provider logger wrote nothing: the test no longer reproduces the default")
	}
	quietSDKLogs(os.LookupEnv, os.Setenv)
	if got := logLine(); got != "" {
		t.Errorf("provider logger still writes after quietSDKLogs:\n%s", got)
	}
}
