package kube

import (
	"errors"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Backoff paces the retries of one request (retryTransport); how long they
// go on is the request context's retry deadline, not a count.
type Backoff struct {
	Initial time.Duration
	Factor  float64
	Cap     time.Duration
}

// DefaultBackoff starts at 100 ms and doubles up to 5 s between attempts:
// an API server restart of a few seconds costs a few attempts, a long
// outage one every 5 s.
func DefaultBackoff() Backoff {
	return Backoff{Initial: 100 * time.Millisecond, Factor: 2, Cap: 5 * time.Second}
}

// mayHaveLanded reports whether a write that failed with err may still have
// changed the object: an answer from the API server (any status) says it
// did not; a connection that broke after the request went out, or a
// request abandoned in flight (the context ended), leaves it unknown.
func mayHaveLanded(err error) bool {
	if err == nil {
		return false
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return false
	}
	var outage *OutageError
	if errors.As(err, &outage) {
		return outage.Sent
	}
	if neverSent(err) {
		return false
	}
	var oe *ObjectError
	if errors.As(err, &oe) && oe.Op == "encode" { // never sent
		return false
	}
	return true
}
