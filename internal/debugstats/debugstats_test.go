package debugstats

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestStatsAndProfilesAreWrittenOnlyWhereAsked(t *testing.T) {
	stats, profiles := t.TempDir(), t.TempDir()
	t.Setenv("MESH_DEBUG_STATS_DIR", stats)
	t.Setenv("MESH_DEBUG_PPROF_DIR", profiles)
	Start()()

	var s Stats
	data, err := os.ReadFile(filepath.Join(stats, itoa(os.Getpid())+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if s.PID != os.Getpid() || s.MaxRSSBytes <= 0 {
		t.Errorf("stats = %+v; want this process's pid and a peak RSS", s)
	}
	for _, name := range []string{".cpu.pprof", ".heap.pprof", ".goroutines.txt"} {
		if _, err := os.Stat(filepath.Join(profiles, itoa(os.Getpid())+name)); err != nil {
			t.Error(err)
		}
	}
}

func TestNothingIsWrittenByDefault(t *testing.T) {
	t.Setenv("MESH_DEBUG_STATS_DIR", "")
	t.Setenv("MESH_DEBUG_PPROF_DIR", "")
	dir := t.TempDir()
	t.Chdir(dir)
	Start()()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("wrote %d files with the variables unset", len(entries))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
