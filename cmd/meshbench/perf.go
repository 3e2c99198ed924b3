package main

import (
	"bufio"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
)

// Terraform's own CPU profile (BENCH_PERF_TERRAFORM=1). Terraform has no
// profiling switch and its release binaries are stripped, so the harness
// runs each profiled phase under `perf record` (frame-pointer call graphs,
// which Go binaries keep) and turns the samples of the terraform process
// into a pprof profile, naming functions from the binary's Go line table
// (`go tool addr2line`, which needs no symbol table). The provider processes
// are left out: they write their own pprof profiles.

// perfRecord wraps a terraform command line in perf record, writing to out.
func perfRecord(perf, out string, argv []string) []string {
	return append([]string{perf, "record", "-q", "-g", "-F", "499", "-o", out, "--"}, argv...)
}

// perfToPprof converts the samples of processes named comm in the perf data
// file in to a pprof profile written to out.
func perfToPprof(perf, in, comm, out string) error {
	cmd := exec.Command(perf, "script", "-i", in, "-F", "comm,ip,sym,dso")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	stacks, err := perfStacks(stdout, comm)
	if werr := cmd.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("perf script: %w", err)
	}
	names := symbolize(stacks)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := buildProfile(stacks, names).Write(f); err != nil {
		return errors.Join(err, f.Close())
	}
	return f.Close()
}

// perfFrame is one frame of a sample: an address in a file (dso), and the
// name perf gave it ("[unknown]" for a stripped binary).
type perfFrame struct {
	addr uint64
	sym  string
	dso  string
}

// perfStacks reads `perf script -F comm,ip,sym,dso` output: a header line
// per sample naming its process, then one indented line per frame.
func perfStacks(r io.Reader, comm string) ([][]perfFrame, error) {
	var stacks [][]perfFrame
	var cur []perfFrame
	keep := false
	flush := func() {
		if keep && len(cur) > 0 {
			stacks = append(stacks, cur)
		}
		cur, keep = nil, false
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] != '\t' && line[0] != ' ':
			flush()
			keep = strings.TrimSpace(line) == comm
		default:
			f := strings.Fields(line)
			if len(f) < 3 {
				continue
			}
			addr, err := strconv.ParseUint(f[0], 16, 64)
			if err != nil {
				continue
			}
			cur = append(cur, perfFrame{addr: addr, sym: strings.Join(f[1:len(f)-1], " "), dso: strings.Trim(f[len(f)-1], "()")})
		}
	}
	flush()
	return stacks, sc.Err()
}

// symbolize names the frames in executables through their Go line tables.
// perf gives their addresses as file offsets; the line table wants virtual
// addresses, which the executable's first loadable segment maps them to.
func symbolize(stacks [][]perfFrame) map[perfFrame]string {
	byFile := map[string]map[uint64]bool{}
	for _, s := range stacks {
		for _, fr := range s {
			if strings.HasPrefix(fr.dso, "/") {
				if byFile[fr.dso] == nil {
					byFile[fr.dso] = map[uint64]bool{}
				}
				byFile[fr.dso][fr.addr] = true
			}
		}
	}
	names := map[perfFrame]string{}
	for file, addrs := range byFile {
		base, err := loadBase(file)
		if err != nil {
			continue // not an ELF executable perf could name either
		}
		var in strings.Builder
		var order []uint64
		for a := range addrs {
			order = append(order, a)
			fmt.Fprintf(&in, "0x%x\n", a+base)
		}
		cmd := exec.Command("go", "tool", "addr2line", file)
		cmd.Stdin = strings.NewReader(in.String())
		out, err := cmd.Output()
		if err != nil {
			continue // not a Go binary: perf's names stand
		}
		// Two lines per address: the function, then file:line.
		lines := strings.Split(string(out), "\n")
		for i, a := range order {
			if 2*i < len(lines) && lines[2*i] != "?" {
				names[perfFrame{addr: a, dso: file}] = lines[2*i]
			}
		}
	}
	return names
}

// loadBase is what turns a file offset in file's executable segment into a
// virtual address.
func loadBase(file string) (uint64, error) {
	f, err := elf.Open(file)
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }() // read only
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 {
			return p.Vaddr - p.Off, nil
		}
	}
	return 0, errors.New("no executable segment")
}

// buildProfile is a pprof profile of the stacks, a sample each.
func buildProfile(stacks [][]perfFrame, names map[perfFrame]string) *profile.Profile {
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:     1_000_000_000 / 499, // perfRecord samples at 499 Hz
	}
	locations := map[string]*profile.Location{}
	location := func(name string) *profile.Location {
		if l, ok := locations[name]; ok {
			return l
		}
		fn := &profile.Function{ID: uint64(len(p.Function) + 1), Name: name}
		p.Function = append(p.Function, fn)
		l := &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: fn}}}
		p.Location = append(p.Location, l)
		locations[name] = l
		return l
	}
	for _, s := range stacks {
		sample := &profile.Sample{Value: []int64{1}}
		for _, fr := range s {
			name := names[perfFrame{addr: fr.addr, dso: fr.dso}]
			if name == "" {
				name = fr.sym
			}
			if name == "" || name == "[unknown]" {
				name = fmt.Sprintf("%s+0x%x", filepath.Base(fr.dso), fr.addr)
			}
			sample.Location = append(sample.Location, location(name))
		}
		p.Sample = append(p.Sample, sample)
	}
	return p
}
