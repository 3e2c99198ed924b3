package kube

import (
	"context"
	"errors"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

func fastBackoff() Backoff {
	return Backoff{Initial: time.Millisecond, Factor: 2, Steps: 4, Cap: 5 * time.Millisecond}
}

var etcdDown = apierrors.NewInternalError(errors.New("etcd leader changed"))

func TestRetry(t *testing.T) {
	m := &Manager{backoff: fastBackoff}
	tests := []struct {
		name      string
		errs      []error // returned by successive calls, then nil
		wantCalls int
		wantErr   bool
	}{
		{"success", nil, 1, false},
		{"unavailable then success", []error{apierrors.NewServiceUnavailable("x"), apierrors.NewTooManyRequests("x", 0)}, 3, false},
		{"validation error is final", []error{apierrors.NewBadRequest("strict decoding error")}, 1, true},
		{"gives up after Steps", []error{etcdDown, etcdDown, etcdDown, etcdDown, etcdDown}, 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := m.retry(t.Context(), func() error {
				calls++
				if calls <= len(tt.errs) {
					return tt.errs[calls-1]
				}
				return nil
			})
			if calls != tt.wantCalls || (err != nil) != tt.wantErr {
				t.Errorf("calls = %d, err = %v; want %d calls, error %v", calls, err, tt.wantCalls, tt.wantErr)
			}
		})
	}
}

func TestRetryStopsWithContext(t *testing.T) {
	m := &Manager{backoff: func() Backoff { return Backoff{Initial: time.Hour, Factor: 1, Steps: 10, Cap: time.Hour} }}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	calls := 0
	err := m.retry(ctx, func() error { calls++; return apierrors.NewServiceUnavailable("x") })
	if calls != 1 || !apierrors.IsServiceUnavailable(err) {
		t.Errorf("calls = %d, err = %v; want 1 call and the last API error", calls, err)
	}
}
