package render

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/istio"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/linkerd"
)

// Authorization renders a Normalize()d authorization for its target, with
// a.Cluster filled by the provider's lookups.
func Authorization(a mesh.Authorization) ([]*unstructured.Unstructured, error) {
	switch a.Target {
	case mesh.TargetIstioSidecar, mesh.TargetIstioAmbient:
		return istio.RenderAuthorization(a)
	case mesh.TargetLinkerd:
		intent, err := json.Marshal(linkerdIntentOf(a))
		if err != nil {
			return nil, err
		}
		return linkerd.RenderAuthorization(a, string(intent))
	}
	return nil, fmt.Errorf("unknown target %q: use one of %q", a.Target, mesh.Targets)
}

// linkerdIntent is what the Linkerd Servers carry in their
// mesh.terraform.io/authorization-rules annotation, in the schema's words,
// so that an import can rebuild the rules the compiled objects encode.
type linkerdIntent struct {
	Service  string           `json:"service,omitempty"`
	Ports    []int64          `json:"ports,omitempty"`
	Action   mesh.AuthzAction `json:"action"`
	DenyAll  bool             `json:"deny_all,omitempty"`
	AllowAll bool             `json:"allow_all,omitempty"`
	DryRun   bool             `json:"dry_run,omitempty"`
	Rules    []linkerdRule    `json:"rules,omitempty"`
}

type linkerdRule struct {
	From []linkerdSource    `json:"from,omitempty"`
	To   []linkerdOperation `json:"to,omitempty"`
}

type linkerdSource struct {
	ServiceAccounts []string `json:"service_accounts,omitempty"`
	Namespaces      []string `json:"namespaces,omitempty"`
	Authenticated   bool     `json:"authenticated,omitempty"`
	IPBlocks        []string `json:"ip_blocks,omitempty"`
}

type linkerdOperation struct {
	Ports   []int64  `json:"ports,omitempty"`
	Methods []string `json:"methods,omitempty"`
	Paths   []string `json:"paths,omitempty"`
}

func linkerdIntentOf(a mesh.Authorization) linkerdIntent {
	li := linkerdIntent{Service: a.Workload.Service, Ports: a.Workload.Ports, Action: a.Action,
		DenyAll: a.DenyAll, AllowAll: a.AllowAll, DryRun: a.DryRun}
	for _, r := range a.Rules {
		lr := linkerdRule{}
		for _, s := range r.From {
			lr.From = append(lr.From, linkerdSource{s.ServiceAccounts, s.Namespaces, s.Authenticated, s.IPBlocks})
		}
		for _, op := range r.To {
			lr.To = append(lr.To, linkerdOperation{op.Ports, op.Methods, op.Paths})
		}
		li.Rules = append(li.Rules, lr)
	}
	return li
}

// ParseAuthorization is the inverse of Authorization, for terraform import.
// For Istio objs is one AuthorizationPolicy: a selector reads as
// target.workload_selector, targetRefs to a Service as target.service (and
// the istio-ambient target). For Linkerd objs are the objects carrying the
// resource's owner label; the rules come from the Servers' annotation and
// the pod selector from their podSelector. What the resource cannot
// represent is an error naming the object and field. legacyPrincipals says
// the cluster renders service accounts as principals (Istio < 1.25, see
// mesh.AuthzCluster): principals "cluster.local/ns/<ns>/sa/<sa>" then read
// back as service_accounts, as they were rendered.
func ParseAuthorization(objs []*unstructured.Unstructured, target mesh.Target, legacyPrincipals bool) (mesh.Authorization, error) {
	if target == mesh.TargetLinkerd {
		return parseLinkerdAuthorization(objs)
	}
	var policies []*unstructured.Unstructured
	for _, obj := range objs {
		if obj.GroupVersionKind().GroupKind() == mesh.GVKIstioAuthorizationPolicy.GroupKind() {
			policies = append(policies, obj)
		}
	}
	if len(policies) != 1 {
		return mesh.Authorization{}, fmt.Errorf("an Istio authorization is imported from exactly one AuthorizationPolicy (%s), got %d", mesh.GroupIstioSecurity, len(policies))
	}
	return parseAuthorizationPolicy(policies[0], target, legacyPrincipals)
}

