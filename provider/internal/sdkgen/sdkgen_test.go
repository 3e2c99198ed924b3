package sdkgen

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const committedSchema = "../../cmd/pulumi-resource-mesh/schema.json"

func TestGenerateGoKeepsTheModuleFileAndDropsStaleFiles(t *testing.T) {
	out := t.TempDir()
	writeFile(t, filepath.Join(out, "go.mod"), "module example.com/sdk\n")
	writeFile(t, filepath.Join(out, "mesh", "removedResource.go"), "package mesh\n")

	if err := Generate("go", Options{SchemaPath: committedSchema, OutDir: out, Version: "1.2.3"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "go.mod")); err != nil {
		t.Errorf("go.mod was not kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "mesh", "removedResource.go")); !os.IsNotExist(err) {
		t.Errorf("a file the schema no longer generates survived: %v", err)
	}
	plugin, err := os.ReadFile(filepath.Join(out, "mesh", "pulumi-plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(plugin), `"version": "1.2.3"`) {
		t.Errorf("pulumi-plugin.json does not carry the stamped version:\n%s", plugin)
	}
	if _, err := os.Stat(filepath.Join(out, "mesh", "trafficSplit.go")); err != nil {
		t.Errorf("trafficSplit.go not generated: %v", err)
	}
}

func TestGenerateRejectsAnUnknownLanguage(t *testing.T) {
	err := Generate("java", Options{SchemaPath: committedSchema, OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `unknown language "java": want one of [go nodejs python dotnet]`) {
		t.Fatalf("err = %v", err)
	}
}

func TestLogoIsServedFromTheLocalCopyOnly(t *testing.T) {
	logo := filepath.Join(t.TempDir(), "logo.png")
	writeFile(t, logo, "png-bytes")
	restore, err := serveLogoOffline("https://example.com/logo.png", logo)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()

	resp, err := http.Get("https://example.com/logo.png")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "png-bytes" {
		t.Errorf("logo body = %q", body)
	}
	_, err = http.Get("https://example.com/other.png")
	if err == nil || !strings.Contains(err.Error(), "SDK generation is offline: no local copy of https://example.com/other.png") {
		t.Errorf("err = %v", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
