package linkerd

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
	"github.com/meshform/terraform-provider-mesh/internal/mesh/gatewayapi"
)

// ProbeNetworks are policyController.probeNetworks' defaults: kubelet
// probes come from the node, whatever its address.
var ProbeNetworks = []string{"0.0.0.0/0", "::/0"}

// AnnotationAuthorizationRules carries the rules of an authorization on its
// Servers: the compiled objects (one policy per source and port) cannot be
// read back into rules unambiguously, and terraform import needs them.
const AnnotationAuthorizationRules = "mesh.terraform.io/authorization-rules"

// RenderAuthorization renders a Normalize()d authorization as Linkerd
// policy: a Server per port, then the authentications, the inbound
// HTTPRoutes and the AuthorizationPolicies, prerequisites first.
//
// Linkerd ORs AuthorizationPolicies on one target and ANDs the
// authentications inside one, so each `from` source becomes one
// AuthorizationPolicy per port, requiring its MeshTLSAuthentication and/or
// NetworkAuthentication. On a port where any rule has methods or paths,
// every rule gets an HTTPRoute (a request that matches no route of a Server
// is refused), and the pods' httpGet probe paths get a route authorized for
// every network, since routes remove Linkerd's automatic probe
// authorization.
func RenderAuthorization(a mesh.Authorization) ([]*unstructured.Unstructured, error) {
	rulesJSON, err := rulesAnnotation(a)
	if err != nil {
		return nil, err
	}
	ports := a.ServerPorts()
	if len(ports) == 0 {
		return nil, fmt.Errorf("no Server ports: set target.ports, or target.service to a Service with ports")
	}
	if len(a.Cluster.Selector) == 0 {
		return nil, fmt.Errorf("the pods of %s/%s are not known: the Service's selector was not looked up", a.Namespace, a.Workload.Service)
	}
	r := authzRenderer{a: a}
	for _, p := range ports {
		r.add(r.server(p, rulesJSON))
	}
	if !a.AllowAll && !a.DenyAll {
		r.rules(ports)
	}
	if r.err != nil {
		return nil, r.err
	}
	// Prerequisites first: what a policy refers to exists before it.
	return slices.Concat(r.servers, r.authns, r.routes, r.policies), nil
}

type authzRenderer struct {
	a                                 mesh.Authorization
	servers, authns, routes, policies []*unstructured.Unstructured
	allNetworks                       bool // the any-source NetworkAuthentication is rendered
	err                               error
}

func (r *authzRenderer) add(obj any) {
	if r.err != nil {
		return
	}
	u, err := gatewayapi.ToUnstructured(obj)
	if err != nil {
		r.err = err
		return
	}
	switch u.GetKind() {
	case ServerKind:
		r.servers = append(r.servers, u)
	case MeshTLSAuthKind, NetworkAuthKind:
		r.authns = append(r.authns, u)
	case mesh.GVKHTTPRoute.Kind:
		r.routes = append(r.routes, u)
	default:
		r.policies = append(r.policies, u)
	}
}

func (r *authzRenderer) meta(name string) metav1.ObjectMeta {
	return gatewayapi.ObjectMeta(name, r.a.Namespace, r.a.Owner)
}

func (r *authzRenderer) name(parts ...string) string {
	return strings.Join(append([]string{r.a.Name}, parts...), "-")
}

func (r *authzRenderer) server(port intstr.IntOrString, rulesJSON string) *Server {
	s := &Server{
		TypeMeta:   metav1.TypeMeta{APIVersion: ServerAPIVersion, Kind: ServerKind},
		ObjectMeta: r.meta(r.serverName(port)),
		Spec: ServerSpec{
			PodSelector: &metav1.LabelSelector{MatchLabels: r.a.Cluster.Selector},
			Port:        port,
		},
	}
	// The CRD's default (deny) is spelled out too, so that the provider owns
	// the field and an out-of-band switch to a laxer policy is drift.
	switch {
	case r.a.AllowAll:
		s.Spec.AccessPolicy = AllUnauthenticated
	case r.a.DryRun || r.a.Action == mesh.AuthzAudit:
		s.Spec.AccessPolicy = Audit
	default:
		s.Spec.AccessPolicy = Deny
	}
	s.Annotations = map[string]string{AnnotationAuthorizationRules: rulesJSON}
	return s
}

func (r *authzRenderer) serverName(port intstr.IntOrString) string {
	return r.name(port.String())
}

