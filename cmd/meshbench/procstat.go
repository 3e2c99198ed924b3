package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc/<pid>/stat's CPU times (USER_HZ, 100 on
// every Linux this runs on).
const clockTick = 10 * time.Millisecond

// serverPIDs reads kube-apiserver's and etcd's process ids from the pids
// file localcluster up writes ("PID NAME" per line).
func serverPIDs(path string) ([]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only
	var pids []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pid, name, _ := strings.Cut(sc.Text(), " ")
		if name != "kube-apiserver" && name != "etcd" {
			continue
		}
		n, err := strconv.Atoi(pid)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a pid", path, pid)
		}
		pids = append(pids, n)
	}
	if len(pids) != 2 {
		return nil, fmt.Errorf("%s: want the pids of kube-apiserver and etcd, found %d", path, len(pids))
	}
	return pids, sc.Err()
}

// clusterCPU is the CPU time kube-apiserver and etcd have used so far; a
// process that cannot be read counts as none (the phase then fails on its
// own).
func (e *env) clusterCPU() time.Duration {
	var total time.Duration
	for _, pid := range e.clusterPIDs {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		total += statCPU(string(data))
	}
	return total
}

// statCPU reads utime + stime from a /proc/<pid>/stat line: the 14th and
// 15th fields, counted after the command name, which may hold spaces.
func statCPU(stat string) time.Duration {
	_, rest, ok := strings.Cut(stat, ") ")
	if !ok {
		return 0
	}
	fields := strings.Fields(rest) // fields[0] is the 3rd field, state
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * clockTick
}
