package kube

import "reflect"

// Covers reports whether live holds every value of want: each map key of
// want is in live with a covered value, lists have the same length and
// cover element by element, and scalars are equal. Fields that only live
// has (defaults the API server filled in inside lists we own) are ignored;
// a value someone changed or removed is not covered, which is drift.
func Covers(live, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			lv, ok := l[k]
			if !ok || !Covers(lv, wv) {
				return false
			}
		}
		return true
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(w) {
			return false
		}
		for i := range w {
			if !Covers(l[i], w[i]) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(live, want)
	}
}
