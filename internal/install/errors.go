package install

import (
	"fmt"
	"strings"
)

// Error is a failed Apply, after the rollback it did: what failed, which
// components were not ready and why, and what was rolled back or removed.
type Error struct {
	// Release is the release that failed ("" when no single one did).
	Release string
	Cause   error
	// RolledBack lists "name to revision N" for upgraded releases restored.
	RolledBack []string
	// Uninstalled lists the releases this Apply had installed and removed.
	Uninstalled []string
	// NotReady are the components that were not ready when the wait ended.
	NotReady []Component
	// NotUndone lists the releases undoing failed for (RollbackErr says
	// why): they are left as this Apply changed them.
	NotUndone []string
	// RollbackErr is set when undoing the changes failed too: the cluster
	// may then hold a half-applied control plane.
	RollbackErr error
	// Recovered says what Apply did first to releases an interrupted run
	// had left pending.
	Recovered []string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Release != "" {
		fmt.Fprintf(&b, "release %s: ", e.Release)
	}
	fmt.Fprintf(&b, "%v", e.Cause)
	for _, c := range e.NotReady {
		fmt.Fprintf(&b, "\n  not ready: %s", c.String())
	}
	if len(e.RolledBack) > 0 {
		fmt.Fprintf(&b, "\nrolled back: %s", strings.Join(e.RolledBack, ", "))
	}
	if len(e.Uninstalled) > 0 {
		fmt.Fprintf(&b, "\nuninstalled (installed by this apply): %s", strings.Join(e.Uninstalled, ", "))
	}
	if e.RollbackErr != nil {
		fmt.Fprintf(&b, "\nundoing the changes failed too, left as this apply changed them: %s: %v", strings.Join(e.NotUndone, ", "), e.RollbackErr)
	} else if len(e.RolledBack)+len(e.Uninstalled) == 0 {
		b.WriteString("\nnothing was changed")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Cause }

// String is "Kind/namespace/name: message" (no namespace part for
// cluster-scoped objects).
func (c Component) String() string {
	id := c.Kind + "/" + c.Name
	if c.Namespace != "" {
		id = c.Kind + "/" + c.Namespace + "/" + c.Name
	}
	if c.Ready {
		return id + ": ready"
	}
	return id + ": " + c.Message
}
