package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

func fastBackoff() Backoff {
	return Backoff{Initial: time.Millisecond, Factor: 2, Cap: 5 * time.Millisecond}
}

// answers serves the given status codes in turn, then 200s, and counts
// the requests.
func answers(t *testing.T, codes ...int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		i := int(n.Add(1)) - 1
		if i < len(codes) {
			if codes[i] == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			w.WriteHeader(codes[i])
			_, _ = io.WriteString(w, `{"kind":"Status","code":`+http.StatusText(codes[i])+`}`)
			return
		}
		_, _ = w.Write(body) // echo: a resent request must carry its body
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func send(t *testing.T, ctx context.Context, method, url, contentType, body string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	rt := newRetryTransport(http.DefaultTransport, fastBackoff)
	return rt.RoundTrip(req)
}

const applyPatch = "application/apply-patch+yaml"

func TestRetryTransportRetriesWhatCannotHaveLandedForEveryMethod(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		srv, n := answers(t, 503, 503)
		resp, err := send(t, t.Context(), method, srv.URL, "application/json", "payload")
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || n.Load() != 3 || string(body) != "payload" {
			t.Errorf("%s after two 503s: status %d after %d requests, body %q; want 200 after 3 with the body resent", method, resp.StatusCode, n.Load(), body)
		}
	}
}

func TestRetryTransportRepeatsOnlyWhatIsSafeToRepeat(t *testing.T) {
	for _, tc := range []struct {
		method, contentType string
		want                int64 // requests for two 500s
	}{
		{http.MethodGet, "", 3},
		{http.MethodDelete, "", 3},
		{http.MethodPatch, applyPatch, 3},
		{http.MethodPatch, "application/merge-patch+json", 3},
		{http.MethodPatch, "application/json-patch+json", 1},
		{http.MethodPost, "application/json", 1},
		{http.MethodPut, "application/json", 3},
	} {
		srv, n := answers(t, 500, 500)
		resp, err := send(t, t.Context(), tc.method, srv.URL, tc.contentType, "x")
		if err != nil {
			t.Fatal(err)
		}
		if n.Load() != tc.want {
			t.Errorf("%s %s after 500s: %d requests (last status %d); want %d", tc.method, tc.contentType, n.Load(), resp.StatusCode, tc.want)
		}
	}
}

func TestRetryTransportDoesNotRetryAnswers(t *testing.T) {
	for _, code := range []int{400, 403, 404, 409, 422} {
		srv, n := answers(t, code)
		resp, err := send(t, t.Context(), http.MethodPatch, srv.URL, applyPatch, "x")
		if err != nil || resp.StatusCode != code || n.Load() != 1 {
			t.Errorf("%d: status %v, err %v after %d requests; want it returned at once", code, resp.StatusCode, err, n.Load())
		}
	}
}

// The 500 of a server-side apply that does not fit the schema is a
// validation error: answered at once, its message still readable.
func TestRetryTransportDoesNotRetrySchemaMismatch(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.WriteHeader(500)
		_, _ = io.WriteString(w, `{"message":"failed to create typed patch object: .spec.x: field not declared in schema"}`)
	}))
	defer srv.Close()
	resp, err := send(t, t.Context(), http.MethodPatch, srv.URL, applyPatch, "x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if n.Load() != 1 || !strings.Contains(string(body), "field not declared") {
		t.Errorf("%d requests, body %q; want 1 and the message", n.Load(), body)
	}
}

