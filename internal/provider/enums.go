package provider

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// The validators and the descriptions of enum attributes are built from the
// same lists, so the docs never drift from the code.

func enumStrings[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// enumList renders values for a description: "`a`, `b` or `c`".
func enumList[T ~string](values []T) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = "`" + string(v) + "`"
	}
	if len(quoted) == 1 {
		return quoted[0]
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}

func targetStrings() []string { return enumStrings(mesh.Targets) }
func targetList() string      { return enumList(mesh.Targets) }

func validTarget(t mesh.Target) bool { return slices.Contains(mesh.Targets, t) }

func formatFloat(f float32) string { return strconv.FormatFloat(float64(f), 'f', -1, 32) }
func formatInt(i int) string       { return strconv.Itoa(i) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// enumValidator is stringvalidator.OneOf, recognisable: an unknown value of
// an enum attribute decides what is rendered (unknownsIn).
type enumValidator struct {
	validator.String
	values []string
}

// oneOf is the validator of an enum attribute.
func oneOf(values ...string) validator.String {
	return enumValidator{stringvalidator.OneOf(values...), values}
}

// enumValues are the values an attribute's validators allow, if one is an
// enum's.
func enumValues(vs []validator.String) ([]string, bool) {
	for _, v := range vs {
		if e, ok := v.(enumValidator); ok {
			return e.values, true
		}
	}
	return nil, false
}
