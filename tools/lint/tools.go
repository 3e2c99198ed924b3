//go:build tools

// Build-only module for golangci-lint (scripts/lint.sh builds it from the
// module proxy into the cache).
package tools

import _ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