// A Retry-After past the retry deadline ends the retries with the answer,
// without the header (client-go would otherwise wait and retry on its own).
func TestRetryTransportStopsAtTheRetryDeadline(t *testing.T) {
	srv, n := answers(t, 429, 429, 429)
	ctx := WithRetryDeadline(t.Context(), time.Now().Add(200*time.Millisecond))
	start := time.Now()
	resp, err := send(t, ctx, http.MethodGet, srv.URL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 429 || n.Load() != 1 || resp.Header.Get("Retry-After") != "" || time.Since(start) > time.Second {
		t.Errorf("status %d after %d requests in %s, Retry-After %q; want the 429 at once, without Retry-After",
			resp.StatusCode, n.Load(), time.Since(start), resp.Header.Get("Retry-After"))
	}
}

// A server that is not there is an outage, reported with how long it was
// retried; nothing was sent.
func TestRetryTransportReportsAnOutage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	ctx := WithRetryDeadline(t.Context(), time.Now().Add(300*time.Millisecond))
	_, err = send(t, ctx, http.MethodPatch, "http://"+addr+"/apis/x", applyPatch, "x")
	var outage *OutageError
	if !errors.As(err, &outage) {
		t.Fatalf("err = %v; want an OutageError", err)
	}
	if outage.Attempts < 3 || outage.Duration < 100*time.Millisecond || outage.Sent || outage.Reached || mayHaveLanded(err) {
		t.Errorf("outage %+v; want several attempts over the deadline, nothing sent, a server never reached", outage)
	}
	if !strings.Contains(err.Error(), "did not answer PATCH /apis/x for") {
		t.Errorf("message %q", err)
	}
}

// A connection broken after a request went out: retried when the request
// is safe to repeat; a POST is not, and its write may have landed.
func TestRetryTransportBrokenConnection(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1) == 1 {
			panic(http.ErrAbortHandler)
		}
	}))
	defer srv.Close()
	if _, err := send(t, t.Context(), http.MethodPatch, srv.URL, applyPatch, "x"); err != nil || n.Load() != 2 {
		t.Errorf("apply after a broken connection: %v after %d requests; want success after 2", err, n.Load())
	}
	n.Store(0)
	_, err := send(t, t.Context(), http.MethodPost, srv.URL, "application/json", "x")
	if err == nil || n.Load() != 1 || !mayHaveLanded(err) {
		t.Errorf("POST after a broken connection: %v after %d requests; want its error at once, may have landed", err, n.Load())
	}
}