func parseAuthorizationPolicy(obj *unstructured.Unstructured, target mesh.Target, legacy bool) (mesh.Authorization, error) {
	a := mesh.Authorization{Name: obj.GetName(), Namespace: obj.GetNamespace(), Target: target}
	a.Cluster.LegacyPrincipals = legacy
	spec, err := (&parser{}).spec(obj)
	if err != nil {
		return a, err
	}
	if err := authzCheckKeys(obj, "spec", spec, "selector", "targetRefs", "action", "provider", "rules"); err != nil {
		return a, err
	}
	a.DryRun = obj.GetAnnotations()[mesh.AnnotationIstioDryRun] == "true"
	if err := parseAuthzBinding(obj, spec, &a); err != nil {
		return a, err
	}
	action, _ := spec["action"].(string)
	a.Action = mesh.AuthzAction(action)
	if action == "" {
		a.Action = mesh.AuthzAllow
	}
	if !slices.Contains(mesh.AuthzActionValues, a.Action) {
		return a, notLossless(obj, "spec.action", "is %q, not one of %v", action, mesh.AuthzActionValues)
	}
	a.CustomProvider, _, _ = unstructured.NestedString(spec, "provider", "name")
	rules, _, err := unstructured.NestedSlice(spec, "rules")
	if err != nil {
		return a, malformed(obj, "spec.rules", spec["rules"], "a list")
	}
	switch {
	case rules == nil && a.Action == mesh.AuthzAllow:
		a.DenyAll = true
	case len(rules) == 1 && len(asMap(rules[0])) == 0 && a.Action == mesh.AuthzAllow:
		a.AllowAll = true
	default:
		a.Rules, err = parseAuthzRules(obj, rules, legacy)
	}
	a.Normalize()
	return a, err
}

// parseAuthzBinding reads selector or targetRefs.
func parseAuthzBinding(obj *unstructured.Unstructured, spec map[string]any, a *mesh.Authorization) error {
	refs, _, _ := unstructured.NestedSlice(spec, "targetRefs")
	if len(refs) > 0 {
		ref, _ := refs[0].(map[string]any)
		group, _ := ref["group"].(string)
		if len(refs) != 1 || ref["kind"] != "Service" || (group != "" && group != "core") {
			return notLossless(obj, "spec.targetRefs", "must be one Service; mesh_authorization attaches to its target.service only")
		}
		a.Workload.Service, _ = ref["name"].(string)
		a.Target = mesh.TargetIstioAmbient
		return nil
	}
	sel, _, err := unstructured.NestedStringMap(spec, "selector", "matchLabels")
	if err != nil || len(sel) == 0 {
		return notLossless(obj, "spec.selector.matchLabels", "is empty; a namespace-wide policy has no mesh_authorization target")
	}
	a.Workload.Selector = sel
	return nil
}

