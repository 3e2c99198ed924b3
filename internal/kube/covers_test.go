package kube

import "testing"

func TestCovers(t *testing.T) {
	want := map[string]any{
		"spec": map[string]any{
			"rules": []any{map[string]any{"backendRefs": []any{map[string]any{"name": "a", "weight": int64(90)}}}},
		},
	}
	cases := []struct {
		name string
		live any
		want bool
	}{
		{"identical", want, true},
		{"server defaults inside an owned list", map[string]any{"spec": map[string]any{
			"rules": []any{map[string]any{
				"backendRefs": []any{map[string]any{"name": "a", "weight": int64(90), "group": "", "kind": "Service"}},
				"matches":     []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/"}}},
			}},
		}}, true},
		{"changed weight", map[string]any{"spec": map[string]any{
			"rules": []any{map[string]any{"backendRefs": []any{map[string]any{"name": "a", "weight": int64(50)}}}},
		}}, false},
		{"list lost ownership", map[string]any{"spec": map[string]any{}}, false},
		{"extra list element", map[string]any{"spec": map[string]any{
			"rules": []any{
				map[string]any{"backendRefs": []any{map[string]any{"name": "a", "weight": int64(90)}}},
				map[string]any{"backendRefs": []any{map[string]any{"name": "b"}}},
			},
		}}, false},
		{"type changed", map[string]any{"spec": "x"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Covers(c.live, want); got != c.want {
				t.Errorf("Covers() = %v, want %v", got, c.want)
			}
		})
	}
}
