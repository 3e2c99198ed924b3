package kubetest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// stopGrace is how long a component gets to exit on SIGTERM before SIGKILL.
const stopGrace = 10 * time.Second

// ComponentError says which part of the control plane failed and where its
// log is, with the log's last lines so that a CI failure is readable as is.
type ComponentError struct {
	Component string // "etcd", "kube-apiserver", "kwok", "crds", ...
	Log       string // the component's log file ("" when there is none)
	Tail      string // the log's last lines at the time of the failure
	Err       error
}

func (e *ComponentError) Error() string {
	msg := fmt.Sprintf("kubetest: %s: %v", e.Component, e.Err)
	if e.Log != "" {
		msg += " (log: " + e.Log + ")"
	}
	if e.Tail != "" {
		msg += "\n--- last lines of " + filepath.Base(e.Log) + " ---\n" + e.Tail
	}
	return msg
}

func (e *ComponentError) Unwrap() error { return e.Err }

func componentError(name, log string, err error) *ComponentError {
	return &ComponentError{Component: name, Log: log, Tail: tailFile(log, 15), Err: err}
}

// process is one control-plane component: a child of this process (done is
// non-nil) or one recorded in a pids file by an earlier `localcluster up`.
type process struct {
	name     string
	pid      int
	log      string
	done     chan struct{} // closed when the child has exited
	exitErr  error         // valid once done is closed
	stopping atomic.Bool   // set before we signal it, so its exit is not a failure
}

// startProcess runs bin with args, its output in <dir>/<name>.log (and out).
// Every component gets its own process group so that a terminal's Ctrl-C
// reaches only the caller, which then stops them in order; and the kernel
// kills them if the caller dies without Stop (e.g. a test timeout panic),
// so no run leaves a control plane behind. (The localcluster CLI keeps a
// cluster alive by running Start in a background supervisor process.)
func startProcess(dir, name, bin string, args []string, out io.Writer, onExit func(*process)) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, componentError(name, "", err)
	}
	defer func() { _ = f.Close() }() // the child holds its own copy
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if out != nil {
		w := io.MultiWriter(f, out)
		cmd.Stdout, cmd.Stderr = w, w
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, componentError(name, logPath, err)
	}
	p := &process{name: name, pid: cmd.Process.Pid, log: logPath, done: make(chan struct{})}
	go func() {
		p.exitErr = cmd.Wait()
		close(p.done)
		if !p.stopping.Load() && onExit != nil {
			onExit(p)
		}
	}()
	return p, nil
}

// exitedError describes an unexpected exit of p.
func (p *process) exitedError() *ComponentError {
	err := p.exitErr
	if err == nil {
		err = errors.New("exited")
	}
	return componentError(p.name, p.log, fmt.Errorf("exited unexpectedly: %w", err))
}

// stop sends SIGTERM, then SIGKILL after grace, and waits for the exit.
func (p *process) stop(grace time.Duration) error {
	p.stopping.Store(true)
	if p.done != nil {
		return p.stopChild(grace)
	}
	return p.stopForeign(grace)
}

func (p *process) stopChild(grace time.Duration) error {
	_ = syscall.Kill(p.pid, syscall.SIGTERM)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
		<-p.done
	}
	return nil
}

// stopForeign stops a process that is not our child: we cannot wait(2) for
// it, so we watch /proc until it is gone.
func (p *process) stopForeign(grace time.Duration) error {
	if !p.alive() {
		return nil
	}
	if err := syscall.Kill(p.pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return componentError(p.name, p.log, fmt.Errorf("SIGTERM pid %d: %w", p.pid, err))
	}
	if p.waitGone(grace) == nil {
		return nil
	}
	_ = syscall.Kill(p.pid, syscall.SIGKILL)
	if err := p.waitGone(grace); err != nil {
		return componentError(p.name, p.log, fmt.Errorf("pid %d survived SIGKILL", p.pid))
	}
	return nil
}

func (p *process) waitGone(timeout time.Duration) error {
	return wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, timeout, true,
		func(context.Context) (bool, error) { return !p.alive(), nil })
}

// alive reports whether pid still runs our component. A zombie counts as
// gone (a container's PID 1 may never reap it), and so does a reused pid
// that now runs another program, which we must not signal.
func (p *process) alive() bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		if s := stat[i+2]; s == 'Z' || s == 'X' {
			return false
		}
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.pid))
	if err != nil {
		return false
	}
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	return filepath.Base(string(argv0)) == p.name
}

// appendPID records p in <dir>/pids as "PID NAME", one per line, as soon as
// it starts, so that even a half-started cluster can be stopped.
func appendPID(dir string, p *process) error {
	f, err := os.OpenFile(filepath.Join(dir, "pids"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "%d %s\n", p.pid, p.name); err != nil {
		return errors.Join(err, f.Close())
	}
	return f.Close()
}

// readPIDs reads <dir>/pids; a missing file means no processes.
func readPIDs(dir string) ([]*process, error) {
	data, err := os.ReadFile(filepath.Join(dir, "pids"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var procs []*process
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		pidText, name, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil {
			return nil, fmt.Errorf("%s: malformed line %q", filepath.Join(dir, "pids"), sc.Text())
		}
		procs = append(procs, &process{name: name, pid: pid, log: filepath.Join(dir, name+".log")})
	}
	return procs, sc.Err()
}

// stopAll stops procs in reverse start order (clients before the apiserver,
// the apiserver before etcd), so no component logs errors about a peer
// that vanished first.
func stopAll(procs []*process) error {
	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		errs = append(errs, procs[i].stop(stopGrace))
	}
	return errors.Join(errs...)
}

// tailFile returns the last n lines of path ("" if unreadable).
func tailFile(path string, n int) string {
	if path == "" {
		return ""
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
