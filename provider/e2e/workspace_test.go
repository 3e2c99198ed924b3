package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// pulumiEnv is a Pulumi installation of the test's own: a CLI, a PULUMI_HOME
// with the mesh plugin installed, and a local file backend.
type pulumiEnv struct {
	cli     auto.PulumiCommand
	env     map[string]string
	backend string
}

// newPulumiEnv builds the resource plugin at the version the generated SDK
// asks for and installs it into a fresh PULUMI_HOME.
func newPulumiEnv(t *testing.T) pulumiEnv {
	t.Helper()
	root := pulumiRoot(t)
	cli, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root, SkipVersionCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	home, backend := t.TempDir(), t.TempDir()
	env := map[string]string{
		"PULUMI_HOME":              home,
		"PULUMI_CONFIG_PASSPHRASE": "e2e-test-passphrase",
		"PULUMI_SKIP_UPDATE_CHECK": "true",
		// Everything is local: never try to download a plugin.
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
	}
	version := sdkVersion(t)
	plugin := buildPlugin(t, version)
	run(t, env, filepath.Join(root, "bin", "pulumi"), "plugin", "install", "resource", "mesh", version, "--file", plugin)
	return pulumiEnv{cli: cli, env: env, backend: "file://" + backend}
}

// stack creates a stack for an inline program with the provider configured
// for the local cluster.
func (p pulumiEnv) stack(t *testing.T, program pulumi.RunFunc) auto.Stack {
	t.Helper()
	ctx := context.Background()
	project := workspace.Project{
		Name:    "mesh-e2e",
		Runtime: workspace.NewProjectRuntimeInfo("go", nil),
		Backend: &workspace.ProjectBackend{URL: p.backend},
	}
	s, err := auto.UpsertStackInlineSource(ctx, "e2e", "mesh-e2e", program,
		auto.Pulumi(p.cli), auto.Project(project), auto.EnvVars(p.env),
		auto.SecretsProvider("passphrase"), auto.WorkDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	config := auto.ConfigMap{
		"mesh:kubeconfigPath": {Value: cluster.Kubeconfig},
		"mesh:target":         {Value: "istio-sidecar"},
	}
	if err := s.SetAllConfig(ctx, config); err != nil {
		t.Fatal(err)
	}
	return s
}

// pulumiRoot is the CLI's root directory: $MESH_PULUMI_ROOT, or the one
// scripts/pulumi.sh builds into the cache (once).
func pulumiRoot(t *testing.T) string {
	t.Helper()
	if root := os.Getenv("MESH_PULUMI_ROOT"); root != "" {
		return root
	}
	out, err := exec.Command("../../scripts/pulumi.sh").Output()
	if err != nil {
		t.Fatalf("scripts/pulumi.sh: %v", describe(err))
	}
	return strings.TrimSpace(string(out))
}

// sdkVersion is the plugin version the generated SDK requests.
func sdkVersion(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../../sdk/go/mesh/pulumi-plugin.json")
	if err != nil {
		t.Fatal(err)
	}
	var plugin struct{ Version string }
	if err := json.Unmarshal(raw, &plugin); err != nil {
		t.Fatal(err)
	}
	if _, err := semver.Parse(plugin.Version); err != nil {
		t.Fatalf("sdk/go/mesh/pulumi-plugin.json: version %q: %v", plugin.Version, err)
	}
	return plugin.Version
}

func buildPlugin(t *testing.T, version string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pulumi-resource-mesh")
	ldflags := "-X github.com/meshform/terraform-provider-mesh/provider/version.Version=" + version
	cmd := exec.Command("go", "build", "-o", bin, "-ldflags", ldflags, "../cmd/pulumi-resource-mesh")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build pulumi-resource-mesh: %v\n%s", err, out)
	}
	return bin
}

func run(t *testing.T, env map[string]string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
}

func describe(err error) string {
	if exit, ok := err.(*exec.ExitError); ok {
		return err.Error() + "\n" + string(exit.Stderr)
	}
	return err.Error()
}
