package mesh

import "fmt"

// Severity of a Problem.
type Severity int

const (
	SeverityError Severity = iota
	SeverityWarning
)

// Problem is one finding of a validation. The provider turns it into an
// attribute diagnostic: Path names the attribute (e.g. "backends", 1,
// "weight"; strings are attribute names, ints list indexes), Summary starts
// with the catalogue code ("MESH-TS-001: ..."), Detail says how to fix it.
type Problem struct {
	Severity Severity
	Code     string
	Path     []any
	Summary  string
	Detail   string
}

// Problems is a list of findings.
type Problems []Problem

// Errorf appends an error finding.
func (ps *Problems) Errorf(code string, path []any, summary, detailFormat string, args ...any) {
	*ps = append(*ps, Problem{SeverityError, code, path, code + ": " + summary, fmt.Sprintf(detailFormat, args...)})
}

// Warnf appends a warning finding.
func (ps *Problems) Warnf(code string, path []any, summary, detailFormat string, args ...any) {
	*ps = append(*ps, Problem{SeverityWarning, code, path, code + ": " + summary, fmt.Sprintf(detailFormat, args...)})
}

// HasErrors reports whether any finding is an error.
func (ps Problems) HasErrors() bool {
	for _, p := range ps {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}
