// Package protoserver serves the provider over Terraform's plugin protocol
// (version 6) through terraform-plugin-framework's server, with two
// changes: it lets go of each request's context when the request returns,
// and it lets a provider that is a Planner plan resource changes itself
// (the provider's fast path past the framework's generic passes,
// internal/provider/fastplan.go), leaving the rest to the framework.
//
// The framework's protocol server (internal/proto6server, v1.17.0 and still
// in v1.19.0) wraps every request's context in context.WithCancel and keeps
// the cancel function until Terraform sends StopProvider, which it does only
// on an interrupt. Each kept function holds its context, and with it the
// whole request: the gRPC stream and the loggers terraform-plugin-go puts
// into every context, about 10 KB. A provider process that serves a plan or
// an apply of 1,000 resources answers 4,000 to 5,000 requests and kept
// about 45 MB live to the end (BENCHMARKS.md, round 7); its garbage
// collector marked all of it on every cycle.
//
// The server here hands the framework a context that forwards to the
// request's until the request returns, and to nothing after: what the
// framework keeps is then a few dozen bytes per request.
package protoserver

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
)

// Serve serves the provider p returns at address, as providerserver.Serve
// does for protocol 6; debug runs it in the mode debuggers attach to
// (TF_REATTACH_PROVIDERS).
func Serve(address string, p func() provider.Provider, debug bool) error {
	var opts []tf6server.ServeOpt
	if debug {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	return tf6server.Serve(address, func() tfprotov6.ProviderServer { return New(p()) }, opts...)
}

// frameworkServer is every RPC the framework's server implements,
// including those terraform-plugin-go still asks for through optional
// interfaces (list resources, actions).
type frameworkServer interface {
	tfprotov6.ProviderServerWithListResource //nolint:staticcheck // SA1019: terraform-plugin-go v0.29.0 still asks for list resources through it
	tfprotov6.ActionServer
}

// New returns the framework's protocol 6 server for p, made to release the
// contexts of the requests Terraform sends once per resource instance.
// Requests sent once per provider process (schemas, configuration) go
// through unchanged: they are a handful.
func New(p provider.Provider) tfprotov6.ProviderServer {
	return Wrap(providerserver.NewProtocol6(p)(), p)
}

// Planner is a provider that plans some resource changes itself, past the
// framework's generic passes: ok false leaves the request to the framework.
type Planner interface {
	FastPlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (resp *tfprotov6.PlanResourceChangeResponse, ok bool)
}

// Wrap makes a framework server that another caller built (the Pulumi
// bridge builds its own) for the provider p release request contexts as
// New's does, and plan through p when p is a Planner.
func Wrap(inner tfprotov6.ProviderServer, p provider.Provider) tfprotov6.ProviderServer {
	full, ok := inner.(frameworkServer)
	if !ok {
		return inner // a framework whose server lacks an RPC: serve it as it is
	}
	planner, _ := p.(Planner)
	return releasing{full, &numberTexts{}, planner}
}

type releasing struct {
	frameworkServer
	numbers *numberTexts
	planner Planner
}

// serve calls the framework with a context released when it returns.
func serve[Req, Resp any](ctx context.Context, req Req, call func(context.Context, Req) (Resp, error)) (Resp, error) {
	rc := newRequestContext(ctx)
	defer rc.release()
	return call(rc, req)
}

func (s releasing) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return serve(ctx, req, s.frameworkServer.ValidateResourceConfig)
}

func (s releasing) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	return serve(ctx, req, s.frameworkServer.UpgradeResourceState)
}

func (s releasing) UpgradeResourceIdentity(ctx context.Context, req *tfprotov6.UpgradeResourceIdentityRequest) (*tfprotov6.UpgradeResourceIdentityResponse, error) {
	return serve(ctx, req, s.frameworkServer.UpgradeResourceIdentity)
}

// ReadResource answers with the refreshed state's numbers as decimal
// strings (numbers.go): a refresh of an unchanged object then is, to
// Terraform, exactly what it holds.
func (s releasing) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	resp, err := serve(ctx, req, s.frameworkServer.ReadResource)
	if err == nil && resp != nil {
		s.numbers.rewrite(ctx, s.frameworkServer, req.TypeName, resp.NewState)
	}
	return resp, err
}

func (s releasing) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	if s.planner != nil {
		if resp, ok := s.planner.FastPlanResourceChange(ctx, req); ok {
			return resp, nil
		}
	}
	return serve(ctx, req, s.frameworkServer.PlanResourceChange)
}

func (s releasing) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	return serve(ctx, req, s.frameworkServer.ApplyResourceChange)
}

func (s releasing) ImportResourceState(ctx context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	return serve(ctx, req, s.frameworkServer.ImportResourceState)
}

func (s releasing) MoveResourceState(ctx context.Context, req *tfprotov6.MoveResourceStateRequest) (*tfprotov6.MoveResourceStateResponse, error) {
	return serve(ctx, req, s.frameworkServer.MoveResourceState)
}

// requestContext is a request's context until release, and a cancelled,
// empty context after: whoever keeps it past the request keeps only it.
type requestContext struct {
	ctx atomic.Pointer[context.Context]
}

func newRequestContext(ctx context.Context) *requestContext {
	rc := &requestContext{}
	rc.ctx.Store(&ctx)
	return rc
}

func (rc *requestContext) release() { rc.ctx.Store(nil) }

// released is what a released context answers Done with.
var released = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

func (rc *requestContext) Deadline() (time.Time, bool) {
	if ctx := rc.ctx.Load(); ctx != nil {
		return (*ctx).Deadline()
	}
	return time.Time{}, false
}

func (rc *requestContext) Done() <-chan struct{} {
	if ctx := rc.ctx.Load(); ctx != nil {
		return (*ctx).Done()
	}
	return released
}

func (rc *requestContext) Err() error {
	if ctx := rc.ctx.Load(); ctx != nil {
		return (*ctx).Err()
	}
	return context.Canceled
}

func (rc *requestContext) Value(key any) any {
	if ctx := rc.ctx.Load(); ctx != nil {
		return (*ctx).Value(key)
	}
	return nil
}
