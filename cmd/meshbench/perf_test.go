package main

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// perf script's output for two samples, one of the terraform process and one
// of a provider, becomes a profile of the terraform sample alone, its Go
// frames named from the binary's line table and the kernel's by perf.
func TestPerfSamplesToProfile(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	base, err := loadBase(exe)
	if err != nil {
		t.Fatal(err)
	}
	offset := uint64(reflect.ValueOf(perfToPprof).Pointer()) - base
	script := fmt.Sprintf("terraform \n"+
		"\t          %x [unknown] (%s)\n"+
		"\t    ffffffff81000000 do_syscall_64 ([kernel.kallsyms])\n"+
		"\n"+
		"terraform-provi \n"+
		"\t          %x [unknown] (%s)\n\n", offset, exe, offset, exe)
	stacks, err := perfStacks(strings.NewReader(script), "terraform")
	if err != nil {
		t.Fatal(err)
	}
	if len(stacks) != 1 || len(stacks[0]) != 2 {
		t.Fatalf("stacks: %+v, want the terraform sample's two frames", stacks)
	}
	p := buildProfile(stacks, symbolize(stacks))
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range p.Sample[0].Location {
		got = append(got, l.Line[0].Function.Name)
	}
	if want := []string{"github.com/meshform/terraform-provider-mesh/cmd/meshbench.perfToPprof", "do_syscall_64"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("frames %q, want %q", got, want)
	}
}
