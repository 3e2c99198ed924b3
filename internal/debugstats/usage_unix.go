//go:build unix

package debugstats

import (
	"runtime"
	"syscall"
)

func addUsage(s *Stats) error {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	s.MaxRSSBytes = int64(ru.Maxrss)
	if runtime.GOOS != "darwin" { // darwin reports bytes, the others KiB
		s.MaxRSSBytes *= 1024
	}
	s.UserSeconds = seconds(ru.Utime)
	s.SysSeconds = seconds(ru.Stime)
	return nil
}

func seconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}
