package mesh

import (
	"regexp"
	"strings"
	"testing"
)

var labelValue = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)

func TestOwner(t *testing.T) {
	if got, want := Owner("mesh_traffic_split", "shop", "reviews"), "mesh_traffic_split.shop.reviews"; got != want {
		t.Errorf("Owner() = %q, want %q", got, want)
	}
	long := Owner("mesh_traffic_split", strings.Repeat("n", 63), strings.Repeat("r", 63))
	other := Owner("mesh_traffic_split", strings.Repeat("n", 63), strings.Repeat("r", 62)+"s")
	if len(long) > 63 || !labelValue.MatchString(long) {
		t.Errorf("Owner() = %q (%d chars): not a valid label value", long, len(long))
	}
	if long == other {
		t.Errorf("two long owners collide: %q", long)
	}
	if !strings.HasPrefix(long, "mesh_traffic_split.nnn") {
		t.Errorf("Owner() = %q: should keep the readable start", long)
	}
}
