package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http2"
	"k8s.io/apimachinery/pkg/runtime"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// Every request a Manager (or a caller of WithRetries, the Helm installer)
// sends goes through retryTransport: plan-time cluster checks and lookups as
// much as the apply's writes. One overloaded or restarting API server then
// delays a request instead of failing a resource, and the whole outage is
// reported as one, with how long it lasted.
//
// How long a request is retried is the context's business, not a fixed
// count: until its retry deadline (WithRetryDeadline: Apply gives its
// forward steps half the resource's timeout and its rollback a budget of its
// own), else its deadline, else DefaultRetryBudget.

// DefaultRetryBudget bounds the retries of a request whose context has no
// deadline (Terraform's plan gives ModifyPlan none).
const DefaultRetryBudget = 30 * time.Second

// UnreachedRetryBudget bounds the retries of a client that has never had an
// answer from its server: a wrong host or port fails within it instead of
// the resource's whole timeout, and an API server that is restarting as
// the provider starts still gets that long to come back.
const UnreachedRetryBudget = 15 * time.Second

type retryDeadlineKey struct{}

type noRepeatsKey struct{}

// withoutRepeats makes the requests sent with ctx retried only when they
// cannot have been acted on (a refused connection, a 429, a 503): one that
// may have landed returns its error, for the caller to look.
func withoutRepeats(ctx context.Context) context.Context {
	return context.WithValue(ctx, noRepeatsKey{}, true)
}

// WithRetryDeadline makes the requests sent with ctx stop retrying at t
// (they are still bounded by ctx itself).
func WithRetryDeadline(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, retryDeadlineKey{}, t)
}

// retryDeadline is when a request sent with ctx, started at start, gives up.
func retryDeadline(ctx context.Context, start time.Time) time.Time {
	if t, ok := ctx.Value(retryDeadlineKey{}).(time.Time); ok {
		return t
	}
	if t, ok := ctx.Deadline(); ok {
		return t
	}
	return start.Add(DefaultRetryBudget)
}

// OutageError is a request that could not reach the API server (or found it
// unable to answer) for as long as it was retried.
type OutageError struct {
	Method, URL string
	Attempts    int
	Duration    time.Duration
	// Sent is true when a request may have reached the server before the
	// connection broke: a write may then have landed.
	Sent bool
	// Reached is true when the client had answers from the server before:
	// this is an outage, not a connection the configuration cannot make.
	Reached bool
	Err     error
}

func (e *OutageError) Error() string {
	return fmt.Sprintf("the Kubernetes API server did not answer %s %s for %s (%d attempts): %v",
		e.Method, e.URL, e.Duration.Round(100*time.Millisecond), e.Attempts, e.Err)
}

func newRetryTransport(next http.RoundTripper, backoff func() Backoff) *retryTransport {
	return &retryTransport{next: next, backoff: backoff, answered: &atomic.Bool{}, outage: &atomic.Int64{}}
}
func (e *OutageError) Unwrap() error { return e.Err }

// RetryBounds bounds the retries of requests sent without a deadline of
// their own, by clients that cannot pass one (Helm's kube client sends every
// request with context.TODO): while a bound is held, such a request stops
// retrying at the latest bound held, instead of after DefaultRetryBudget. A
// caller that gives up on such a client's work at its deadline can then
// wait for that work to end soon after, rather than race it.
type RetryBounds struct {
	mu   sync.Mutex
	held map[int]time.Time
	next int
}

// Hold bounds retries at until, until the Bound is released.
func (b *RetryBounds) Hold(until time.Time) *Bound {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held == nil {
		b.held = map[int]time.Time{}
	}
	b.next++
	b.held[b.next] = until
	return &Bound{of: b, id: b.next}
}

// Bound is one bound RetryBounds holds.
type Bound struct {
	of *RetryBounds
	id int
}

// Move changes the bound to t (now, to stop retrying at once).
func (b *Bound) Move(t time.Time) {
	b.of.mu.Lock()
	defer b.of.mu.Unlock()
	if _, ok := b.of.held[b.id]; ok {
		b.of.held[b.id] = t
	}
}

// Release ends the bound.
func (b *Bound) Release() {
	b.of.mu.Lock()
	defer b.of.mu.Unlock()
	delete(b.of.held, b.id)
}

// latest is the latest bound held, if any.
func (b *RetryBounds) latest() (time.Time, bool) {
	if b == nil {
		return time.Time{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out time.Time
	for _, t := range b.held {
		if t.After(out) {
			out = t
		}
	}
	return out, !out.IsZero()
}

// WithRetriesBounded is WithRetries whose requests without a deadline of
// their own stop retrying at what bounds holds.
func WithRetriesBounded(cfg *rest.Config, bounds *RetryBounds) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	wrapRetries(cfg, bounds)
	return cfg
}

// WithRetries returns a copy of cfg whose requests go through the same
// retries as a Manager's.
func WithRetries(cfg *rest.Config) *rest.Config {
	return WithRetriesBounded(cfg, nil)
}

// wrapRetries makes every client built from cfg send its requests through
// retryTransport, sharing what they learn of the server (answered).
func wrapRetries(cfg *rest.Config, bounds *RetryBounds) {
	answered, outage := &atomic.Bool{}, &atomic.Int64{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &retryTransport{next: rt, backoff: DefaultBackoff, answered: answered, outage: outage, bounds: bounds}
	})
}

