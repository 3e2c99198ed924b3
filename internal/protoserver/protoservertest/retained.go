// Package protoservertest measures what a provider's protocol server keeps
// of the requests it served: the test of package protoserver, and of every
// server that should be built on it (the Pulumi bridge's).
package protoservertest

import (
	"context"
	"runtime"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// payloadKey carries a large value in a request's context, standing in for
// what terraform-plugin-go and gRPC put there.
type payloadKey struct{}

// PayloadSize is the size of the value each request's context carries.
const PayloadSize = 64 << 10

// RetainedPerRequest is the heap srv still holds, per request, after serving
// n UpgradeResourceState requests of a mesh_traffic_split whose contexts
// each carry PayloadSize bytes. A server that lets go of request contexts
// keeps next to nothing; one that keeps them, at least PayloadSize.
func RetainedPerRequest(t *testing.T, srv tfprotov6.ProviderServer, n int) int64 {
	t.Helper()
	state := []byte(`{"id":"ns/a","name":"a","namespace":"ns","service":"svc","port":8080,"backends":[{"service":"svc","port":8080,"weight":100}],"manifests":{},"revision":1}`)
	call := func() {
		ctx := context.WithValue(context.Background(), payloadKey{}, make([]byte, PayloadSize))
		resp, err := srv.UpgradeResourceState(ctx, &tfprotov6.UpgradeResourceStateRequest{
			TypeName: "mesh_traffic_split", RawState: &tfprotov6.RawState{JSON: state},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range resp.Diagnostics {
			t.Fatalf("%s: %s", d.Summary, d.Detail)
		}
	}
	call() // the framework's caches
	before := liveHeap()
	for range n {
		call()
	}
	after := liveHeap()
	runtime.KeepAlive(srv) // what it retains is measured while it lives
	return (int64(after) - int64(before)) / int64(n)
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
