package istio

import (
	"fmt"
	"slices"
	"strconv"

	securityapi "istio.io/api/security/v1beta1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/gatewayapi"
)

const authzResource = "mesh_authorization"

// ParseAuthorization is the inverse of RenderAuthorization, for terraform
// import: it decodes one live AuthorizationPolicy into the struct
// RenderAuthorization builds, rebuilds the Normalize()d intent, and renders
// it again to prove that nothing was lost (the first field not covered is
// the error). A selector reads as target.workload_selector; targetRefs to one
// Service as target.service and the istio-ambient target. legacy says the
// cluster renders service accounts as principals (Istio < 1.25, see
// mesh.AuthzCluster): principals "cluster.local/ns/<ns>/sa/<sa>" then read
// back as service_accounts, as they were rendered.
func ParseAuthorization(obj *unstructured.Unstructured, target mesh.Target, legacy bool) (mesh.Authorization, error) {
	// The spec first, strictly: Decode reads it leniently.
	var ap securityv1.AuthorizationPolicy
	if err := gatewayapi.DecodeProto(obj, authzResource, "spec", &ap.Spec); err != nil {
		return mesh.Authorization{}, err
	}
	if err := gatewayapi.Decode(obj, authzResource, &ap); err != nil {
		return mesh.Authorization{}, err
	}
	spec := &ap.Spec
	a := mesh.Authorization{
		Name: ap.Name, Namespace: ap.Namespace, Target: target,
		Action:         mesh.AuthzAction(spec.GetAction().String()),
		CustomProvider: spec.GetProvider().GetName(),
		DryRun:         ap.Annotations[mesh.AnnotationIstioDryRun] == "true",
	}
	a.Cluster.LegacyPrincipals = legacy
	if err := authzBinding(obj, spec, &a); err != nil {
		return a, err
	}
	switch rules := spec.GetRules(); {
	case rules == nil && a.Action == mesh.AuthzAllow:
		a.DenyAll = true
	case len(rules) == 1 && isEmptyRule(rules[0]) && a.Action == mesh.AuthzAllow:
		a.AllowAll = true
	default:
		for i, r := range rules {
			rule, err := authzRule(obj, fmt.Sprintf("spec.rules[%d]", i), r, legacy)
			if err != nil {
				return a, err
			}
			a.Rules = append(a.Rules, rule)
		}
	}
	a.Normalize()
	rendered, err := RenderAuthorization(a)
	if err != nil {
		return a, fmt.Errorf("%s: %w", gatewayapi.Describe(obj), err)
	}
	return a, gatewayapi.Covered(obj, &ap, rendered[0], authzResource, "spec")
}

// authzBinding reads targetRefs or the selector.
func authzBinding(obj *unstructured.Unstructured, spec *securityapi.AuthorizationPolicy, a *mesh.Authorization) error {
	if refs := spec.GetTargetRefs(); len(refs) > 0 {
		if ref := refs[0]; len(refs) != 1 || ref.GetKind() != "Service" || (ref.GetGroup() != "" && ref.GetGroup() != "core") {
			return gatewayapi.NotLossless(obj, "spec.targetRefs", "must be one Service; mesh_authorization attaches to its target.service only")
		}
		a.Workload.Service = refs[0].GetName()
		a.Target = mesh.TargetIstioAmbient
		return nil
	}
	a.Workload.Selector = spec.GetSelector().GetMatchLabels()
	if len(a.Workload.Selector) == 0 {
		return gatewayapi.NotLossless(obj, "spec.selector.matchLabels", "is empty; a namespace-wide policy has no mesh_authorization target")
	}
	return nil
}

func isEmptyRule(r *securityapi.Rule) bool {
	return len(r.GetFrom())+len(r.GetTo())+len(r.GetWhen()) == 0
}

func authzRule(obj *unstructured.Unstructured, field string, r *securityapi.Rule, legacy bool) (mesh.AuthzRule, error) {
	var rule mesh.AuthzRule
	for _, f := range r.GetFrom() {
		src := f.GetSource()
		s := mesh.AuthzSource{
			ServiceAccounts: src.GetServiceAccounts(), Namespaces: src.GetNamespaces(),
			IPBlocks: src.GetIpBlocks(), Principals: src.GetPrincipals(),
		}
		if slices.Equal(s.Principals, []string{authenticatedPrincipal}) {
			s.Principals, s.Authenticated = nil, true
		}
		if legacy {
			s.ServiceAccounts, s.Principals = legacyServiceAccounts(s.ServiceAccounts, s.Principals)
		}
		rule.From = append(rule.From, s)
	}
	for j, t := range r.GetTo() {
		op := t.GetOperation()
		o := mesh.AuthzOperation{Methods: op.GetMethods(), Paths: op.GetPaths()}
		for _, p := range op.GetPorts() {
			n, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return rule, gatewayapi.NotLossless(obj, fmt.Sprintf("%s.to[%d].operation.ports", field, j), "holds %q, not a port number", p)
			}
			o.Ports = append(o.Ports, n)
		}
		rule.To = append(rule.To, o)
	}
	for _, c := range r.GetWhen() {
		rule.When = append(rule.When, mesh.AuthzCondition{Key: c.GetKey(), Values: c.GetValues()})
	}
	return rule, nil
}

// legacyServiceAccounts moves the "cluster.local/ns/<ns>/sa/<sa>" principals
// into the service accounts, where the legacy rendering took them from.
func legacyServiceAccounts(sas, principals []string) ([]string, []string) {
	var rest []string
	for _, p := range principals {
		if sa, ok := mesh.PrincipalServiceAccount(p); ok {
			sas = append(sas, sa)
		} else {
			rest = append(rest, p)
		}
	}
	return sas, rest
}