type retryTransport struct {
	next    http.RoundTripper
	backoff func() Backoff
	// answered is set once any request of the client got an answer.
	answered *atomic.Bool
	// outage is when a request of the client last failed to connect (Unix
	// nanoseconds; 0 for never).
	outage *atomic.Int64
	// bounds, when set, bounds the retries of requests without a deadline.
	bounds *RetryBounds
}

// AuthSettle is how long after an outage a 401 or 403 is taken for an API
// server that has just restarted and whose authenticators and RBAC
// authorizer have not synced yet (it answers before they have), and
// retried: the authorizer refused before acting, so nothing happened. Any
// other 401 or 403 is answered at once.
const AuthSettle = 30 * time.Second

// RoundTrip sends req until it gets an answer that a retry cannot change
// or the retry deadline comes. What is retried depends on whether the
// request could have been acted on: a refused connection, a 429 (priority
// and fairness rejects before acting) and a 503 never were, so every method
// is retried; a connection broken after sending, a 500, 502 or 504 may
// have been, so only requests that are safe to repeat are (reads, deletes,
// updates, server-side apply and merge patches; never a JSON patch, and a
// POST only when it creates a named object: see createOf). The answer to a write is read in full here, so that a connection
// broken while its body arrives is a lost reply like any other (retried
// when safe), not an error the caller meets after RoundTrip returned.
// A 401 or 403 within AuthSettle of an outage is retried too.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	ctx := req.Context()
	deadline := retryDeadline(ctx, start)
	if _, own := ctx.Deadline(); !own && ctx.Value(retryDeadlineKey{}) == nil {
		if bound, ok := t.bounds.latest(); ok {
			deadline = bound
		}
	}
	reached := t.answered.Load()
	if !reached {
		deadline = earliest(deadline, start.Add(UnreachedRetryBudget))
	}
	b := t.backoff()
	delay := b.Initial
	repeatable := idempotent(req) && ctx.Value(noRepeatsKey{}) == nil
	// A body that cannot be read again cannot be sent again.
	resendable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	// The name a create sends and what it sends, read from its body only
	// once a reply is lost (createOf): a create is then sent again.
	var create string
	var posted map[string]any
	read := repeatable || !resendable || ctx.Value(noRepeatsKey{}) != nil
	namedCreate := func() bool {
		if !read {
			read = true
			create, posted = createOf(req)
		}
		return create != ""
	}
	lostCreate := false // a create's reply was lost: it may have landed
	sent := false       // some attempt may have reached the server
	for attempt := 1; ; attempt++ {
		r, err := rewound(req, attempt)
		if err != nil {
			return nil, err
		}
		resp, err := t.next.RoundTrip(r)
		if err == nil && isWrite(req) {
			if err = buffered(resp); err != nil {
				resp = nil
			}
		}
		var retry bool
		wait := delay
		switch {
		case err != nil:
			out := !neverSent(err)
			sent = sent || out
			lostCreate = lostCreate || (out && namedCreate())
			retry = ctx.Err() == nil && (!out || repeatable || lostCreate) && transientNetError(err)
			if transientNetError(err) {
				t.outage.Store(time.Now().UnixNano())
			}
		default:
			t.answered.Store(true)
			if lostCreate && resp.StatusCode == http.StatusConflict {
				if created := t.landedCreate(r, create, posted); created != nil {
					drain(resp)
					return created, nil
				}
			}
			retry, wait = retryableStatus(resp, repeatable, wait)
			if !retry && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized) {
				last := t.outage.Load()
				retry = last != 0 && time.Since(time.Unix(0, last)) < AuthSettle
			}
		}
		if !retry || !resendable {
			return resp, err
		}
		if now := time.Now(); now.Add(wait).After(deadline) {
			if err != nil {
				return nil, &OutageError{Method: req.Method, URL: req.URL.Path, Attempts: attempt, Duration: now.Sub(start), Sent: sent, Reached: reached, Err: err}
			}
			// The answer stands: client-go would otherwise retry a
			// Retry-After of its own past our deadline.
			resp.Header.Del("Retry-After")
			return resp, nil
		}
		if resp != nil {
			drain(resp)
		}
		timer := time.NewTimer(jitter(wait))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
		delay = min(time.Duration(float64(delay)*b.Factor), b.Cap)
	}
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// rewound is req ready for its attempt'th sending: later attempts need a
// fresh body.
func rewound(req *http.Request, attempt int) (*http.Request, error) {
	if attempt == 1 || req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	body, err := req.GetBody() // RoundTrip resends only what has one
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = body
	return r, nil
}

