// Package sdkgen generates the language SDKs from the committed Pulumi schema.
//
// pulumi-terraform-bridge hands SDK generation to `pulumi package gen-sdk`,
// which in turn needs the pulumi-language-<lang> plugins. Those hosts cannot
// be built here (the module proxy does not serve them), so this package runs
// the same steps in-process: it filters the schema for the language as the
// bridge does (schemafilter), binds it, and calls Pulumi's own code
// generators (pkg/codegen/<lang>), exactly the calls the language hosts make.
package sdkgen

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen/schemafilter"
	dotnetgen "github.com/pulumi/pulumi/pkg/v3/codegen/dotnet" //nolint:staticcheck // SA1019: its successor (pulumi-language-dotnet) is not on the module proxy here, and pulumi v3.220.0 still ships this one
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	nodejsgen "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	pythongen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// Languages are the SDKs this repository ships, in generation order.
var Languages = []string{"go", "nodejs", "python", "dotnet"}

// tool names the generator in the SDKs' "do not edit" headers.
const tool = "pulumi-tfgen-mesh"

// keep lists files that live beside the generated ones and survive a
// regeneration: the pinned lockfile `npm ci` installs from, and the Go
// module file (the Go generator writes only the package directory).
var keep = map[string][]string{
	"go":     {"go.mod", "go.sum"},
	"nodejs": {"package-lock.json"},
}

// Options locate the inputs of a generation.
type Options struct {
	SchemaPath string // the committed Pulumi schema
	OutDir     string // the SDK's directory, e.g. sdk/go
	Version    string // stamped into the package metadata
	// Logo is the local copy of the schema's logoUrl. The .NET generator
	// downloads the logo into the package; generation reads this file instead,
	// so that it works offline and the SDK does not change with the network.
	Logo string
}

// Generate writes the SDK for lang.
func Generate(lang string, opts Options) error {
	schemaPath, outDir := opts.SchemaPath, opts.OutDir
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(schemafilter.FilterSchemaByLanguage(raw, lang), &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	spec.Version = opts.Version
	pkg, diags, err := schema.BindSpec(spec, noReferences{}, schema.ValidationOptions{})
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		return fmt.Errorf("%s: %s", schemaPath, diags.Error())
	}
	restore, err := serveLogoOffline(spec.LogoURL, opts.Logo)
	if err != nil {
		return err
	}
	files, err := generate(lang, pkg)
	restore()
	if err != nil {
		return fmt.Errorf("generate %s SDK: %w", lang, err)
	}
	if err := clean(outDir, keep[lang]); err != nil {
		return err
	}
	return write(outDir, files)
}

func generate(lang string, pkg *schema.Package) (map[string][]byte, error) {
	switch lang {
	case "go":
		return gogen.GeneratePackage(tool, pkg, nil)
	case "nodejs":
		return nodejsgen.GeneratePackage(tool, pkg, nil, nil, false, noReferences{})
	case "python":
		return pythongen.GeneratePackage(tool, pkg, nil, noReferences{})
	case "dotnet":
		return dotnetgen.GeneratePackage(tool, pkg, nil, nil)
	default:
		return nil, fmt.Errorf("unknown language %q: want one of %v", lang, Languages)
	}
}

// clean empties outDir but for the kept files, so that a resource or type
// dropped from the schema also disappears from the SDK.
func clean(outDir string, kept []string) error {
	entries, err := os.ReadDir(outDir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if contains(kept, e.Name()) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(outDir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func write(outDir string, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(outDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// noReferences is the schema loader for a package that references no other
// package: any lookup is a bug in the schema, reported as such.
type noReferences struct{}

func (noReferences) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("the mesh schema references package %q; it should reference none", pkg)
}

func (noReferences) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, fmt.Errorf("the mesh schema references package %q; it should reference none", d.Name)
}

func (noReferences) LoadPackageReference(pkg string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("the mesh schema references package %q; it should reference none", pkg)
}

func (noReferences) LoadPackageReferenceV2(_ context.Context, d *schema.PackageDescriptor) (schema.PackageReference, error) {
	return nil, fmt.Errorf("the mesh schema references package %q; it should reference none", d.Name)
}
