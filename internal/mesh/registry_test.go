package mesh

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// registryFiles are where the registry spells groups, kinds, labels,
// annotations and the cluster domain.
var registryFiles = []string{"internal/mesh/kinds.go", "internal/mesh/labels.go", "internal/mesh/mesh.go"}

// spellings are what only the registry spells: every API group, label and
// annotation key it holds (as a name of its own, not inside a longer one),
// the cluster domain (anywhere) and the kind names of the custom resources
// (exactly).
func spellings() (inside []string, exact map[string]bool) {
	inside = []string{GroupIstioNetworking, GroupIstioSecurity, GroupGatewayAPI, GroupLinkerd, GroupLinkerdPolicy, GroupAPIExtensions,
		LabelUseWaypoint, LabelUseWaypointNamespace, LabelWaypointFor, LabelIstioRev, LabelDataplaneMode, LabelTLSMode,
		AnnotationSidecarStatus, AnnotationIstioDryRun, LabelIstioInjection,
		AnnotationLinkerdInject, LabelLinkerdControlPlaneNS, AnnotationLinkerdProxyVersion, AnnotationDefaultInboundPolicy,
		AnnotationGatewayAPIBundleVersion, AnnotationGatewayAPIChannel,
		LabelOwner, LabelCommitted, AnnotationCreateID}
	exact = map[string]bool{}
	for _, gvk := range Kinds {
		if gvk.Group != "" && gvk != GVKCRD {
			exact[gvk.Kind] = true
		}
	}
	return inside, exact
}

// A group, label, annotation or the cluster domain spelled out in a string
// literal anywhere but the registry (tests aside) is a second spelling that
// can drift from the first: use the registry's constant.
func TestRegistryIsTheOnlySpelling(t *testing.T) {
	inside, exact := spellings()
	root := filepath.Join("..", "..")
	var found []string
	scanned, registrySpellings := 0, 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "sdk" || rel == "bin" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		registry := slices.Contains(registryFiles, filepath.ToSlash(rel))
		if !registry {
			scanned++
		}
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		imports := importPaths(file)
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if imports[lit.Value] {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			if registry {
				// The registry itself must show up, or the scan sees nothing.
				registrySpellings += len(spellingsIn(s, inside, exact))
				return true
			}
			if strings.Contains(s, ClusterDomain) {
				found = append(found, fmt.Sprintf("%s: %q spells the cluster domain", fset.Position(lit.Pos()), s))
			}
			for _, w := range inside {
				if spelled(s, w) {
					found = append(found, fmt.Sprintf("%s: %q spells %q", fset.Position(lit.Pos()), s, w))
				}
			}
			if exact[s] {
				found = append(found, fmt.Sprintf("%s: %q spells a kind's name", fset.Position(lit.Pos()), s))
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 100 || registrySpellings < len(inside) {
		t.Fatalf("the scan read %d files and found %d spellings in the registry: it does not see the sources", scanned, registrySpellings)
	}
	sort.Strings(found)
	for _, f := range found {
		t.Error(f)
	}
}

// spellingsIn are the registered names s holds.
func spellingsIn(s string, inside []string, exact map[string]bool) []string {
	var out []string
	for _, w := range inside {
		if spelled(s, w) {
			out = append(out, w)
		}
	}
	if exact[s] || strings.Contains(s, ClusterDomain) {
		out = append(out, s)
	}
	return out
}

// spelled reports whether s holds w as a word: not as part of a longer
// name (linkerd.io inside policy.linkerd.io is policy.linkerd.io's).
func spelled(s, w string) bool {
	for i := strings.Index(s, w); i >= 0; {
		before, after := i == 0 || !nameByte(s[i-1]), i+len(w) == len(s) || !nameByte(s[i+len(w)])
		if before && after {
			return true
		}
		j := strings.Index(s[i+1:], w)
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

func nameByte(b byte) bool {
	return b == '.' || b == '-' || b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

func importPaths(f *ast.File) map[string]bool {
	out := map[string]bool{}
	for _, imp := range f.Imports {
		out[imp.Path.Value] = true
	}
	return out
}

func TestSpelled(t *testing.T) {
	for _, c := range []struct {
		s, w string
		want bool
	}{
		{"linkerd.io/inject", "linkerd.io", true},
		{"policy.linkerd.io", "linkerd.io", false},
		{"a linkerd.io b", "linkerd.io", true},
		{"xlinkerd.io", "linkerd.io", false},
		{"policy.linkerd.io and linkerd.io", "linkerd.io", true},
		{"istio.io/rev", "istio.io/rev", true},
		{"istio.io/revision", "istio.io/rev", false},
	} {
		if got := spelled(c.s, c.w); got != c.want {
			t.Errorf("spelled(%q, %q) = %v", c.s, c.w, got)
		}
	}
}
