package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
)

// stateStore is a state store for Terraform's built-in http backend, served
// on loopback (BENCH_BACKEND=http): Terraform treats it as it treats S3, GCS
// or HCP Terraform, keeping the state in memory during an apply and
// persisting a snapshot at most every 20 seconds, where the local backend
// rewrites its file after every resource it changes. It keeps each state in
// memory, and locks as the backend's LOCK and UNLOCK methods ask.
type stateStore struct {
	mu     sync.Mutex
	states map[string][]byte
	locks  map[string][]byte
	writes int
}

func newStateStore() *stateStore {
	return &stateStore{states: map[string][]byte{}, locks: map[string][]byte{}}
}

// serve listens on a loopback port and returns the store's base URL.
func (s *stateStore) serve() (url string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: s}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), func() { _ = srv.Close() }, nil
}

// Writes is how many state snapshots Terraform has persisted so far.
func (s *stateStore) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

func (s *stateStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key := r.URL.Path
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		state, ok := s.states[key]
		if !ok {
			// The backend reads "no state yet" from a 404.
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_, _ = w.Write(state)
	case http.MethodPost:
		s.states[key] = body
		s.writes++
	case http.MethodDelete:
		delete(s.states, key)
	case "LOCK":
		if held, ok := s.locks[key]; ok {
			// The backend shows the holder's lock info from the body.
			w.WriteHeader(http.StatusLocked)
			_, _ = w.Write(held)
			return
		}
		s.locks[key] = body
	case "UNLOCK":
		delete(s.locks, key)
	default:
		http.Error(w, fmt.Sprintf("method %s is not one of Terraform's http backend", r.Method), http.StatusMethodNotAllowed)
	}
}

// backendConfig is the backend block that points a configuration at key in
// the store at url.
func backendConfig(url, key string) string {
	return fmt.Sprintf(`terraform {
  backend "http" {
    address        = "%[1]s/state/%[2]s"
    lock_address   = "%[1]s/state/%[2]s"
    unlock_address = "%[1]s/state/%[2]s"
  }
}
`, url, key)
}
