package protoserver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/meshform/terraform-provider-mesh/internal/protoserver/protoservertest"
	"github.com/meshform/terraform-provider-mesh/internal/provider"
)

func TestRequestContextsAreNotRetained(t *testing.T) {
	if got := protoservertest.RetainedPerRequest(t, New(provider.New("test")()), 200); got > 1024 {
		t.Errorf("the server retains %d bytes per request; want next to none (each request's context carried %d)", got, protoservertest.PayloadSize)
	}
}

// The reason for this package: if this fails, the framework has stopped
// keeping request contexts, and releasing can go.
func TestTheFrameworkAloneRetainsRequestContexts(t *testing.T) {
	srv := providerserver.NewProtocol6(provider.New("test")())()
	if got := protoservertest.RetainedPerRequest(t, srv, 200); got < protoservertest.PayloadSize {
		t.Errorf("the framework's own server retains %d bytes per request, less than the %d-byte context: it no longer keeps request contexts; serve it directly and remove package protoserver", got, protoservertest.PayloadSize)
	}
}

// valueKey is a context key of the test's own.
type valueKey struct{}

func TestRequestContextForwardsUntilReleased(t *testing.T) {
	deadline := time.Now().Add(time.Hour)
	parent, cancel := context.WithDeadline(context.WithValue(context.Background(), valueKey{}, "v"), deadline)
	defer cancel()
	rc := newRequestContext(parent)

	if got, ok := rc.Deadline(); !ok || !got.Equal(deadline) {
		t.Errorf("Deadline = %v, %v; want the request's", got, ok)
	}
	if rc.Value(valueKey{}) != "v" || rc.Err() != nil || rc.Done() != parent.Done() {
		t.Error("before release: want the request's values, error and Done channel")
	}
	// What the framework does with it: a child that the request's
	// cancellation reaches.
	child, stop := context.WithCancel(rc)
	defer stop()
	cancel()
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the request did not cancel the framework's child context")
	}

	rc.release()
	if _, ok := rc.Deadline(); ok || rc.Value(valueKey{}) != nil || !errors.Is(rc.Err(), context.Canceled) {
		t.Error("after release: want no deadline, no values and context.Canceled")
	}
	select {
	case <-rc.Done():
	default:
		t.Error("after release: Done is not closed")
	}
}

func TestEveryRPCIsServed(t *testing.T) {
	srv := New(provider.New("test")())
	if _, ok := srv.(releasing); !ok {
		t.Fatalf("New returned %T: the framework's server no longer implements every RPC this package forwards", srv)
	}
	if _, ok := srv.(tfprotov6.ProviderServerWithListResource); !ok { //nolint:staticcheck // SA1019: what terraform-plugin-go v0.29.0 asserts
		t.Error("list resource RPCs are not forwarded")
	}
	if _, ok := srv.(tfprotov6.ProviderServerWithActions); !ok { //nolint:staticcheck // SA1019: what terraform-plugin-go v0.29.0 asserts
		t.Error("action RPCs are not forwarded")
	}
	resp, err := srv.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || resp.ResourceSchemas["mesh_traffic_split"] == nil {
		t.Fatalf("GetProviderSchema: %v, %v", err, resp)
	}
}
