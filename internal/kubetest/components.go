package kubetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

const (
	serviceCIDR         = "10.96.0.0/16"
	kubernetesServiceIP = "10.96.0.1"
	// nodeAnnotation marks the nodes kwok simulates; it ignores all others,
	// so a kwok pointed at a real cluster by mistake does no harm.
	nodeAnnotation = "kwok.x-k8s.io/node"
)

// ports are the loopback ports the control plane listens on.
type ports struct{ etcdClient, etcdPeer, apiserver int }

// freePorts asks the kernel for n distinct free loopback ports. All
// listeners are open at once so no port is handed out twice.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close() // only held to reserve the port
		}
	}()
	out := make([]int, n)
	for i := range out {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		out[i] = l.Addr().(*net.TCPAddr).Port
	}
	return out, nil
}

func etcdArgs(dir string, p ports) []string {
	client := "http://127.0.0.1:" + strconv.Itoa(p.etcdClient)
	peer := "http://127.0.0.1:" + strconv.Itoa(p.etcdPeer)
	return []string{
		"--name=kubetest", "--data-dir=" + filepath.Join(dir, "etcd"),
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=kubetest=" + peer,
		// Test data need not survive a power cut; fsync dominates on shared disks.
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	}
}

func apiserverArgs(pk *pki, p ports) []string {
	return []string{
		"--etcd-servers=http://127.0.0.1:" + strconv.Itoa(p.etcdClient),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(p.apiserver),
		"--cert-dir=" + pk.dir, // unused with the files below, but never /var/run
		"--tls-cert-file=" + pk.path("apiserver.crt"), "--tls-private-key-file=" + pk.path("apiserver.key"),
		"--token-auth-file=" + pk.path("tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc." + mesh.ClusterDomain,
		"--service-account-key-file=" + pk.path("sa.key"),
		"--service-account-signing-key-file=" + pk.path("sa.key"),
		"--service-cluster-ip-range=" + serviceCIDR,
		"--allow-privileged=true",
		// The default reconciler would publish 127.0.0.1 as the endpoint of
		// service default/kubernetes, which validation rejects every 10 s
		// (loopback); no pod here reaches the apiserver through it anyway.
		"--endpoint-reconciler-type=none",
		// A single-user test cluster gains nothing from fair queuing, and
		// its bootstrap objects slow the start.
		"--enable-priority-and-fairness=false",
		"--profiling=false",
	}
}

// auditPolicy logs every request at the Metadata level, once it is answered.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
`

// auditArgs writes the audit policy into dir and returns the flags that log
// to dir/audit.log.
func auditArgs(dir string) ([]string, error) {
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o644); err != nil {
		return nil, err
	}
	return []string{
		"--audit-policy-file=" + policy,
		"--audit-log-path=" + filepath.Join(dir, "audit.log"),
		"--audit-log-format=json",
		// Never rotate: the benchmark reads it from an offset per phase. The
		// size is in megabytes, and 0 means lumberjack's default of 100.
		"--audit-log-maxsize=1048576",
	}, nil
}

func controllerManagerArgs(pk *pki, kubeconfig string) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		"--secure-port=0", // no listener: nothing scrapes it
		"--service-account-private-key-file=" + pk.path("sa.key"),
		"--root-ca-file=" + pk.path("ca.crt"),
		"--cluster-signing-cert-file=" + pk.path("ca.crt"),
		"--cluster-signing-key-file=" + pk.path("ca.key"),
		"--service-cluster-ip-range=" + serviceCIDR,
		"--controllers=*",
	}
}

func schedulerArgs(kubeconfig string) []string {
	return []string{"--kubeconfig=" + kubeconfig, "--leader-elect=false", "--secure-port=0"}
}

func kwokArgs(kubeconfig string, stages []string) []string {
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + nodeAnnotation + "=fake",
		"--node-ip=127.0.0.1",
		// Pod IPs; the default /24 would cap a long test run at 254 pods.
		"--cidr=10.244.0.0/16",
		// The heartbeat stage renews node leases; this turns leases on.
		"--node-lease-duration-seconds=40",
	}
	for _, s := range stages {
		args = append(args, "--config="+s)
	}
	return args
}

// stageFiles lists the kwok Stage configs next to the kwok binary (the
// cache's kwok-<version>/stage, see scripts/cluster-tools.sh). Files that
// hold no Stage, such as a stray kustomization.yaml, are left out: kwok
// would reject them.
func stageFiles(binDir string) ([]string, error) {
	kwok, err := filepath.EvalSymlinks(filepath.Join(binDir, "kwok"))
	if err != nil {
		return nil, componentError("kwok", "", err)
	}
	dir := filepath.Join(filepath.Dir(kwok), "stage")
	matches, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	var out []string
	for _, m := range matches {
		if isStage(m) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, componentError("kwok", "", fmt.Errorf("no kwok Stage configs in %s; rerun scripts/cluster-tools.sh", dir))
	}
	return out, nil
}

func isStage(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var head struct{ Kind string }
	return yaml.Unmarshal(data, &head) == nil && head.Kind == "Stage"
}

// moduleRoot finds the repository: from this file's path when the package
// was built from source, else from `go env GOMOD` in the working directory.
func moduleRoot(ctx context.Context) (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok {
		root := filepath.Join(filepath.Dir(file), "..", "..")
		if _, err := os.Stat(filepath.Join(root, "scripts", "cluster-tools.sh")); err == nil {
			return filepath.Clean(root), nil
		}
	}
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("kubetest: cannot find the module root (run from inside the repository): %v", err)
	}
	return filepath.Dir(gomod), nil
}

// resolveBinDir returns opts.BinDir, $MESH_CLUSTER_BIN, or the directory
// scripts/cluster-tools.sh builds (it returns at once when cached).
func resolveBinDir(ctx context.Context, binDir string) (string, error) {
	if binDir != "" {
		return binDir, nil
	}
	if d := os.Getenv("MESH_CLUSTER_BIN"); d != "" {
		return d, nil
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "cluster-tools.sh"))
	// A first build takes minutes: show its progress, keep it for the error.
	var stderr bytes.Buffer
	cmd.Stderr = io.MultiWriter(os.Stderr, &stderr)
	out, err := cmd.Output()
	if err != nil {
		return "", &ComponentError{Component: "cluster-tools.sh", Tail: stderr.String(), Err: err}
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	dir := lines[len(lines)-1]
	if dir == "" {
		return "", &ComponentError{Component: "cluster-tools.sh", Err: errors.New("printed no bin directory")}
	}
	return dir, nil
}
