package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/meshform/terraform-provider-mesh/internal/bench"
)

// drift edits every tenth object of dir out of band, as a `kubectl label`
// would: a label every tool manages changes value. The edit is not timed.
func (e *env) drift(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var names []string
	for _, entry := range entries {
		names = append(names, entry.Name())
	}
	sort.Strings(names)
	args := []string{"label", "--overwrite", "--field-manager=meshbench-drift"}
	for i := 0; i < len(names); i += 10 {
		args = append(args, "-f", filepath.Join(dir, names[i]))
	}
	args = append(args, "app.kubernetes.io/managed-by=edited-out-of-band")
	_, err = e.kubectlRun(args...)
	return err
}

// kindOf reads the kind of a manifest as kubectl names its resource type
// (lower-case plural plus group), e.g. virtualservices.networking.istio.io.
func kindOf(manifest string) string {
	var obj struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	_ = yaml.Unmarshal([]byte(manifest), &obj)
	group, _, found := strings.Cut(obj.APIVersion, "/")
	plural := strings.ToLower(obj.Kind) + "s"
	if strings.HasSuffix(plural, "ys") {
		plural = strings.TrimSuffix(plural, "ys") + "ies"
	}
	if !found {
		return plural
	}
	return plural + "." + group
}

// startupTable times how long each provider takes from exec to its plugin
// handshake: terraform pays it every time it starts a provider, several
// times a run.
func (e *env) startupTable() string {
	const runs = 15
	var b strings.Builder
	b.WriteString("| provider | start-up (median of 15) | binary size |\n|---|---:|---:|\n")
	for _, p := range []struct {
		name, bin, protocol string
	}{{"terraform-provider-mesh", e.meshBin, "6"}, {"terraform-provider-kubectl v1.19.0", e.kubectlBin, "5"}} {
		var samples []time.Duration
		for range runs {
			d, err := startup(p.bin, p.protocol)
			if err != nil {
				logf("start-up of %s: %v", p.name, err)
				break
			}
			samples = append(samples, d)
		}
		size := "–"
		if st, err := os.Stat(p.bin); err == nil {
			size = fmt.Sprintf("%.0f MiB", float64(st.Size())/(1<<20))
		}
		fmt.Fprintf(&b, "| %s | %.0f ms | %s |\n", p.name, float64(bench.Median(samples).Microseconds())/1000, size)
	}
	return b.String()
}

// startup execs a provider as terraform does and returns the time until it
// prints the go-plugin handshake line.
func startup(bin, protocol string) (time.Duration, error) {
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"TF_PLUGIN_MAGIC_COOKIE=d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
		"PLUGIN_PROTOCOL_VERSIONS="+protocol)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line := make([]byte, 0, 256)
	buf := make([]byte, 256)
	for !bytes.Contains(line, []byte("\n")) {
		n, err := stdout.Read(buf)
		if err != nil {
			return 0, fmt.Errorf("no handshake: %w", err)
		}
		line = append(line, buf[:n]...)
	}
	return time.Since(start), nil
}
