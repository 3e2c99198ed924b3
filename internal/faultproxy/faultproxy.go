// Package faultproxy is a loopback HTTPS proxy in front of kube-apiserver
// that injects the faults real clusters have, for the fault tests: refused
// connections (the API server restarting), connection resets, black holes,
// latency, 429 with Retry-After, 5xx answers, and forward-then-drop (the
// write lands, the reply is lost). Faults are armed per request pattern and
// per occurrence. The proxy terminates TLS with a CA of its own, which the
// client config it hands out trusts (verification stays on), and forwards
// the client's credentials (bearer tokens) to the API server.
package faultproxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// Kind is a kind of fault.
type Kind string

const (
	// Reset aborts the request before forwarding it: the connection (HTTP/2
	// stream) breaks and nothing reached the API server.
	Reset Kind = "reset"
	// BlackHole holds the request unanswered until the client gives up.
	BlackHole Kind = "black-hole"
	// Latency delays the request by Delay, then forwards it.
	Latency Kind = "latency"
	// Status answers Code (with Retry-After when set) without forwarding,
	// as a down webhook (500), an overloaded server (429, 503) or a gateway
	// (502, 504) would.
	Status Kind = "status"
	// ForwardThenDrop forwards the request (a write lands) and then breaks
	// the connection instead of answering.
	ForwardThenDrop Kind = "forward-then-drop"
)

// Fault is one armed fault: it fires on the requests Match selects, after
// skipping the first Skip of them, Times times (0: until disarmed).
type Fault struct {
	Kind Kind
	// Match selects requests; nil matches all.
	Match func(*http.Request) bool
	Skip  int
	Times int
	// Code and RetryAfter are Status's answer.
	Code       int
	RetryAfter time.Duration
	// Delay is Latency's.
	Delay time.Duration
	// OnFire, when set, runs (in the background) each time the fault fires:
	// e.g. taking the proxy Down for a while from that request on.
	OnFire func()
}

// Writes matches the requests that change objects of resource (e.g.
// "virtualservices"; "" for any): PATCH, PUT, POST and DELETE.
func Writes(resource string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.Method != http.MethodGet && r.Method != http.MethodHead && (resource == "" || hasResource(r.URL.Path, resource))
	}
}

// WriteOf matches the writes of one object: resource and name.
func WriteOf(resource, name string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return Writes(resource)(r) && strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/"+resource+"/"+name)
	}
}

func hasResource(path, resource string) bool {
	return strings.Contains(path+"/", "/"+resource+"/")
}

// Proxy is a running fault proxy.
type Proxy struct {
	upstream *url.URL
	rp       *httputil.ReverseProxy
	caPEM    []byte
	cert     tls.Certificate
	addr     string

	mu     sync.Mutex
	ln     net.Listener
	srv    *http.Server
	conns  map[net.Conn]struct{}
	faults []*armed
	// fired counts the requests each kind of fault hit.
	fired map[Kind]int
}

type armed struct {
	Fault
	seen, fired int
}

// Start starts a proxy in front of the API server cfg points at.
func Start(cfg *rest.Config) (*Proxy, error) {
	up, err := url.Parse(cfg.Host)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := rest.TLSConfigFor(&rest.Config{TLSClientConfig: cfg.TLSClientConfig})
	if err != nil {
		return nil, err
	}
	p := &Proxy{upstream: up, conns: map[net.Conn]struct{}{}, fired: map[Kind]int{}}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(up)
			r.Out.Host = up.Host
		},
		Transport:     &http.Transport{TLSClientConfig: tlsCfg, ForceAttemptHTTP2: true, Proxy: nil},
		FlushInterval: -1, // watches stream
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			// The API server is down behind us: as a client would see it.
			panic(http.ErrAbortHandler)
		},
	}
	if err := p.newCert(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	return p, nil
}

