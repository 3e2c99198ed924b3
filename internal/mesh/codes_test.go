package mesh_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// templatesDir holds the user documentation of every resource; docs/ is
// generated from it.
const templatesDir = "../../templates/resources"

var codePattern = regexp.MustCompile(`MESH-[A-Z]+-[0-9]+`)

// documentedNotImplemented are the codes the templates name although the
// provider does not report them, each presented there as a check that is
// not made. A code that gets implemented must leave this list (and its
// documentation must say what it now checks).
//
// The catalogue (MESH-MAPPING) has more codes the provider does not report
// (MESH-INS-005/006, MESH-MIR-004/010, MESH-AUTHZ-014/022, MESH-TS-010/014/
// 016/017, MESH-GEN-001/004); the templates do not name them, so they are
// neither here nor constants, and implementing one means documenting it.
var documentedNotImplemented = map[string]string{
	"MESH-MTLS-013": "mtls_policy: the Istio version check for port-level modes in ambient is not made",
}

// TestCodesAreDocumented holds the constants of codes.go, mesh.Codes() and
// the templates' codes to one another.
func TestCodesAreDocumented(t *testing.T) {
	constants := codeConstants(t) // code → constant name
	listed := map[string]bool{}
	for _, c := range mesh.Codes() {
		if listed[c] {
			t.Errorf("mesh.Codes() lists %s twice", c)
		}
		listed[c] = true
		if _, ok := constants[c]; !ok {
			t.Errorf("mesh.Codes() lists %s, which no constant of codes.go has", c)
		}
	}
	for c, name := range constants {
		if !listed[c] {
			t.Errorf("%s (%s) is missing from mesh.Codes()", name, c)
		}
	}

	documented := documentedCodes(t) // code → templates naming it
	for _, c := range slices.Sorted(maps.Keys(constants)) {
		if _, ok := documented[c]; !ok {
			t.Errorf("%s (%s) is not documented in %s/*.md.tmpl", constants[c], c, templatesDir)
		}
	}
	for _, c := range slices.Sorted(maps.Keys(documented)) {
		_, implemented := constants[c]
		_, exempt := documentedNotImplemented[c]
		switch {
		case implemented && exempt:
			t.Errorf("%s is implemented (%s): remove it from documentedNotImplemented and document what it checks", c, constants[c])
		case !implemented && !exempt:
			t.Errorf("%s is documented in %s but no constant of codes.go has it (or add it to documentedNotImplemented)", c, strings.Join(documented[c], ", "))
		}
	}
	for _, c := range slices.Sorted(maps.Keys(documentedNotImplemented)) {
		if _, ok := documented[c]; !ok {
			t.Errorf("%s is in documentedNotImplemented but no template names it any more: remove it", c)
		}
	}
}

// codeConstants parses codes.go: every Code* constant, by value.
func codeConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	format := regexp.MustCompile(`^MESH-(GEN|INS|MTLS|TS|MIR|AUTHZ)-[0-9]{3}$`)
	out := map[string]string{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Code") {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Errorf("%s is not a string literal", name.Name)
					continue
				}
				code, _ := strconv.Unquote(lit.Value)
				if !format.MatchString(code) {
					t.Errorf("%s = %q is not a catalogue code", name.Name, code)
				}
				if other, dup := out[code]; dup {
					t.Errorf("%s and %s are both %s", other, name.Name, code)
				}
				out[code] = name.Name
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no Code constants in codes.go")
	}
	return out
}

// documentedCodes returns every code the templates name, with the files.
func documentedCodes(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(templatesDir, "*.md.tmpl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates in %s: %v", templatesDir, err)
	}
	out := map[string][]string{}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range codePattern.FindAllString(string(b), -1) {
			if name := filepath.Base(file); !slices.Contains(out[c], name) {
				out[c] = append(out[c], name)
			}
		}
	}
	return out
}

// TestCodesLiveInCodesGo: outside codes.go, the validation packages name
// codes through the constants only (comments and prose may cite them).
func TestCodesLiveInCodesGo(t *testing.T) {
	exact := regexp.MustCompile(`^MESH-[A-Z]+-[0-9]+$`)
	for _, dir := range []string{".", "../preflight", "../certs"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
				filepath.Clean(path) == "codes.go" {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && exact.MatchString(s) {
						t.Errorf("%s: the literal %q should be its constant in internal/mesh/codes.go", path, s)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
