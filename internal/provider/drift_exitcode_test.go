package provider

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	plugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-exec/tfexec"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/protoserver"
)

// The scheduled drift check (`terraform plan -refresh-only
// -detailed-exitcode`, as hosted drift detection runs it) must exit 0 right
// after an apply and 2 only after a real out-of-band change, for every
// resource and target. plugin-testing has no step for a refresh-only plan's
// exit code, so this drives the real terraform binary through
// terraform-exec, against the provider served in this process.

// driftCase is one resource on one target: its configuration, and an
// out-of-band edit of a field it owns.
type driftCase struct {
	name   string
	config func(t *testing.T) (string, func(t *testing.T))
}

func driftCases() []driftCase {
	var cases []driftCase
	for _, target := range mesh.Targets {
		cases = append(cases, driftCase{"mesh_traffic_split/" + string(target), func(t *testing.T) (string, func(*testing.T)) {
			f := newSplitFixture(t, target)
			return f.config(90, 10), func(t *testing.T) { f.editWeights(t, 50, 50) }
		}})
		if target != mesh.TargetLinkerd { // Linkerd cannot mirror
			cases = append(cases, driftCase{"mesh_mirror_route/" + string(target), func(t *testing.T) (string, func(*testing.T)) {
				f := newMirrorFixture(t, target, false, false)
				return f.config(10), f.editPercentage
			}})
		}
		cases = append(cases, driftCase{"mesh_authorization/" + string(target), func(t *testing.T) (string, func(*testing.T)) {
			f := newAuthzFixture(t, target)
			return f.config("GET"), f.editLive
		}})
	}
	cases = append(cases,
		driftCase{"mesh_mtls_policy/istio-sidecar", func(t *testing.T) (string, func(*testing.T)) {
			f := istioFixture(t, mesh.TargetIstioSidecar, mesh.MTLSScopeWorkload)
			return f.config("STRICT"), f.drift
		}},
		driftCase{"mesh_mtls_policy/istio-ambient", func(t *testing.T) (string, func(*testing.T)) {
			f := istioFixture(t, mesh.TargetIstioAmbient, mesh.MTLSScopeNamespace)
			return f.config("STRICT"), f.drift
		}},
		driftCase{"mesh_mtls_policy/linkerd", func(t *testing.T) (string, func(*testing.T)) {
			f := linkerdWorkloadFixture(t)
			return f.config("STRICT"), f.drift
		}},
	)
	return cases
}

// installDriftCases are mesh_install on each mesh, each in a cluster of its
// own (its webhooks would break the other tests); the edit is a `helm
// uninstall` of one of its releases. (mesh_install shows rendered_objects,
// not manifests, so the tests over manifests leave it out.)
func installDriftCases() []driftCase {
	return []driftCase{
		driftCase{"mesh_install/istio-ambient", func(t *testing.T) (string, func(*testing.T)) {
			ic := newInstallCluster(t)
			return ic.config(`
  mesh    = "istio"
  mode    = "ambient"
  version = "` + istioVersion + `"
`), func(t *testing.T) { ic.helmUninstall(t, "istio-system", "ztunnel") }
		}},
		driftCase{"mesh_install/linkerd", func(t *testing.T) (string, func(*testing.T)) {
			ic := newInstallCluster(t)
			return ic.config(`
  mesh    = "linkerd"
  version = "` + linkerdVersion + `"
`), func(t *testing.T) { ic.helmUninstall(t, "linkerd", "linkerd-control-plane") }
		}},
	}
}

func TestAccDriftCheckExitCodes(t *testing.T) {
	testAccPreCheck(t)
	for _, c := range append(driftCases(), installDriftCases()...) {
		t.Run(c.name, func(t *testing.T) {
			config, edit := c.config(t)
			tf, reattach := terraformIn(t, config)
			ctx := context.Background()
			applied(t, tf, reattach)
			for i := range 2 { // twice: the check must stay quiet on repetition
				changes, err := tf.Plan(ctx, tfexec.RefreshOnly(true), reattach)
				if err != nil {
					t.Fatalf("refresh-only plan: %v", err)
				}
				if changes {
					t.Fatalf("refresh-only plan %d right after apply exited 2 (changes); want 0", i+1)
				}
			}
			edit(t)
			changes, err := tf.Plan(ctx, tfexec.RefreshOnly(true), reattach)
			if err != nil {
				t.Fatalf("refresh-only plan after the edit: %v", err)
			}
			if !changes {
				t.Fatal("refresh-only plan after an out-of-band edit exited 0; want 2")
			}
			// Put the cluster back before destroy.
			if err := tf.Apply(ctx, reattach); err != nil {
				t.Fatalf("apply after the edit: %v", err)
			}
		})
	}
}

// applied applies (with opts, e.g. a saved plan) and destroys what it
// created when the test ends.
func applied(t *testing.T, tf *tfexec.Terraform, reattach *tfexec.ReattachOption, opts ...tfexec.ApplyOption) {
	t.Helper()
	ctx := context.Background()
	if err := tf.Apply(ctx, append([]tfexec.ApplyOption{reattach}, opts...)...); err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Cleanup(func() {
		if err := tf.Destroy(ctx, reattach); err != nil {
			t.Errorf("destroy: %v", err)
		}
	})
}

// terraformIn is the terraform CLI in a new working directory holding
// config, and the option that points its commands at the provider served
// from this process.
func terraformIn(t *testing.T, config string) (*tfexec.Terraform, *tfexec.ReattachOption) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if bin == "" {
		t.Skip("TF_ACC_TERRAFORM_PATH is not set; make test sets it")
	}
	tf, err := tfexec.NewTerraform(dir, bin)
	if err != nil {
		t.Fatal(err)
	}
	reattach := tfexec.Reattach(serveInProcess(t))
	if err := tf.Init(context.Background(), reattach); err != nil {
		t.Fatalf("init: %v", err)
	}
	return tf, reattach
}

// serveInProcess serves the provider as a debuggable plugin in this
// process, under the address an unqualified `mesh` provider resolves to.
func serveInProcess(t *testing.T) tfexec.ReattachInfo {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig)
	closed := make(chan struct{})
	host := os.Getenv("TF_ACC_PROVIDER_HOST")
	if host == "" {
		host = "registry.terraform.io"
	}
	address := host + "/hashicorp/mesh"
	go func() {
		err := tf6server.Serve(address, func() tfprotov6.ProviderServer { return protoserver.New(New("test")()) },
			tf6server.WithDebug(ctx, reattach, closed), tf6server.WithoutLogStderrOverride())
		if err != nil {
			t.Errorf("serve the provider: %v", err)
		}
	}()
	var cfg *plugin.ReattachConfig
	select {
	case cfg = <-reattach:
	case <-closed:
		t.Fatal("the provider server stopped before it was ready")
	}
	t.Cleanup(func() { cancel(); <-closed })
	return tfexec.ReattachInfo{address: {
		Protocol: string(cfg.Protocol), ProtocolVersion: cfg.ProtocolVersion, Pid: cfg.Pid, Test: cfg.Test,
		Addr: tfexec.ReattachConfigAddr{Network: cfg.Addr.Network(), String: cfg.Addr.String()},
	}}
}