// Config is base (its credentials) pointed at the proxy and trusting its CA.
func (p *Proxy) Config(base *rest.Config) *rest.Config {
	c := rest.CopyConfig(base)
	c.Host = "https://" + p.addr
	c.TLSClientConfig = rest.TLSClientConfig{CAData: p.caPEM}
	return c
}

// Arm adds f; faults are tried in the order armed, the first that fires
// wins.
func (p *Proxy) Arm(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, &armed{Fault: f})
}

// Disarm removes every fault.
func (p *Proxy) Disarm() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = nil
}

// Fired is how many requests each kind of fault has hit.
func (p *Proxy) Fired(k Kind) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fired[k]
}

// Down stops accepting connections and breaks the open ones: clients get
// "connection refused", as from an API server that is restarting.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return
	}
	_ = p.ln.Close()
	p.ln = nil
	for c := range p.conns {
		_ = c.Close()
	}
}

// Up listens again on the same address.
func (p *Proxy) Up() error {
	p.mu.Lock()
	if p.ln != nil {
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	var ln net.Listener
	var err error
	for range 50 { // the port may linger for a moment
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("faultproxy: listen again on %s: %w", p.addr, err)
}

// DownFor takes the proxy down now and up again after d, in the background.
func (p *Proxy) DownFor(d time.Duration) {
	p.Down()
	time.AfterFunc(d, func() { _ = p.Up() })
}

// Close stops the proxy.
func (p *Proxy) Close() {
	p.Down()
	p.mu.Lock()
	srv := p.srv
	p.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

func (p *Proxy) serve(ln net.Listener) {
	srv := &http.Server{
		Handler:   http.HandlerFunc(p.handle),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{p.cert}, NextProtos: []string{"h2", "http/1.1"}, MinVersion: tls.VersionTLS12},
		ConnState: func(c net.Conn, s http.ConnState) {
			p.mu.Lock()
			defer p.mu.Unlock()
			switch s {
			case http.StateNew:
				p.conns[c] = struct{}{}
			case http.StateClosed, http.StateHijacked:
				delete(p.conns, c)
			}
		},
		ErrorLog: nil,
	}
	p.mu.Lock()
	p.ln, p.srv = ln, srv
	p.mu.Unlock()
	go func() { _ = srv.ServeTLS(ln, "", "") }()
}

// fault is the fault that fires on r, if any.
func (p *Proxy) fault(r *http.Request) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range p.faults {
		if a.Match != nil && !a.Match(r) {
			continue
		}
		a.seen++
		if a.seen <= a.Skip || (a.Times > 0 && a.fired >= a.Times) {
			continue
		}
		a.fired++
		p.fired[a.Kind]++
		f := a.Fault
		if f.OnFire != nil {
			go f.OnFire()
		}
		return &f
	}
	return nil
}

func (p *Proxy) handle(w http.ResponseWriter, r *http.Request) {
	f := p.fault(r)
	if f == nil {
		p.rp.ServeHTTP(w, r)
		return
	}
	switch f.Kind {
	case Reset:
		panic(http.ErrAbortHandler)
	case BlackHole:
		<-r.Context().Done()
		panic(http.ErrAbortHandler)
	case Latency:
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			panic(http.ErrAbortHandler)
		}
		p.rp.ServeHTTP(w, r)
	case Status:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Code)
		_, _ = fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"faultproxy: injected %d","code":%d}`, f.Code, f.Code)
	case ForwardThenDrop:
		p.rp.ServeHTTP(discard{header: http.Header{}}, r)
		panic(http.ErrAbortHandler)
	default:
		panic(fmt.Sprintf("faultproxy: unknown fault kind %q", f.Kind))
	}
}

// discard is a ResponseWriter that throws the answer away.
type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}

// newCert makes the proxy's CA and its serving certificate for 127.0.0.1.
func (p *Proxy) newCert() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "faultproxy"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	p.cert, err = tls.X509KeyPair(p.caPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		return errors.Join(errors.New("faultproxy: serving certificate"), err)
	}
	return nil
}
