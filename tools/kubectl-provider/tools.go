//go:build tools

package tools

import _ "github.com/gavinbunney/terraform-provider-kubectl"
