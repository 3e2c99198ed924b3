package provider

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/meshform/terraform-provider-mesh/internal/kube"
	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/preflight"
)

// Every diagnostic the provider emits is built here, so that messages keep
// one shape: a summary that starts with the catalogue code where there is
// one, and a detail that says what to do next.

// addProblems turns validation findings into attribute diagnostics.
// Terraform cannot point at a value nested inside a list attribute (it
// shows some enclosing line instead), so a nested path is also named at the
// start of the detail, unless the detail names it already.
func addProblems(diags *diag.Diagnostics, problems mesh.Problems) {
	for _, p := range problems {
		at, detail := attrPath(p.Path), p.Detail
		if name := hclPath(p.Path); len(p.Path) > 1 && !strings.Contains(detail, name) {
			detail = name + ": " + detail
		}
		if p.Severity == mesh.SeverityWarning {
			diags.AddAttributeWarning(at, p.Summary, detail)
		} else {
			diags.AddAttributeError(at, p.Summary, detail)
		}
	}
}

// hclPath writes a path the way users write it: match_routes[0].backends[1].weight.
func hclPath(steps []any) string {
	var b strings.Builder
	for _, s := range steps {
		switch s := s.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

// attrPath converts a mesh.Problem path ("backends", 1, "weight") to a
// framework path.
func attrPath(steps []any) path.Path {
	var p path.Path
	for i, s := range steps {
		switch s := s.(type) {
		case string:
			if i == 0 {
				p = path.Root(s)
			} else {
				p = p.AtName(s)
			}
		case int:
			p = p.AtListIndex(s)
		}
	}
	return p
}

// clusterChecksSkipped is MESH-GEN-006: plan-time cluster checks could not run.
func clusterChecksSkipped(diags *diag.Diagnostics, reason error) {
	if apierrors.IsForbidden(reason) {
		// A missing permission is not an outage: apply would be refused
		// the same way, so the plan fails now and names it.
		clusterUnavailable(diags, reason)
		return
	}
	diags.AddWarning(mesh.CodeGenChecksSkipped+": cluster checks skipped at plan time",
		fmt.Sprintf("Cluster checks skipped at plan time (%v); they will run before apply, and apply stops before changing anything if one fails.", reason))
}

// changedSincePlan is MESH-GEN-007: what the cluster answered at apply
// would render other objects than the plan showed.
func changedSincePlan(diags *diag.Diagnostics, address string, keys []string) {
	diags.AddError(mesh.CodeGenChangedSincePlan+": the cluster changed since the plan",
		fmt.Sprintf("%s: the objects rendered from what the cluster holds now differ from the planned manifests for %s, so nothing was applied. Run terraform plan again and review the new manifests.",
			address, strings.Join(keys, ", ")))
}

// missingAPI is MESH-GEN-005 at apply time: a rendered kind's CRD is absent.
func missingAPI(diags *diag.Diagnostics, err *preflight.MissingAPIError) {
	diags.AddError(mesh.CodeGenAPINotServed+": required API not served",
		fmt.Sprintf("%v. If a mesh_install in this configuration installs it, add depends_on = [mesh_install.NAME] to this resource.", err))
}

// clusterUnavailable reports that a resource needs the cluster and did not
// get an answer: an outage (retried for as long as the resource's timeout
// allowed), a missing permission, or a connection the configuration does
// not make possible. Only the last blames the configuration.
func clusterUnavailable(diags *diag.Diagnostics, err error) {
	var outage *kube.OutageError
	switch {
	case errors.As(err, &outage) && outage.Reached:
		diags.AddError("Kubernetes API server unreachable",
			fmt.Sprintf("%v. The provider's connection settings are not in question: it had answers from this API server before, and every retry within this resource's timeouts failed. Check the cluster's health (or raise the resource's timeouts) and run terraform apply again.", err))
	case apierrors.IsForbidden(err):
		diags.AddError("Permission denied",
			fmt.Sprintf("%v. %s", err, permissionHint))
	default:
		diags.AddError("Kubernetes cluster unavailable",
			fmt.Sprintf("%v. Set or check the provider's kubeconfig_path, kubeconfig_context or host (or the KUBECONFIG environment variable).", err))
	}
}

// applyFailed reports a failed apply, saying whether it was rolled back.
func applyFailed(diags *diag.Diagnostics, resourceName string, err error) {
	var rb *kube.RollbackError
	denied := ""
	// hinted adds what to do about a 403 to a message.
	hinted := func(msg string) string { return msg }
	if apierrors.IsForbidden(err) {
		denied = "Permission denied: "
		hinted = func(msg string) string { return strings.TrimSuffix(msg, ".") + ". " + permissionHint }
	}
	switch {
	case errors.As(err, &rb) && rb.RollbackErr != nil:
		diags.AddError(denied+"Apply failed and could not be rolled back",
			hinted(fmt.Sprintf("%s: %v", resourceName, err)))
	case errors.As(err, &rb):
		diags.AddError(denied+"Apply failed; the change was rolled back",
			hinted(fmt.Sprintf("%s: %v. Terraform state still records the previous revision.", resourceName, err)))
	default:
		diags.AddError(denied+"Apply failed", hinted(fmt.Sprintf("%s: %v", resourceName, err)))
	}
}

// permissionHint says what to do about a 403, whose message (the API
// server's) names the user, verb, resource, group and namespace.
const permissionHint = "The identity the provider authenticates as lacks this permission: grant that verb on that resource (in that namespace) to it. The least-privilege roles for each resource type are in examples/rbac, and docs/guides/least-privilege.md says how to bind them."

// kubeFailed reports any other engine failure; engine errors name the
// object (Kind/namespace/name) themselves.
func kubeFailed(diags *diag.Diagnostics, what string, err error) {
	diags.AddError(what+" failed", err.Error())
}
