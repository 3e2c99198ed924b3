package kube

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// retry runs call until it succeeds, fails with an error that a retry cannot
// fix, exhausts m.backoff, or ctx is done. Every verb sends its requests
// through here so that one overloaded or restarting API server does not
// fail (and roll back) a whole apply.
func (m *Manager) retry(ctx context.Context, call func() error) error {
	b := m.backoff()
	delay := b.Initial
	for step := 1; ; step++ {
		err := call()
		if err == nil || !isTransient(err) || step >= b.Steps {
			return err
		}
		wait := delay
		if s, ok := apierrors.SuggestsClientDelay(err); ok && time.Duration(s)*time.Second > wait {
			wait = time.Duration(s) * time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay = min(time.Duration(float64(delay)*b.Factor), b.Cap)
	}
}

// isTransient reports whether err may go away on its own: throttling, server
// errors and broken connections. 4xx errors (validation, conflicts, not
// found) are answers, not accidents, and are never retried.
func isTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || isSchemaMismatch(err) {
		return false
	}
	switch {
	case apierrors.IsTooManyRequests(err), apierrors.IsServerTimeout(err), apierrors.IsTimeout(err),
		apierrors.IsInternalError(err), apierrors.IsServiceUnavailable(err):
		return true
	case utilnet.IsConnectionReset(err), utilnet.IsConnectionRefused(err), utilnet.IsProbableEOF(err),
		utilnet.IsHTTP2ConnectionLost(err), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	var status apierrors.APIStatus
	return errors.As(err, &status) && status.Status().Code >= 500
}

// isSchemaMismatch recognises the 500 the API server returns when a
// server-side apply patch does not fit the kind's schema (an unknown field
// under Strict validation, k8s.io/apimachinery/pkg/util/managedfields/
// internal/structuredmerge.go). It is a validation error: retrying it only
// delays the failure by the whole backoff.
func isSchemaMismatch(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status) && status.Status().Code == 500 &&
		strings.Contains(status.Status().Message, "failed to create typed ")
}
