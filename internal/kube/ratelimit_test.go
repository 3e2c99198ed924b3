package kube

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// TestClientsShareOneRateLimit checks that the Manager's typed, dynamic and
// discovery clients draw on one token bucket, so that `qps` and `burst`
// bound the provider's requests, not each client's. The server is a stub:
// this is about client-side throttling, not Kubernetes behaviour.
func TestClientsShareOneRateLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/version":
			_, _ = w.Write([]byte(`{"major":"1","minor":"34","gitVersion":"v1.34.2"}`))
		case strings.HasPrefix(r.URL.Path, "/api/v1/namespaces/"):
			_, _ = w.Write([]byte(`{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"a"}}`))
		default:
			_, _ = w.Write([]byte(`{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","namespace":"a"}}`))
		}
	}))
	defer srv.Close()

	// A burst of 3 and a refill far slower than the test.
	m, err := New(&rest.Config{Host: srv.URL}, Options{QPS: 0.001, Burst: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := m.Clientset().CoreV1().Namespaces().Get(ctx, "a", metav1.GetOptions{}); err != nil {
		t.Fatalf("typed get: %v", err)
	}
	cm := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	if _, err := m.Dynamic().Resource(cm).Namespace("a").Get(ctx, "a", metav1.GetOptions{}); err != nil {
		t.Fatalf("dynamic get: %v", err)
	}
	if _, err := m.Clientset().Discovery().ServerVersion(); err != nil {
		t.Fatalf("version: %v", err)
	}
	// The bucket is empty now: the next token is about 1,000 s away, past
	// the context's deadline, so the limiter refuses at once.
	_, err = m.Clientset().CoreV1().Namespaces().Get(ctx, "a", metav1.GetOptions{})
	if err == nil || !strings.Contains(err.Error(), "rate") {
		t.Errorf("a fourth request with a burst of 3 was not throttled (err %v): the clients keep separate buckets", err)
	}
	if got := m.Requests(); got != 3 {
		t.Errorf("requests sent = %d, want 3", got)
	}
}