// A connection broken while the answer's body arrives (the write landed,
// its reply was lost halfway): retried when the request is safe to repeat,
// as Helm's update of its release record is; a POST's error is returned as
// one that may have landed, from RoundTrip, not from the body read later.
func TestRetryTransportReplyLostMidBody(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"kind":`)
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		_, _ = io.WriteString(w, `{"kind":"Secret"}`)
	}))
	defer srv.Close()
	resp, err := send(t, t.Context(), http.MethodPut, srv.URL, "application/json", "x")
	if err != nil || n.Load() != 2 {
		t.Fatalf("PUT whose reply broke mid-body: %v after %d requests; want success after 2", err, n.Load())
	}
	if body, _ := io.ReadAll(resp.Body); string(body) != `{"kind":"Secret"}` {
		t.Errorf("body %q", body)
	}
	n.Store(0)
	_, err = send(t, t.Context(), http.MethodPost, srv.URL, "application/json", "x")
	if err == nil || n.Load() != 1 || !mayHaveLanded(err) {
		t.Errorf("POST whose reply broke mid-body: %v after %d requests; want its error at once, may have landed", err, n.Load())
	}
}

func TestRetryTransportStopsWithTheContext(t *testing.T) {
	srv, n := answers(t, 503, 503, 503, 503, 503, 503, 503, 503)
	ctx, cancel := context.WithCancel(WithRetryDeadline(t.Context(), time.Now().Add(2*time.Hour)))
	rt := newRetryTransport(http.DefaultTransport, func() Backoff { return Backoff{Initial: time.Hour, Factor: 1, Cap: time.Hour} })
	rt.answered.Store(true) // else an unreached server's shorter budget ends the wait
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := rt.RoundTrip(req)
	if !errors.Is(err, context.Canceled) || n.Load() != 1 || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %d requests in %s; want the cancellation at once", err, n.Load(), time.Since(start))
	}
}

// The clients of a config from WithRetries (the Helm installer's) retry as
// a Manager's do, and share what they learnt of the server.
func TestWithRetriesConfig(t *testing.T) {
	srv, n := answers(t, 503)
	cfg := WithRetries(&rest.Config{Host: srv.URL})
	for range 2 {
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Discovery().RESTClient().Get().AbsPath("/version").DoRaw(t.Context()); err != nil {
			t.Fatalf("GET through a 503: %v", err)
		}
	}
	if n.Load() != 3 {
		t.Errorf("%d requests; want 3 (a 503, then one answer for each client)", n.Load())
	}
}

// An API server that has just restarted answers 401s and 403s until its
// authenticators and authorizer have synced: within AuthSettle of an outage
// they are retried (for any method: the refusal came before acting). Without
// an outage a 403 is the answer.
func TestRetryTransportRetriesAuthRefusalsRightAfterAnOutage(t *testing.T) {
	for _, code := range []int{401, 403} {
		srv, n := answers(t, code, code)
		rt := newRetryTransport(http.DefaultTransport, fastBackoff)
		rt.outage.Store(time.Now().Add(-time.Second).UnixNano())
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader("x"))
		resp, err := rt.RoundTrip(req)
		if err != nil || resp.StatusCode != 200 || n.Load() != 3 {
			t.Errorf("%d right after an outage: status %v, %v after %d requests; want 200 after 3", code, resp.StatusCode, err, n.Load())
		}
		srv, n = answers(t, code)
		rt.outage.Store(time.Now().Add(-AuthSettle - time.Second).UnixNano())
		req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader("x"))
		if resp, err := rt.RoundTrip(req); err != nil || resp.StatusCode != code || n.Load() != 1 {
			t.Errorf("%d long after an outage: status %v, %v after %d requests; want it at once", code, resp.StatusCode, err, n.Load())
		}
	}
	// The outage is learnt from a refused connection of the same client.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	rt := newRetryTransport(http.DefaultTransport, fastBackoff)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr, nil)
	if _, err := rt.RoundTrip(req); err == nil {
		t.Fatal("a closed port answered")
	}
	if rt.outage.Load() == 0 {
		t.Error("a refused connection did not record an outage")
	}
}

// A request without a deadline of its own (Helm's kube client sends them
// all that way) stops retrying at the latest bound held, moves with it,
// and retries for DefaultRetryBudget again once the bound is released.
func TestRetryBoundsStopRequestsWithoutADeadline(t *testing.T) {
	srv, n := answers(t, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503)
	var bounds RetryBounds
	rt := &retryTransport{next: http.DefaultTransport, backoff: func() Backoff { return Backoff{Initial: 20 * time.Millisecond, Factor: 1, Cap: 20 * time.Millisecond} },
		answered: &atomic.Bool{}, outage: &atomic.Int64{}, bounds: &bounds}
	get := func() (int, time.Duration) {
		n.Store(0)
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
		start := time.Now()
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, time.Since(start)
	}
	b := bounds.Hold(time.Now().Add(150 * time.Millisecond))
	if code, took := get(); code != 503 || took > 2*time.Second || n.Load() < 2 {
		t.Errorf("under a bound 150 ms away: %d after %s and %d requests; want the 503 after a few retries, within the bound", code, took, n.Load())
	}
	b.Move(time.Now())
	if code, _ := get(); code != 503 || n.Load() != 1 {
		t.Errorf("under a bound moved to now: %d after %d requests; want the first answer", code, n.Load())
	}
	b.Release()
	if code, _ := get(); code != 200 || n.Load() != 21 {
		t.Errorf("with the bound released: %d after %d requests; want retries until the 200", code, n.Load())
	}
}

// A create whose reply is lost (the connection breaks after the object was
// stored) is sent again: the repeat is refused as AlreadyExists, and the
// object of that name holds everything the create sent, so the create is
// answered as done (201, with the object). When the object of that name is
// another (its data differ), the refusal stands; a create of an unnamed
// object (generateName) is never sent twice.
func TestRetryTransportLostCreateReply(t *testing.T) {
	const path = "/api/v1/namespaces/ns/secrets"
	sent := `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"rel","creationTimestamp":null,"labels":{"owner":"helm"}},"data":{"release":"YWJj"}}`
	for _, tc := range []struct {
		name, stored, body string
		wantStatus         int
		wantPosts          int64
	}{
		{"the create landed", sent, sent, http.StatusCreated, 2},
		{"another object of that name", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"rel","labels":{"owner":"helm"}},"data":{"release":"eHl6"}}`, sent, http.StatusConflict, 2},
		{"generateName", sent, `{"apiVersion":"v1","kind":"Secret","metadata":{"generateName":"rel-"}}`, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var posts atomic.Int64
			var stored atomic.Pointer[string]
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.Method == http.MethodPost && r.URL.Path == path:
					_, _ = io.ReadAll(r.Body)
					if posts.Add(1) == 1 {
						stored.Store(&tc.stored) // stored, and the reply lost
						panic(http.ErrAbortHandler)
					}
					w.WriteHeader(http.StatusConflict)
					_, _ = io.WriteString(w, `{"kind":"Status","reason":"AlreadyExists","code":409}`)
				case r.Method == http.MethodGet && r.URL.Path == path+"/rel" && stored.Load() != nil:
					if r.Header.Get("Authorization") != "Bearer t" {
						w.WriteHeader(http.StatusUnauthorized)
						return
					}
					var obj map[string]any
					_ = json.Unmarshal([]byte(*stored.Load()), &obj)
					obj["metadata"].(map[string]any)["uid"] = "u-1" // what the server adds
					obj["metadata"].(map[string]any)["creationTimestamp"] = "2026-12-02T00:00:00Z"
					_ = json.NewEncoder(w).Encode(obj)
				default:
					w.WriteHeader(http.StatusNotFound)
				}
			}))
			defer srv.Close()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(tc.body)), nil }
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer t")
			resp, err := newRetryTransport(http.DefaultTransport, fastBackoff).RoundTrip(req)
			if got := posts.Load(); got != tc.wantPosts {
				t.Errorf("%d POSTs; want %d", got, tc.wantPosts)
			}
			if tc.wantStatus == 0 {
				if err == nil || !mayHaveLanded(err) {
					t.Errorf("RoundTrip: %v; want the lost reply's error, may have landed", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status %d; want %d", resp.StatusCode, tc.wantStatus)
			}
			if body, _ := io.ReadAll(resp.Body); tc.wantStatus == http.StatusCreated && !strings.Contains(string(body), `"uid":"u-1"`) {
				t.Errorf("body %s; want the stored object", body)
			}
		})
	}
}