// rules renders the rules' authentications, routes and policies.
func (r *authzRenderer) rules(ports []intstr.IntOrString) {
	httpPorts := map[string]bool{}
	for _, p := range ports {
		httpPorts[p.String()] = r.portHasHTTP(p)
	}
	for i, rule := range r.a.Rules {
		sources := r.sources(i, rule)
		for _, p := range ports {
			ops, applies := relevantOps(rule, p)
			if !applies {
				continue
			}
			target := Ref{Group: PolicyGroup, Kind: ServerKind, Name: r.serverName(p)}
			if httpPorts[p.String()] {
				routeName := r.name(fmt.Sprintf("r%d", i), p.String())
				r.add(r.route(routeName, p, routeMatches(ops)))
				target = Ref{Group: mesh.GroupGatewayAPI, Kind: mesh.GVKHTTPRoute.Kind, Name: routeName}
			}
			for _, s := range sources {
				r.add(r.policy(s.name+"-"+p.String(), target, s.refs))
			}
		}
	}
	for _, p := range ports {
		if paths := r.a.Cluster.ProbePaths[p.String()]; httpPorts[p.String()] && len(paths) > 0 {
			r.probes(p, paths)
		}
	}
}

// portHasHTTP reports whether any rule has methods or paths on port p.
func (r *authzRenderer) portHasHTTP(p intstr.IntOrString) bool {
	for _, rule := range r.a.Rules {
		ops, applies := relevantOps(rule, p)
		if applies && slices.ContainsFunc(ops, isHTTP) {
			return true
		}
	}
	return false
}

func isHTTP(op mesh.AuthzOperation) bool { return len(op.Methods)+len(op.Paths) > 0 }

// relevantOps returns the operations of rule that apply on port p (nil
// with applies=true: the rule has no `to`, so it applies everywhere).
func relevantOps(rule mesh.AuthzRule, p intstr.IntOrString) ([]mesh.AuthzOperation, bool) {
	if len(rule.To) == 0 {
		return nil, true
	}
	var out []mesh.AuthzOperation
	for _, op := range rule.To {
		if len(op.Ports) == 0 || (p.Type == intstr.Int && slices.Contains(op.Ports, int64(p.IntValue()))) {
			out = append(out, op)
		}
	}
	return out, len(out) > 0
}

// authzSource is one `from` source: its name and required authentications.
type authzSource struct {
	name string
	refs []Ref
}

// sources renders the authentications of rule i and returns what each of
// its policies must require. A rule without `from` allows every source,
// which Linkerd spells as a NetworkAuthentication over every network.
func (r *authzRenderer) sources(i int, rule mesh.AuthzRule) []authzSource {
	if len(rule.From) == 0 {
		return []authzSource{{name: r.name(fmt.Sprintf("r%d", i), "any"), refs: []Ref{r.allNetworksRef()}}}
	}
	out := make([]authzSource, len(rule.From))
	for j, s := range rule.From {
		name := r.name(fmt.Sprintf("r%d", i), fmt.Sprintf("s%d", j))
		out[j] = authzSource{name: name}
		if mtls := meshTLS(s); mtls != nil {
			r.add(&MeshTLSAuthentication{
				TypeMeta:   metav1.TypeMeta{APIVersion: PolicyAPIVersion, Kind: MeshTLSAuthKind},
				ObjectMeta: r.meta(name),
				Spec:       *mtls,
			})
			out[j].refs = append(out[j].refs, Ref{Group: PolicyGroup, Kind: MeshTLSAuthKind, Name: name})
		}
		if len(s.IPBlocks) > 0 {
			r.add(r.networkAuthn(name, s.IPBlocks))
			out[j].refs = append(out[j].refs, Ref{Group: PolicyGroup, Kind: NetworkAuthKind, Name: name})
		}
	}
	return out
}

// meshTLS maps one identity kind (validation allows only one per source).
func meshTLS(s mesh.AuthzSource) *MeshTLSAuthenticationSpec {
	switch {
	case s.Authenticated:
		return &MeshTLSAuthenticationSpec{Identities: []string{"*"}}
	case len(s.ServiceAccounts) > 0:
		spec := &MeshTLSAuthenticationSpec{}
		for _, sa := range s.ServiceAccounts {
			ns, name, _ := strings.Cut(sa, "/")
			spec.IdentityRefs = append(spec.IdentityRefs, Ref{Kind: "ServiceAccount", Name: name, Namespace: ns})
		}
		return spec
	case len(s.Namespaces) > 0:
		spec := &MeshTLSAuthenticationSpec{}
		for _, ns := range s.Namespaces {
			spec.IdentityRefs = append(spec.IdentityRefs, Ref{Kind: "Namespace", Name: ns})
		}
		return spec
	}
	return nil
}

func (r *authzRenderer) networkAuthn(name string, cidrs []string) *NetworkAuthentication {
	n := &NetworkAuthentication{
		TypeMeta:   metav1.TypeMeta{APIVersion: PolicyAPIVersion, Kind: NetworkAuthKind},
		ObjectMeta: r.meta(name),
	}
	for _, c := range cidrs {
		n.Spec.Networks = append(n.Spec.Networks, Network{Cidr: c})
	}
	return n
}

