// Package meshtest holds what the renderers' golden tests share. Only test
// binaries import it.
package meshtest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml from the current output")

// Golden compares got with testdata/<name>.golden.yaml; with -update it
// rewrites the file first.
func Golden(t testing.TB, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", name+".golden.yaml")
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", file, diff)
	}
}

// GoldenObjects compares objects, as YAML documents joined by "---", with
// testdata/<name>.golden.yaml.
func GoldenObjects(t testing.TB, name string, objs ...*unstructured.Unstructured) {
	t.Helper()
	docs := make([]string, len(objs))
	for i, obj := range objs {
		doc, err := yaml.Marshal(obj.Object)
		if err != nil {
			t.Fatal(err)
		}
		docs[i] = string(doc)
	}
	Golden(t, name, strings.Join(docs, "---\n"))
}

// ObjectsFile reads the YAML documents of file, joined by "---" lines, as
// objects.
func ObjectsFile(t testing.TB, file string) []*unstructured.Unstructured {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var objs []*unstructured.Unstructured
	for _, doc := range strings.Split(string(text), "\n---\n") {
		data, err := yaml.YAMLToJSON([]byte(strings.TrimPrefix(doc, "---\n")))
		if err != nil {
			t.Fatal(err)
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(data); err != nil {
			t.Fatalf("%s: %v in\n%s", file, err, doc)
		}
		objs = append(objs, obj)
	}
	return objs
}