// The same through protobuf, as client-go's typed clients may send a
// Secret (Helm's release records): the repeat's AlreadyExists is the
// create's when the stored object holds what was sent.
func TestRetryTransportLostCreateReplyProtobuf(t *testing.T) {
	const path = "/api/v1/namespaces/ns/secrets"
	pb := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
	encode := func(s *corev1.Secret) []byte {
		var b bytes.Buffer
		if err := pb.Encode(s, &b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	secret := func(data string) *corev1.Secret {
		return &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: metav1.ObjectMeta{Name: "rel", Labels: map[string]string{"owner": "helm"}},
			Data:       map[string][]byte{"release": []byte(data)}}
	}
	for _, tc := range []struct {
		name       string
		stored     string
		wantStatus int
	}{{"the create landed", "abc", http.StatusCreated}, {"another object of that name", "xyz", http.StatusConflict}} {
		t.Run(tc.name, func(t *testing.T) {
			var posts atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.Method == http.MethodPost && r.URL.Path == path:
					_, _ = io.ReadAll(r.Body)
					if posts.Add(1) == 1 {
						panic(http.ErrAbortHandler) // stored, and the reply lost
					}
					w.WriteHeader(http.StatusConflict)
				case r.Method == http.MethodGet && r.URL.Path == path+"/rel":
					stored := secret(tc.stored)
					stored.UID = "u-1"
					w.Header().Set("Content-Type", runtime.ContentTypeProtobuf)
					_, _ = w.Write(encode(stored))
				default:
					w.WriteHeader(http.StatusNotFound)
				}
			}))
			defer srv.Close()
			body := encode(secret("abc"))
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+path, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", runtime.ContentTypeProtobuf)
			resp, err := newRetryTransport(http.DefaultTransport, fastBackoff).RoundTrip(req)
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			if resp.StatusCode != tc.wantStatus || posts.Load() != 2 {
				t.Errorf("status %d after %d POSTs; want %d after 2", resp.StatusCode, posts.Load(), tc.wantStatus)
			}
		})
	}
}