// isWrite reports whether req may change the cluster. Reads are never
// buffered: a watch or a large list streams.
func isWrite(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// buffered reads resp's body into memory (closing the connection's), or
// returns the error that broke it.
func buffered(resp *http.Response) error {
	data, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return nil
}

// createOf is the name a POST creates and the object it sends, when req is
// the create of a named object in JSON. Such a create whose reply was lost
// is sent again: the repeat either creates the object (the first never
// landed) or is refused as AlreadyExists, and then landedCreate tells
// whether the object that exists is the one sent.
func createOf(req *http.Request) (string, map[string]any) {
	if req.Method != http.MethodPost || req.GetBody == nil {
		return "", nil
	}
	body, err := req.GetBody()
	if err != nil {
		return "", nil
	}
	defer func() { _ = body.Close() }()
	data, err := io.ReadAll(body)
	if err != nil {
		return "", nil
	}
	obj := decodeObject(data)
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	path := strings.TrimSuffix(req.URL.Path, "/")
	if name == "" || strings.Contains(name, "/") || strings.Contains(path+"/", "/"+name+"/") {
		return "", nil // not an object, generateName, or a subresource of the object (an eviction): never repeated
	}
	for _, f := range []string{"creationTimestamp", "resourceVersion", "uid", "generation", "managedFields"} {
		delete(meta, f)
	}
	delete(obj, "status")
	return name, obj
}

// decodeObject is an object sent or answered in JSON, or in protobuf (the
// encoding client-go's typed clients may use for built-in kinds, Helm's
// release records among them), as unstructured content; nil when it is
// neither.
func decodeObject(data []byte) map[string]any {
	if !bytes.HasPrefix(data, protobufMagic) {
		var obj map[string]any
		if json.Unmarshal(data, &obj) != nil {
			return nil
		}
		return obj
	}
	typed, _, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		return nil
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(typed)
	if err != nil {
		return nil
	}
	return obj
}

// protobufMagic starts every object Kubernetes encodes in protobuf.
var protobufMagic = []byte("k8s\x00")

// landedCreate reads the object a repeated create was refused for (it
// already exists): when it holds everything the create sent, the first
// create landed and its reply was lost, and the answer is the object as a
// 201. Anything else (another object of that name, an error) is nil, and
// the refusal stands.
func (t *retryTransport) landedCreate(req *http.Request, name string, posted map[string]any) *http.Response {
	get, err := http.NewRequestWithContext(req.Context(), http.MethodGet, strings.TrimSuffix(req.URL.String(), "/")+"/"+name, nil)
	if err != nil {
		return nil
	}
	for k, v := range req.Header {
		if k != "Content-Type" && k != "Content-Length" {
			get.Header[k] = v
		}
	}
	resp, err := t.next.RoundTrip(get)
	if err != nil {
		return nil
	}
	if resp.StatusCode != http.StatusOK || buffered(resp) != nil {
		drain(resp)
		return nil
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if live := decodeObject(data); live == nil || !Covers(live, posted) {
		drain(resp)
		return nil
	}
	resp.StatusCode, resp.Status = http.StatusCreated, "201 Created"
	return resp
}

// idempotent reports whether sending req twice has the effect of sending it
// once. An update (PUT) replaces the object: without a resourceVersion a
// second one writes the same again, and with one, a second after the first
// landed is refused with a Conflict and changes nothing.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodDelete, http.MethodPut:
		return true
	case http.MethodPatch:
		ct := req.Header.Get("Content-Type")
		return strings.HasPrefix(ct, "application/apply-patch") || strings.HasPrefix(ct, "application/merge-patch+json") ||
			strings.HasPrefix(ct, "application/strategic-merge-patch+json")
	}
	return false
}

// neverSent reports whether err happened before any byte of the request
// could reach the server: the connection was never made.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// transientNetError reports whether err is a broken or failed connection
// (not a configuration mistake such as an unknown host or an untrusted
// certificate).
func transientNetError(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return false
	}
	var netErr net.Error
	var stream http2.StreamError
	var goAway http2.GoAwayError
	return errors.As(err, &netErr) || errors.As(err, &stream) || errors.As(err, &goAway) || utilnet.IsConnectionReset(err) || utilnet.IsConnectionRefused(err) ||
		utilnet.IsProbableEOF(err) || utilnet.IsHTTP2ConnectionLost(err) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// maxRetryAfter caps a Retry-After the server asks for.
const maxRetryAfter = 30 * time.Second

// retryableStatus decides on an answer: whether to send again, and after how
// long (wait, or what Retry-After asks for).
func retryableStatus(resp *http.Response, repeatable bool, wait time.Duration) (bool, time.Duration) {
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
	case http.StatusInternalServerError:
		if !repeatable || schemaMismatchResponse(resp) {
			return false, 0
		}
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		if !repeatable {
			return false, 0
		}
	default:
		return false, 0
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		wait = max(wait, min(time.Duration(s)*time.Second, maxRetryAfter))
	}
	return true, wait
}

// schemaMismatchResponse recognises the 500 the API server answers when a
// server-side apply patch does not fit the kind's schema (isSchemaMismatch):
// a validation error, which a retry only delays. It reads the body, which
// stays readable.
func schemaMismatchResponse(resp *http.Response) bool {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return err == nil && bytes.Contains(body, []byte("failed to create typed "))
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
}

// jitter spreads retries of many requests (ten resources at a time) that
// failed together: up to a fifth less than d.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}
