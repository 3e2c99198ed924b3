package bench

import (
	"bufio"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"time"
)

// Median of the samples (the mean of the middle two for an even count).
func Median(samples []time.Duration) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

// MedianInt is Median for counts.
func MedianInt(samples []int64) int64 {
	d := make([]time.Duration, len(samples))
	for i, v := range samples {
		d[i] = time.Duration(v)
	}
	return int64(Median(d))
}

// background are the user agents of the control plane's own clients, whose
// requests are not the benchmarked tool's.
var background = []string{"kube-controller-manager", "kube-scheduler", "kwok", "kube-apiserver", "meshbench"}

// CountRequests counts the audit events (one JSON object per line, as the
// API server writes them) of every client but the control plane's own.
func CountRequests(r io.Reader) (int64, error) {
	var n int64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct {
			Stage     string `json:"stage"`
			UserAgent string `json:"userAgent"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return 0, err
		}
		if ev.Stage == "ResponseComplete" && !isBackground(ev.UserAgent) {
			n++
		}
	}
	return n, sc.Err()
}

func isBackground(userAgent string) bool {
	for _, prefix := range background {
		if strings.HasPrefix(userAgent, prefix) {
			return true
		}
	}
	return false
}
