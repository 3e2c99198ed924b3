package istio

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	securityapi "istio.io/api/security/v1beta1"
	typeapi "istio.io/api/type/v1beta1"
	securityv1 "istio.io/client-go/pkg/apis/security/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/gatewayapi"
)

// authenticatedPrincipal matches any mesh identity.
const authenticatedPrincipal = "*"

var authzActions = map[mesh.AuthzAction]securityapi.AuthorizationPolicy_Action{
	mesh.AuthzAllow:  securityapi.AuthorizationPolicy_ALLOW,
	mesh.AuthzDeny:   securityapi.AuthorizationPolicy_DENY,
	mesh.AuthzAudit:  securityapi.AuthorizationPolicy_AUDIT,
	mesh.AuthzCustom: securityapi.AuthorizationPolicy_CUSTOM,
}

// RenderAuthorization renders a Normalize()d authorization as one
// security.istio.io/v1 AuthorizationPolicy. It is bound by selector (the
// sidecar or ztunnel of the selected pods; a.Cluster.Selector holds the
// Service's selector when target.service is set), or on istio-ambient with
// HTTP attributes, AUDIT or CUSTOM by targetRefs to the Service (its
// waypoint). Service accounts render as source.serviceAccounts, or as
// principals when a.Cluster.LegacyPrincipals (Istio < 1.25).
func RenderAuthorization(a mesh.Authorization) ([]*unstructured.Unstructured, error) {
	spec := &securityapi.AuthorizationPolicy{Action: authzActions[a.Action]}
	if a.Action == mesh.AuthzCustom {
		spec.ActionDetail = &securityapi.AuthorizationPolicy_Provider{
			Provider: &securityapi.AuthorizationPolicy_ExtensionProvider{Name: a.CustomProvider},
		}
	}
	if a.UsesWaypoint() {
		spec.TargetRefs = []*typeapi.PolicyTargetReference{{Kind: "Service", Name: a.Workload.Service}}
	} else {
		if len(a.Cluster.Selector) == 0 {
			return nil, fmt.Errorf("the pods of %s/%s are not known: the Service's selector was not looked up", a.Namespace, a.Workload.Service)
		}
		spec.Selector = &typeapi.WorkloadSelector{MatchLabels: a.Cluster.Selector}
	}
	switch {
	case a.AllowAll:
		spec.Rules = []*securityapi.Rule{{}}
	case a.DenyAll:
		// No rules: an ALLOW policy that matches nothing.
	default:
		rules, err := authzRules(a.Rules, a.Cluster.LegacyPrincipals)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", a.Namespace, a.Name, err)
		}
		spec.Rules = rules
	}
	meta := gatewayapi.ObjectMeta(a.Name, a.Namespace, a.Owner)
	if a.DryRun {
		meta.Annotations = map[string]string{mesh.AnnotationIstioDryRun: "true"}
	}
	ap := &securityv1.AuthorizationPolicy{
		TypeMeta:   gatewayapi.TypeMeta(mesh.GVKIstioAuthorizationPolicy),
		ObjectMeta: meta,
	}
	ap.Spec.Selector, ap.Spec.TargetRefs, ap.Spec.Rules = spec.Selector, spec.TargetRefs, spec.Rules
	ap.Spec.Action, ap.Spec.ActionDetail = spec.Action, spec.ActionDetail
	obj, err := gatewayapi.ToUnstructured(ap)
	if err != nil {
		return nil, err
	}
	// ALLOW is the protobuf zero value, which JSON drops. Spell it out, so
	// that the provider owns the field and an out-of-band switch to DENY
	// shows up as drift.
	if _, ok := obj.Object["spec"].(map[string]any)["action"]; !ok {
		_ = unstructured.SetNestedField(obj.Object, "ALLOW", "spec", "action")
	}
	if a.UsesWaypoint() {
		// The core group is spelled out, as Istio's docs do; protobuf JSON
		// drops empty strings.
		refs, _, _ := unstructured.NestedSlice(obj.Object, "spec", "targetRefs")
		refs[0].(map[string]any)["group"] = ""
		_ = unstructured.SetNestedSlice(obj.Object, refs, "spec", "targetRefs")
	}
	return []*unstructured.Unstructured{obj}, nil
}

func authzRules(rules []mesh.AuthzRule, legacy bool) ([]*securityapi.Rule, error) {
	out := make([]*securityapi.Rule, len(rules))
	for i, r := range rules {
		rule := &securityapi.Rule{}
		for j, s := range r.From {
			src, err := authzSource(s, legacy)
			if err != nil {
				return nil, fmt.Errorf("rules[%d].from[%d]: %w", i, j, err)
			}
			rule.From = append(rule.From, &securityapi.Rule_From{Source: src})
		}
		for _, op := range r.To {
			rule.To = append(rule.To, &securityapi.Rule_To{Operation: &securityapi.Operation{
				Ports: portStrings(op.Ports), Methods: op.Methods, Paths: op.Paths,
			}})
		}
		for _, c := range r.When {
			rule.When = append(rule.When, &securityapi.Condition{Key: c.Key, Values: c.Values})
		}
		out[i] = rule
	}
	return out, nil
}

// authzSource renders service accounts as serviceAccounts (Istio ≥ 1.25),
// or with legacy as principals "cluster.local/ns/<ns>/sa/<sa>" ahead of the
// source's own principals (Istio < 1.25 has no serviceAccounts). authenticated
// is principals ["*"], left out when the source lists principals, which
// already require a mesh identity (ANDing both is the principals alone;
// ORing them in one list would allow any identity).
func authzSource(s mesh.AuthzSource, legacy bool) (*securityapi.Source, error) {
	src := &securityapi.Source{Namespaces: s.Namespaces, IpBlocks: s.IPBlocks, Principals: s.Principals}
	switch {
	case legacy && len(s.ServiceAccounts) > 0:
		src.Principals = nil
		for _, sa := range s.ServiceAccounts {
			src.Principals = appendNew(src.Principals, mesh.ServiceAccountPrincipal(sa))
		}
		for _, p := range s.Principals {
			src.Principals = appendNew(src.Principals, p)
		}
	case len(s.ServiceAccounts) > 0:
		// The CRD's CEL rule rejects this object; validation
		// (MESH-AUTHZ-006) normally stops it first.
		if len(s.Namespaces) > 0 || len(s.Principals) > 0 || s.Authenticated {
			return nil, errors.New("cannot set serviceAccounts with namespaces or principals (MESH-AUTHZ-006)")
		}
		src.ServiceAccounts = s.ServiceAccounts
	}
	if s.Authenticated && len(src.Principals) == 0 {
		src.Principals = []string{authenticatedPrincipal}
	}
	return src, nil
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// portStrings: Istio operation ports are strings.
func portStrings(ports []int64) []string {
	var out []string
	for _, p := range ports {
		out = append(out, strconv.FormatInt(p, 10))
	}
	return out
}
