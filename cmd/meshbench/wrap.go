package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
)

// wrap runs a provider binary as terraform would, passing the plugin
// handshake through, and records the child's peak RSS and CPU time in
// $MESHBENCH_RSS_DIR/<pid>.json when it exits. The same measure serves both
// providers, ours and the peer.
func wrap(binary string, args []string) int {
	cmd := exec.Command(binary, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "meshbench wrap: %v\n", err)
		return 1
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range signals {
			_ = cmd.Process.Signal(s)
		}
	}()
	_ = cmd.Wait()
	if dir := os.Getenv("MESHBENCH_RSS_DIR"); dir != "" {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			data, _ := json.Marshal(map[string]int64{"max_rss_bytes": ru.Maxrss * 1024, "cpu_nanoseconds": int64(cpu)})
			_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.rss.json", cmd.Process.Pid)), data, 0o644)
		}
	}
	return cmd.ProcessState.ExitCode()
}