// allNetworksRef renders, once, the NetworkAuthentication that any client
// satisfies (rules without `from`, and probes).
func (r *authzRenderer) allNetworksRef() Ref {
	name := r.name("all-networks")
	if !r.allNetworks {
		r.allNetworks = true
		r.add(r.networkAuthn(name, ProbeNetworks))
	}
	return Ref{Group: PolicyGroup, Kind: NetworkAuthKind, Name: name}
}

func (r *authzRenderer) policy(name string, target Ref, refs []Ref) *AuthorizationPolicy {
	return &AuthorizationPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: PolicyAPIVersion, Kind: AuthzPolicyKind},
		ObjectMeta: r.meta(name),
		Spec:       AuthorizationPolicySpec{TargetRef: target, RequiredAuthenticationRefs: refs},
	}
}

// route is an inbound HTTPRoute on the port's Server.
func (r *authzRenderer) route(name string, port intstr.IntOrString, matches []gwv1.HTTPRouteMatch) *gwv1.HTTPRoute {
	group, kind := gwv1.Group(PolicyGroup), gwv1.Kind(ServerKind)
	return &gwv1.HTTPRoute{
		TypeMeta:   gatewayapi.TypeMeta(mesh.GVKHTTPRoute),
		ObjectMeta: r.meta(name),
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{
				Group: &group, Kind: &kind, Name: gwv1.ObjectName(r.serverName(port)),
			}}},
			Rules: []gwv1.HTTPRouteRule{{Matches: matches}},
		},
	}
}

// probes authorizes the kubelet's probe paths on port p from every network.
func (r *authzRenderer) probes(p intstr.IntOrString, paths []string) {
	name := r.name("probes", p.String())
	get := gwv1.HTTPMethodGet
	var matches []gwv1.HTTPRouteMatch
	for _, path := range paths {
		matches = append(matches, gwv1.HTTPRouteMatch{Path: pathMatch(gwv1.PathMatchExact, path), Method: &get})
	}
	r.add(r.route(name, p, matches))
	target := Ref{Group: mesh.GroupGatewayAPI, Kind: mesh.GVKHTTPRoute.Kind, Name: name}
	r.add(r.policy(name, target, []Ref{r.allNetworksRef()}))
}

// routeMatches ORs the operations; within one, methods × paths. An
// operation without methods or paths (or no operations) matches every path.
func routeMatches(ops []mesh.AuthzOperation) []gwv1.HTTPRouteMatch {
	var out []gwv1.HTTPRouteMatch
	if len(ops) == 0 {
		return []gwv1.HTTPRouteMatch{{Path: pathMatch(gwv1.PathMatchPathPrefix, "/")}}
	}
	for _, op := range ops {
		paths := op.Paths
		if len(paths) == 0 {
			paths = []string{"*"}
		}
		methods := op.Methods
		if len(methods) == 0 {
			methods = []string{""}
		}
		for _, m := range methods {
			for _, p := range paths {
				match := gwv1.HTTPRouteMatch{Path: authzPath(p)}
				if m != "" {
					method := gwv1.HTTPMethod(m)
					match.Method = &method
				}
				out = append(out, match)
			}
		}
	}
	return out
}

// authzPath maps Istio-style path matching onto Gateway API. Prefixes and
// suffixes become anchored regular expressions: Gateway API's PathPrefix
// matches whole segments, so "/api/*" as PathPrefix "/api" would also allow
// "/api" itself.
func authzPath(p string) *gwv1.HTTPPathMatch {
	switch mesh.AuthzPathKindOf(p) {
	case mesh.AuthzPathPresence:
		return pathMatch(gwv1.PathMatchPathPrefix, "/")
	case mesh.AuthzPathPrefix:
		return pathMatch(gwv1.PathMatchRegularExpression, "^"+regexp.QuoteMeta(strings.TrimSuffix(p, "*"))+".*$")
	case mesh.AuthzPathSuffix:
		return pathMatch(gwv1.PathMatchRegularExpression, "^.*"+regexp.QuoteMeta(strings.TrimPrefix(p, "*"))+"$")
	case mesh.AuthzPathRegex:
		return pathMatch(gwv1.PathMatchRegularExpression, strings.TrimPrefix(p, "~"))
	}
	return pathMatch(gwv1.PathMatchExact, p)
}

func pathMatch(t gwv1.PathMatchType, v string) *gwv1.HTTPPathMatch {
	return &gwv1.HTTPPathMatch{Type: &t, Value: &v}
}
