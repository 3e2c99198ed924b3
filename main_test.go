package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQuietSDKLogs(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want map[string]string
	}{
		{"nobody asked: off", map[string]string{},
			map[string]string{"TF_LOG_PROVIDER": "OFF", "TF_LOG_SDK": "OFF", "TF_LOG_SDK_PROTO": "OFF", "TF_LOG_SDK_FRAMEWORK": "OFF"}},
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
