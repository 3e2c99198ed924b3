package mesh

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// The syntax of names and labels, checked alike for every resource and
// whatever the target, so that the provider can report them once for all
// targets. The decisions are apimachinery's; the wording is ours, because
// apimachinery's names the regular expression rather than the fix.

const (
	// roleObjectName and roleNamespace say what a DNS-1123 label is for.
	roleObjectName = "a Kubernetes object name"
	roleNamespace  = "a namespace name"

	// maxReleaseName is Helm's limit on a release name (chartutil's
	// maxReleaseNameLen).
	maxReleaseName = 53
)

// validateDNSLabel reports value at path unless it is a DNS-1123 label (at
// most 63 lower-case alphanumerics or '-', starting and ending with an
// alphanumeric), as object and namespace names are; ok says it is one.
func validateDNSLabel(ps *Problems, code string, path []any, value, role string) (ok bool) {
	errs := validation.IsDNS1123Label(value)
	if len(errs) == 0 {
		return true
	}
	attr := tsAttrString(path)
	const chars = "lower-case letters, digits and '-', starting and ending with a letter or digit"
	var reasons []string
	tooLong := len(value) > validation.DNS1123LabelMaxLength
	if tooLong {
		reasons = append(reasons, fmt.Sprintf("it is %d characters long: remove %d (at most %d)",
			len(value), len(value)-validation.DNS1123LabelMaxLength, validation.DNS1123LabelMaxLength))
	}
	// IsDNS1123Label returns one message for the length and one for the
	// characters, so anything beyond the length's is about the characters.
	switch {
	case value == "":
		reasons = append(reasons, "it is empty; use 1 to 63 "+chars)
	case len(errs) > boolInt(tooLong):
		reasons = append(reasons, "use only "+chars)
	}
	ps.Errorf(code, path, attr+" is not a DNS-1123 label",
		"%s = %q cannot be used as %s (a DNS-1123 label): %s.", attr, value, role, strings.Join(reasons, "; "))
	return false
}

// validateLabels reports, in key order, each key of labels (the map
// attribute at path) that is not a label key and each value that is not a
// label value, as the Kubernetes API checks selectors and Istio subsets.
func validateLabels(ps *Problems, code string, path []any, labels map[string]string) {
	attr := tsAttrString(path)
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if len(validation.IsQualifiedName(k)) > 0 {
			ps.Errorf(code, path, "invalid label key",
				`%s key %q is not a label key: use a name of 1 to 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, optionally after a DNS subdomain prefix and '/' (e.g. "version" or "app.kubernetes.io/version").`,
				attr, k)
		}
		if v := labels[k]; len(validation.IsValidLabelValue(v)) > 0 {
			ps.Errorf(code, path, "invalid label value",
				`%s[%q] = %q is not a label value: use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, or leave it empty.`,
				attr, k, v)
		}
	}
}

// characters is "1 character" or "n characters".
func characters(n int) string {
	if n == 1 {
		return "1 character"
	}
	return fmt.Sprintf("%d characters", n)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