func parseAuthzRules(obj *unstructured.Unstructured, rules []any, legacy bool) ([]mesh.AuthzRule, error) {
	out := make([]mesh.AuthzRule, len(rules))
	for i, v := range rules {
		field := fmt.Sprintf("spec.rules[%d]", i)
		rule, err := object(obj, field, v)
		if err != nil {
			return nil, err
		}
		if err := authzCheckKeys(obj, field, rule, "from", "to", "when"); err != nil {
			return nil, err
		}
		if out[i].From, err = parseAuthzSources(obj, field, rule["from"], legacy); err != nil {
			return nil, err
		}
		if out[i].To, err = parseAuthzOperations(obj, field, rule["to"]); err != nil {
			return nil, err
		}
		if out[i].When, err = parseAuthzConditions(obj, field, rule["when"]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func parseAuthzSources(obj *unstructured.Unstructured, field string, v any, legacy bool) ([]mesh.AuthzSource, error) {
	var out []mesh.AuthzSource
	for j, f := range authzList(v) {
		at := fmt.Sprintf("%s.from[%d].source", field, j)
		src, _, _ := unstructured.NestedMap(asMap(f), "source")
		if err := authzCheckKeys(obj, at, src, "serviceAccounts", "namespaces", "ipBlocks", "principals"); err != nil {
			return nil, err
		}
		s := mesh.AuthzSource{
			ServiceAccounts: authzStrings(src["serviceAccounts"]),
			Namespaces:      authzStrings(src["namespaces"]),
			IPBlocks:        authzStrings(src["ipBlocks"]),
			Principals:      authzStrings(src["principals"]),
		}
		if slices.Equal(s.Principals, []string{"*"}) {
			s.Principals, s.Authenticated = nil, true
		}
		if legacy {
			s.ServiceAccounts, s.Principals = legacyServiceAccounts(s.ServiceAccounts, s.Principals)
		}
		out = append(out, s)
	}
	return out, nil
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

func parseAuthzOperations(obj *unstructured.Unstructured, field string, v any) ([]mesh.AuthzOperation, error) {
	var out []mesh.AuthzOperation
	for j, t := range authzList(v) {
		at := fmt.Sprintf("%s.to[%d].operation", field, j)
		op, _, _ := unstructured.NestedMap(asMap(t), "operation")
		if err := authzCheckKeys(obj, at, op, "ports", "methods", "paths"); err != nil {
			return nil, err
		}
		o := mesh.AuthzOperation{Methods: authzStrings(op["methods"]), Paths: authzStrings(op["paths"])}
		for _, p := range authzStrings(op["ports"]) {
			n, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return nil, notLossless(obj, at+".ports", "holds %q, not a port number", p)
			}
			o.Ports = append(o.Ports, n)
		}
		out = append(out, o)
	}
	return out, nil
}

func parseAuthzConditions(obj *unstructured.Unstructured, field string, v any) ([]mesh.AuthzCondition, error) {
	var out []mesh.AuthzCondition
	for j, w := range authzList(v) {
		at := fmt.Sprintf("%s.when[%d]", field, j)
		c := asMap(w)
		if err := authzCheckKeys(obj, at, c, "key", "values"); err != nil {
			return nil, err
		}
		key, _ := c["key"].(string)
		out = append(out, mesh.AuthzCondition{Key: key, Values: authzStrings(c["values"])})
	}
	return out, nil
}

// parseLinkerdAuthorization rebuilds the intent from the owned Servers.
func parseLinkerdAuthorization(objs []*unstructured.Unstructured) (mesh.Authorization, error) {
	var server *unstructured.Unstructured
	for _, obj := range objs {
		if obj.GroupVersionKind().Group == linkerd.PolicyGroup && obj.GetKind() == linkerd.ServerKind {
			server = obj
			break
		}
	}
	if server == nil {
		return mesh.Authorization{}, fmt.Errorf("no Server (%s) among the %d objects: a Linkerd authorization is imported from the objects carrying its owner label, Servers first", linkerd.PolicyGroup, len(objs))
	}
	raw, ok := server.GetAnnotations()[linkerd.AnnotationAuthorizationRules]
	if !ok {
		return mesh.Authorization{}, notLossless(server, "metadata.annotations", "lacks %s; only Servers rendered by mesh_authorization can be imported", linkerd.AnnotationAuthorizationRules)
	}
	var li linkerdIntent
	if err := json.Unmarshal([]byte(raw), &li); err != nil {
		return mesh.Authorization{}, notLossless(server, "metadata.annotations["+linkerd.AnnotationAuthorizationRules+"]", "is not valid JSON: %v", err)
	}
	a := mesh.Authorization{
		Namespace: server.GetNamespace(), Target: mesh.TargetLinkerd, // Name: the caller's (Servers are <name>-<port>)
		Workload: mesh.AuthzWorkload{Service: li.Service, Ports: li.Ports},
		Action:   li.Action, DenyAll: li.DenyAll, AllowAll: li.AllowAll, DryRun: li.DryRun,
	}
	if li.Service == "" {
		sel, _, _ := unstructured.NestedStringMap(server.Object, "spec", "podSelector", "matchLabels")
		a.Workload.Selector = sel
	}
	for _, r := range li.Rules {
		rule := mesh.AuthzRule{}
		for _, s := range r.From {
			rule.From = append(rule.From, mesh.AuthzSource{ServiceAccounts: s.ServiceAccounts, Namespaces: s.Namespaces, Authenticated: s.Authenticated, IPBlocks: s.IPBlocks})
		}
		for _, op := range r.To {
			rule.To = append(rule.To, mesh.AuthzOperation{Ports: op.Ports, Methods: op.Methods, Paths: op.Paths})
		}
		a.Rules = append(a.Rules, rule)
	}
	a.Normalize()
	return a, nil
}

func authzCheckKeys(obj *unstructured.Unstructured, field string, m map[string]any, allowed ...string) error {
	for _, k := range sortedKeys(m) {
		if !slices.Contains(allowed, k) {
			return notLossless(obj, field+"."+k,
				"is set, and mesh_authorization has no attribute for it; remove it from the object before importing, or keep managing the object outside Terraform")
		}
	}
	return nil
}

func authzList(v any) []any {
	l, _ := v.([]any)
	return l
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func authzStrings(v any) []string {
	var out []string
	for _, s := range authzList(v) {
		if str, ok := s.(string); ok {
			out = append(out, str)
		}
	}
	return out
}
