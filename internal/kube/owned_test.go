package kube

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func TestOwnedView(t *testing.T) {
	files, err := filepath.Glob("testdata/owned/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			var fx struct {
				Live map[string]any `json:"live"`
				Want map[string]any `json:"want"`
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal(data, &fx); err != nil {
				t.Fatal(err)
			}
			got, err := ownedView(&unstructured.Unstructured{Object: fx.Live}, DefaultFieldManager)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fx.Want, got.Object); diff != "" {
				t.Errorf("owned view (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOwnedViewRejectsCorruptFieldsV1(t *testing.T) {
	live := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "x", "namespace": "y", "managedFields": []any{map[string]any{
			"manager": DefaultFieldManager, "operation": "Apply", "fieldsType": "FieldsV1",
			"fieldsV1": map[string]any{"nonsense": map[string]any{}},
		}}},
	}}
	if _, err := ownedView(live, DefaultFieldManager); err == nil {
		t.Fatal("want an error for an unparseable FieldsV1")
	}
}
