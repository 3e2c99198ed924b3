package linkerd

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/gatewayapi"
)

const authzResource = "mesh_authorization"

// authzIntent is what the Servers carry in their AnnotationAuthorizationRules
// annotation, in the schema's words: the compiled objects (one policy per
// source and port) cannot be read back into rules unambiguously.
type authzIntent struct {
	Service  string           `json:"service,omitempty"`
	Ports    []int64          `json:"ports,omitempty"`
	Action   mesh.AuthzAction `json:"action"`
	DenyAll  bool             `json:"deny_all,omitempty"`
	AllowAll bool             `json:"allow_all,omitempty"`
	DryRun   bool             `json:"dry_run,omitempty"`
	Rules    []authzRule      `json:"rules,omitempty"`
}

type authzRule struct {
	From []authzFrom      `json:"from,omitempty"`
	To   []authzOperation `json:"to,omitempty"`
}

type authzFrom struct {
	ServiceAccounts []string `json:"service_accounts,omitempty"`
	Namespaces      []string `json:"namespaces,omitempty"`
	Authenticated   bool     `json:"authenticated,omitempty"`
	IPBlocks        []string `json:"ip_blocks,omitempty"`
}

type authzOperation struct {
	Ports   []int64  `json:"ports,omitempty"`
	Methods []string `json:"methods,omitempty"`
	Paths   []string `json:"paths,omitempty"`
}

// rulesAnnotation is the annotation's value for a.
func rulesAnnotation(a mesh.Authorization) (string, error) {
	in := authzIntent{Service: a.Workload.Service, Ports: a.Workload.Ports, Action: a.Action,
		DenyAll: a.DenyAll, AllowAll: a.AllowAll, DryRun: a.DryRun}
	for _, r := range a.Rules {
		rule := authzRule{}
		for _, s := range r.From {
			rule.From = append(rule.From, authzFrom{s.ServiceAccounts, s.Namespaces, s.Authenticated, s.IPBlocks})
		}
		for _, op := range r.To {
			rule.To = append(rule.To, authzOperation{op.Ports, op.Methods, op.Paths})
		}
		in.Rules = append(in.Rules, rule)
	}
	data, err := json.Marshal(in)
	return string(data), err
}

// ParseAuthorization is the inverse of RenderAuthorization, for terraform
// import: objs are the live objects carrying the resource's owner label.
// The rules come from the Servers' annotation, the pods from their
// podSelector, the ports from the Servers and the probe paths from the
// probe routes; the intent rebuilt from them is rendered again and every
// rendered object compared with its live one, so that a live object the
// intent does not render, one it renders that is not live, and the first
// field of a spec not covered are each the error.
func ParseAuthorization(objs []*unstructured.Unstructured, name string) (mesh.Authorization, error) {
	live := map[string]*unstructured.Unstructured{}
	var servers []*Server
	for _, obj := range objs {
		live[obj.GetKind()+"/"+obj.GetName()] = obj
		if obj.GroupVersionKind().GroupKind() != mesh.GVKPolicyServer.GroupKind() {
			continue
		}
		srv := &Server{}
		if err := gatewayapi.Decode(obj, authzResource, srv); err != nil {
			return mesh.Authorization{}, err
		}
		servers = append(servers, srv)
	}
	if len(servers) == 0 {
		return mesh.Authorization{}, fmt.Errorf("no Server (%s) among the %d objects: a Linkerd authorization is imported from the objects carrying its owner label, Servers first", PolicyGroup, len(objs))
	}
	first := live[ServerKind+"/"+servers[0].Name]
	raw, ok := servers[0].Annotations[AnnotationAuthorizationRules]
	if !ok {
		return mesh.Authorization{}, gatewayapi.NotLossless(first, "metadata.annotations", "lacks %s; only Servers rendered by mesh_authorization can be imported", AnnotationAuthorizationRules)
	}
	var in authzIntent
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return mesh.Authorization{}, gatewayapi.NotLossless(first, "metadata.annotations["+AnnotationAuthorizationRules+"]", "is not the rules mesh_authorization writes: %v", err)
	}
	a := mesh.Authorization{
		Name: name, Namespace: servers[0].Namespace, Target: mesh.TargetLinkerd,
		Workload: mesh.AuthzWorkload{Service: in.Service, Ports: in.Ports},
		Action:   in.Action, DenyAll: in.DenyAll, AllowAll: in.AllowAll, DryRun: in.DryRun,
	}
	if servers[0].Spec.PodSelector != nil {
		a.Cluster.Selector = servers[0].Spec.PodSelector.MatchLabels
	}
	if in.Service == "" {
		a.Workload.Selector = a.Cluster.Selector
	}
	if len(in.Ports) == 0 {
		for _, srv := range servers { // the Service's target ports
			a.Cluster.ServicePorts = append(a.Cluster.ServicePorts, srv.Spec.Port)
		}
	}
	for _, r := range in.Rules {
		rule := mesh.AuthzRule{}
		for _, s := range r.From {
			rule.From = append(rule.From, mesh.AuthzSource{ServiceAccounts: s.ServiceAccounts, Namespaces: s.Namespaces, Authenticated: s.Authenticated, IPBlocks: s.IPBlocks})
		}
		for _, op := range r.To {
			rule.To = append(rule.To, mesh.AuthzOperation{Ports: op.Ports, Methods: op.Methods, Paths: op.Paths})
		}
		a.Rules = append(a.Rules, rule)
	}
	var err error
	if a.Cluster.ProbePaths, err = probePaths(objs, a); err != nil {
		return a, err
	}
	a.Normalize()
	rendered, err := RenderAuthorization(a)
	if err != nil {
		return a, fmt.Errorf("%s: %w", gatewayapi.Describe(first), err)
	}
	if err := authzCovered(live, rendered); err != nil {
		return a, err
	}
	return a, nil
}

// probePaths reads the paths of the probe routes "<name>-probes-<port>".
func probePaths(objs []*unstructured.Unstructured, a mesh.Authorization) (map[string][]string, error) {
	var out map[string][]string
	prefix := a.Name + "-probes-"
	for _, obj := range objs {
		port, ok := strings.CutPrefix(obj.GetName(), prefix)
		if !ok || obj.GroupVersionKind().GroupKind() != mesh.GVKHTTPRoute.GroupKind() {
			continue
		}
		var route gwv1.HTTPRoute
		if err := gatewayapi.Decode(obj, authzResource, &route); err != nil {
			return nil, err
		}
		for _, rule := range route.Spec.Rules {
			for _, m := range rule.Matches {
				if m.Path != nil && m.Path.Value != nil {
					if out == nil {
						out = map[string][]string{}
					}
					out[port] = append(out[port], *m.Path.Value)
				}
			}
		}
	}
	return out, nil
}

// authzCovered compares the rendered objects with the live ones.
func authzCovered(live map[string]*unstructured.Unstructured, rendered []*unstructured.Unstructured) error {
	seen := map[string]bool{}
	for _, want := range rendered {
		key := want.GetKind() + "/" + want.GetName()
		seen[key] = true
		obj, ok := live[key]
		if !ok {
			return fmt.Errorf("%s %s/%s is not live, and the rules its Servers record render it: importing would create it; re-apply the configuration that wrote them instead of importing", want.GetKind(), want.GetNamespace(), want.GetName())
		}
		typed, err := typedOf(obj)
		if err != nil {
			return err
		}
		if srv, ok := typed.(*Server); ok {
			clearServerDefaults(srv)
		}
		if err := gatewayapi.Covered(obj, typed, want, authzResource, "spec"); err != nil {
			return err
		}
	}
	for key, obj := range live {
		if !seen[key] {
			return fmt.Errorf("%s carries the owner label, and the rules its Servers record do not render it: importing would delete it; remove it or its label first", gatewayapi.Describe(obj))
		}
	}
	return nil
}

// typedOf decodes obj into the struct of its kind.
func typedOf(obj *unstructured.Unstructured) (any, error) {
	var typed any
	switch obj.GetKind() {
	case ServerKind:
		typed = &Server{}
	case MeshTLSAuthKind:
		typed = &MeshTLSAuthentication{}
	case NetworkAuthKind:
		typed = &NetworkAuthentication{}
	case AuthzPolicyKind:
		typed = &AuthorizationPolicy{}
	case mesh.GVKHTTPRoute.Kind:
		typed = &gwv1.HTTPRoute{}
	default:
		return nil, fmt.Errorf("%s is not a kind a Linkerd authorization renders", gatewayapi.Describe(obj))
	}
	return typed, gatewayapi.Decode(obj, authzResource, typed)
}
