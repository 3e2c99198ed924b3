package mesh_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// ordersPolicy is a valid policy letting frontend/web GET /api/* on the
// orders pods; each case edits it.
func ordersPolicy(target mesh.Target, edit func(*mesh.Authorization)) mesh.Authorization {
	a := mesh.Authorization{
		Name: "orders-allow", Namespace: "shop", Target: target,
		Workload: mesh.AuthzWorkload{Selector: map[string]string{"app": "orders"}, Ports: []int64{8080}},
		Rules: []mesh.AuthzRule{{
			From: []mesh.AuthzSource{{ServiceAccounts: []string{"frontend/web"}}},
			To:   []mesh.AuthzOperation{{Ports: []int64{8080}}},
		}},
	}
	if target != mesh.TargetLinkerd {
		a.Workload.Ports = nil
	}
	edit(&a)
	a.Normalize()
	return a
}

func authzFrom(s mesh.AuthzSource) func(*mesh.Authorization) {
	return func(a *mesh.Authorization) { a.Rules[0].From = []mesh.AuthzSource{s} }
}

func authzTo(op mesh.AuthzOperation) func(*mesh.Authorization) {
	return func(a *mesh.Authorization) { a.Rules[0].To = []mesh.AuthzOperation{op} }
}

func authzNoRules(edit func(*mesh.Authorization)) func(*mesh.Authorization) {
	return func(a *mesh.Authorization) {
		a.Rules = nil
		edit(a)
	}
}

const (
	authzRegexDetail  = `rules[0].to[0].paths[0] = %q %s. Istio AuthorizationPolicy paths support exact ("/api", starting with "/"), prefix ("/api/*"), suffix ("*.json") and presence ("*"), not regular expressions or templates; the "~<regex>" form is accepted on linkerd only.`
	authzCustomDetail = "%s is currently not supported with CUSTOM action (%s). Match the identity in a separate ALLOW or DENY policy, or let the external authorizer decide on it, and remove it here."
	authzL7Detail     = "ztunnel does not support HTTP attributes (found: %s). In ambient mode you must use a waypoint proxy to enforce HTTP rules: set target.service (rendered as targetRefs) and bind the Service to a waypoint."
)

func TestAuthorizationValidate(t *testing.T) {
	sidecar, ambient, linkerd := mesh.TargetIstioSidecar, mesh.TargetIstioAmbient, mesh.TargetLinkerd
	none := func(*mesh.Authorization) {}
	tests := []struct {
		name string
		a    mesh.Authorization
		want []finding
	}{
		{"valid sidecar", ordersPolicy(sidecar, none), nil},
		{"valid linkerd", ordersPolicy(linkerd, none), nil},
		{"valid ambient L7 on a service", ordersPolicy(ambient, func(a *mesh.Authorization) {
			a.Workload = mesh.AuthzWorkload{Service: "orders"}
			a.Rules[0].To = []mesh.AuthzOperation{{Methods: []string{"GET"}, Paths: []string{"/api/*"}}}
		}), nil},
		{"valid regex path on linkerd", ordersPolicy(linkerd, authzTo(mesh.AuthzOperation{Paths: []string{"~/v[0-9]+/.*"}})), nil},
		{"valid deny_all", ordersPolicy(sidecar, authzNoRules(func(a *mesh.Authorization) { a.DenyAll = true })), nil},
		{"valid allow_all", ordersPolicy(linkerd, authzNoRules(func(a *mesh.Authorization) { a.AllowAll = true })), nil},
		{"allow without rules", ordersPolicy(sidecar, authzNoRules(none)), []finding{
			errorAt("MESH-AUTHZ-001", "an ALLOW policy without rules matches nothing and denies all traffic to the pods selected by target.workload_selector. Set deny_all = true if that is intended, or allow_all = true to allow everything.", "rules"),
		}},
		{"allow without rules on a service", ordersPolicy(sidecar, authzNoRules(func(a *mesh.Authorization) {
			a.Workload = mesh.AuthzWorkload{Service: "orders"}
		})), []finding{
			errorAt("MESH-AUTHZ-001", "an ALLOW policy without rules matches nothing and denies all traffic to Service shop/orders. Set deny_all = true if that is intended, or allow_all = true to allow everything.", "rules"),
		}},
		{"deny without rules", ordersPolicy(sidecar, authzNoRules(func(a *mesh.Authorization) { a.Action = mesh.AuthzDeny })), []finding{
			errorAt("MESH-AUTHZ-002", "DENY action without rules is meaningless as it will never be triggered, add an empty rule {} if you want it be triggered for every request.", "rules"),
		}},
		{"custom without rules or provider", ordersPolicy(sidecar, authzNoRules(func(a *mesh.Authorization) { a.Action = mesh.AuthzCustom })), []finding{
			errorAt("MESH-AUTHZ-003", "`provider.name` must not be empty: set custom_provider to the name of an extension provider in meshConfig.extensionProviders.", "custom_provider"),
			errorAt("MESH-AUTHZ-002", "CUSTOM action without rules is meaningless as it will never be triggered, add an empty rule {} if you want it be triggered for every request.", "rules"),
		}},
		{"custom_provider without CUSTOM", ordersPolicy(sidecar, func(a *mesh.Authorization) { a.CustomProvider = "ext-authz" }), []finding{
			errorAt("MESH-AUTHZ-003", `custom_provider only applies to action = "CUSTOM"; it is "ALLOW" here. Remove custom_provider or set action = "CUSTOM".`, "custom_provider"),
		}},
		{"spiffe principal", ordersPolicy(sidecar, authzFrom(mesh.AuthzSource{Principals: []string{"spiffe://cluster.local/ns/a/sa/b"}})), []finding{
			errorAt("MESH-AUTHZ-005", `principals use the form <trust-domain>/ns/<namespace>/sa/<service-account> without the "spiffe://" scheme (got "spiffe://cluster.local/ns/a/sa/b"). For example "cluster.local/ns/frontend/sa/web", or use service_accounts = ["frontend/web"].`, "rules", 0, "from", 0, "principals", 0),
		}},
		{"principal in the wrong shape", ordersPolicy(ambient, authzFrom(mesh.AuthzSource{Principals: []string{"frontend/web"}})), []finding{
			errorAt("MESH-AUTHZ-005", `principals use the form <trust-domain>/ns/<namespace>/sa/<service-account> without the "spiffe://" scheme (got "frontend/web"). For example "cluster.local/ns/frontend/sa/web", or use service_accounts = ["frontend/web"].`, "rules", 0, "from", 0, "principals", 0),
		}},
		{"service accounts mixed with namespaces", ordersPolicy(sidecar, authzFrom(mesh.AuthzSource{ServiceAccounts: []string{"a/b"}, Namespaces: []string{"a"}})), []finding{
			errorAt("MESH-AUTHZ-006", "cannot set serviceAccounts with namespaces or principals, found at rule 0 (authenticated renders as principals). A service account already names its namespace and implies an authenticated peer: remove the other fields, or move them to a separate from entry (which ORs instead of ANDs).", "rules", 0, "from", 0, "service_accounts"),
		}},
		{"ambient L7 on a selector", ordersPolicy(ambient, authzTo(mesh.AuthzOperation{Methods: []string{"GET"}})), []finding{
			errorAt("MESH-AUTHZ-007", fmt.Sprintf(authzL7Detail, "rules[0].to[0].methods"), "target"),
		}},
		{"ambient AUDIT and header condition on a selector", ordersPolicy(ambient, func(a *mesh.Authorization) {
			a.Action = mesh.AuthzAudit
			a.Rules[0].When = []mesh.AuthzCondition{{Key: "request.headers[x-tenant]", Values: []string{"acme"}}, {Key: "source.ip", Values: []string{"10.0.0.1"}}}
		}), []finding{
			errorAt("MESH-AUTHZ-007", fmt.Sprintf(authzL7Detail, `action AUDIT, rules[0].when[0].key "request.headers[x-tenant]"`), "target"),
		}},
		{"ambient L4 condition stays on ztunnel", ordersPolicy(ambient, func(a *mesh.Authorization) {
			a.Rules[0].When = []mesh.AuthzCondition{{Key: "source.namespace", Values: []string{"frontend"}}}
		}), nil},
		{"linkerd deny", ordersPolicy(linkerd, func(a *mesh.Authorization) { a.Action = mesh.AuthzDeny }), []finding{
			errorAt("MESH-AUTHZ-010", `Linkerd authorization is allow-list only; action "DENY" has no Linkerd equivalent. Express it as ALLOW rules (everything else is denied by the Server).`, "action"),
		}},
		{"linkerd custom", ordersPolicy(linkerd, func(a *mesh.Authorization) { a.Action, a.CustomProvider = mesh.AuthzCustom, "ext" }), []finding{
			errorAt("MESH-AUTHZ-010", `Linkerd authorization is allow-list only; action "CUSTOM" has no Linkerd equivalent. Express it as ALLOW rules (everything else is denied by the Server).`, "action"),
		}},
		{"linkerd when", ordersPolicy(linkerd, func(a *mesh.Authorization) {
			a.Rules[0].When = []mesh.AuthzCondition{{Key: "source.ip", Values: []string{"10.0.0.1"}}}
		}), []finding{
			errorAt("MESH-AUTHZ-011", "when is not supported by Linkerd authorization policy. Remove it, or express the condition with from and to.", "rules", 0, "when"),
		}},
		{"linkerd principals", ordersPolicy(linkerd, authzFrom(mesh.AuthzSource{Principals: []string{"cluster.local/ns/a/sa/b"}})), []finding{
			errorAt("MESH-AUTHZ-011", `principals is not supported by Linkerd authorization policy. Use service_accounts ("<namespace>/<service-account>") or namespaces.`, "rules", 0, "from", 0, "principals"),
		}},
		{"linkerd audit warns", ordersPolicy(linkerd, func(a *mesh.Authorization) { a.Action = mesh.AuthzAudit }), []finding{
			warningAt("MESH-AUTHZ-012", `AUDIT maps to Server.accessPolicy = "audit" (allow + log unmatched requests), which differs from Istio AUDIT.`, "action"),
		}},
		{"regex path on istio", ordersPolicy(sidecar, authzTo(mesh.AuthzOperation{Paths: []string{"~/v[0-9]+"}})), []finding{
			errorAt("MESH-AUTHZ-017", fmt.Sprintf(authzRegexDetail, "~/v[0-9]+", `is a regular expression ("~")`), "rules", 0, "to", 0, "paths", 0),
		}},
		{"inner wildcard on istio", ordersPolicy(sidecar, authzTo(mesh.AuthzOperation{Paths: []string{"/a/*/b"}})), []finding{
			errorAt("MESH-AUTHZ-017", fmt.Sprintf(authzRegexDetail, "/a/*/b", `is neither an exact path, a prefix, a suffix nor "*"`), "rules", 0, "to", 0, "paths", 0),
		}},
		{"template on linkerd", ordersPolicy(linkerd, authzTo(mesh.AuthzOperation{Paths: []string{"/a/{*}"}})), []finding{
			errorAt("MESH-AUTHZ-017", fmt.Sprintf(authzRegexDetail, "/a/{*}", `is neither an exact path, a prefix, a suffix nor "*"`), "rules", 0, "to", 0, "paths", 0),
		}},
		{"invalid regex on linkerd", ordersPolicy(linkerd, authzTo(mesh.AuthzOperation{Paths: []string{"~/(a"}})), []finding{
			errorAt("MESH-AUTHZ-027", "rules[0].to[0].paths[0] = \"~/(a\" is not a valid RE2 regular expression: error parsing regexp: missing closing ): `/(a`.", "rules", 0, "to", 0, "paths", 0),
		}},
		{"empty source and operation", ordersPolicy(sidecar, func(a *mesh.Authorization) {
			a.Rules[0].From = []mesh.AuthzSource{{}}
			a.Rules[0].To = []mesh.AuthzOperation{{}}
		}), []finding{
			errorAt("MESH-AUTHZ-023", "`from.source` must not be empty, found at rule 0. Set service_accounts, namespaces, authenticated, ip_blocks or principals, or remove the entry (a rule without from matches every source).", "rules", 0, "from", 0),
			errorAt("MESH-AUTHZ-023", "`to.operation` must not be empty, found at rule 0. Set ports, methods or paths, or remove the entry (a rule without to matches every request).", "rules", 0, "to", 0),
		}},
		{"linkerd source mixing identity kinds", ordersPolicy(linkerd, authzFrom(mesh.AuthzSource{Namespaces: []string{"a"}, Authenticated: true})), []finding{
			errorAt("MESH-AUTHZ-024", "Linkerd MeshTLSAuthentication lists identities with OR semantics and takes either identities or identityRefs; split this source into separate from[] entries (or intersect them yourself). rules[0].from[0] sets more than one of service_accounts, namespaces and authenticated.", "rules", 0, "from", 0),
		}},
		{"deny_all with allow_all", ordersPolicy(sidecar, authzNoRules(func(a *mesh.Authorization) { a.DenyAll, a.AllowAll = true, true })), []finding{
			errorAt("MESH-AUTHZ-025", "deny_all and allow_all contradict each other; set at most one of them.", "allow_all"),
		}},
		{"deny_all with rules", ordersPolicy(sidecar, func(a *mesh.Authorization) { a.DenyAll = true }), []finding{
			errorAt("MESH-AUTHZ-025", "deny_all and allow_all replace rules; remove rules, or remove the flag.", "rules"),
		}},
		{"allow_all with DENY", ordersPolicy(sidecar, authzNoRules(func(a *mesh.Authorization) { a.AllowAll, a.Action = true, mesh.AuthzDeny })), []finding{
			errorAt("MESH-AUTHZ-025", `deny_all and allow_all are ALLOW policies (allow nothing, allow everything); action is "DENY". Remove action or the flag.`, "action"),
		}},
		{"both selector and service", ordersPolicy(sidecar, func(a *mesh.Authorization) { a.Workload.Service = "orders" }), []finding{
			errorAt("MESH-AUTHZ-026", "target must set exactly one of workload_selector (pod labels) and service (a Service in namespace, whose selector picks the pods).", "target"),
		}},
		{"neither selector nor service", ordersPolicy(sidecar, func(a *mesh.Authorization) { a.Workload.Selector = nil }), []finding{
			errorAt("MESH-AUTHZ-026", "target must set exactly one of workload_selector (pod labels) and service (a Service in namespace, whose selector picks the pods).", "target"),
		}},
		{"linkerd selector without ports", ordersPolicy(linkerd, func(a *mesh.Authorization) {
			a.Workload.Ports = nil
			a.Rules[0].To = nil
		}), []finding{
			errorAt("MESH-AUTHZ-026", "Linkerd authorizes traffic per port (one Server each), so target.ports is required with workload_selector. List the container ports to protect, or set target.service to use its targetPorts.", "target", "ports"),
		}},
		{"linkerd operation port without a Server", ordersPolicy(linkerd, authzTo(mesh.AuthzOperation{Ports: []int64{9090}})), []finding{
			errorAt("MESH-AUTHZ-027", "rules[0].to[0].ports[0] = 9090 is not in target.ports [8080]; Linkerd authorizes per Server port, so add it to target.ports or remove it here.", "rules", 0, "to", 0, "ports", 0),
		}},
		{"invalid values", ordersPolicy(sidecar, func(a *mesh.Authorization) {
			a.Rules[0].From = []mesh.AuthzSource{{ServiceAccounts: []string{"web"}}, {Namespaces: []string{"Shop"}, IPBlocks: []string{"10.0.0.1"}}}
			a.Rules[0].To = []mesh.AuthzOperation{{Ports: []int64{0}, Methods: []string{"get"}}}
			a.Rules[0].When = []mesh.AuthzCondition{{Key: "source.ip"}}
		}), []finding{
			errorAt("MESH-AUTHZ-027", `rules[0].from[0].service_accounts[0] = "web"; write service accounts as "<namespace>/<service-account>", e.g. "frontend/web".`, "rules", 0, "from", 0, "service_accounts", 0),
			errorAt("MESH-AUTHZ-027", `rules[0].from[1].namespaces[0] = "Shop" is not a namespace name (a DNS-1123 label).`, "rules", 0, "from", 1, "namespaces", 0),
			errorAt("MESH-AUTHZ-027", `rules[0].from[1].ip_blocks[0] = "10.0.0.1" is not a CIDR; write an address block such as "10.0.0.0/8" (a single address is "10.1.2.3/32").`, "rules", 0, "from", 1, "ip_blocks", 0),
			errorAt("MESH-AUTHZ-027", "rules[0].to[0].ports[0] = 0; a port must be between 1 and 65535.", "rules", 0, "to", 0, "ports", 0),
			errorAt("MESH-AUTHZ-027", `rules[0].to[0].methods[0] = "get" is not an HTTP method; use one of GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH (upper case).`, "rules", 0, "to", 0, "methods", 0),
			errorAt("MESH-AUTHZ-027", "rules[0].when[0] needs a key and at least one value.", "rules", 0, "when", 0),
		}},
		{"service accounts and namespaces are Kubernetes names", ordersPolicy(sidecar, func(a *mesh.Authorization) {
			a.Rules[0].From = []mesh.AuthzSource{
				{ServiceAccounts: []string{"frontend/web.v1", "frontend/web-.v1", "frontend/web/x"}},
				{Namespaces: []string{"frontend", strings.Repeat("n", 64)}},
			}
		}), []finding{
			errorAt("MESH-AUTHZ-027", `rules[0].from[0].service_accounts[1] = "frontend/web-.v1"; write service accounts as "<namespace>/<service-account>", e.g. "frontend/web".`, "rules", 0, "from", 0, "service_accounts", 1),
			errorAt("MESH-AUTHZ-027", `rules[0].from[0].service_accounts[2] = "frontend/web/x"; write service accounts as "<namespace>/<service-account>", e.g. "frontend/web".`, "rules", 0, "from", 0, "service_accounts", 2),
			errorAt("MESH-AUTHZ-027", `rules[0].from[1].namespaces[1] = "`+strings.Repeat("n", 64)+`" is not a namespace name (a DNS-1123 label).`, "rules", 0, "from", 1, "namespaces", 1),
		}},
		{"target.ports on istio warns", ordersPolicy(sidecar, func(a *mesh.Authorization) { a.Workload.Ports = []int64{8080} }), []finding{
			warningAt("MESH-AUTHZ-028", "target.ports selects the Linkerd Servers; an Istio AuthorizationPolicy covers every port of the selected workloads. Restrict ports with rules[].to[].ports instead, or remove target.ports.", "target", "ports"),
		}},
		{"CUSTOM with identity matches on istio", ordersPolicy(sidecar, func(a *mesh.Authorization) {
			a.Action, a.CustomProvider = mesh.AuthzCustom, "ext-authz"
			a.Rules[0].From = []mesh.AuthzSource{
				{Namespaces: []string{"frontend"}, IPBlocks: []string{"10.0.0.0/8"}},
				{Principals: []string{"cluster.local/ns/a/sa/b"}, Authenticated: true},
				{ServiceAccounts: []string{"frontend/web"}},
				{Authenticated: true},
			}
			a.Rules[0].When = []mesh.AuthzCondition{
				{Key: "request.auth.claims[iss]", Values: []string{"https://issuer"}},
				{Key: "source.ip", Values: []string{"10.0.0.1"}},
				{Key: "source.namespace", Values: []string{"frontend"}},
			}
		}), []finding{
			errorAt("MESH-AUTHZ-004", fmt.Sprintf(authzCustomDetail, "From.Namespaces", "rules[0].from[0].namespaces"), "rules", 0, "from", 0, "namespaces"),
			errorAt("MESH-AUTHZ-004", fmt.Sprintf(authzCustomDetail, "From.Principals", "rules[0].from[1].principals"), "rules", 0, "from", 1, "principals"),
			errorAt("MESH-AUTHZ-004", fmt.Sprintf(authzCustomDetail, "From.ServiceAccounts", "rules[0].from[2].service_accounts"), "rules", 0, "from", 2, "service_accounts"),
			errorAt("MESH-AUTHZ-004", fmt.Sprintf(authzCustomDetail, "From.Principals", "rules[0].from[3].authenticated"), "rules", 0, "from", 3, "authenticated"),
			errorAt("MESH-AUTHZ-004", fmt.Sprintf(authzCustomDetail, "request.auth.claims[iss]", "rules[0].when[0].key"), "rules", 0, "when", 0, "key"),
			errorAt("MESH-AUTHZ-004", fmt.Sprintf(authzCustomDetail, "source.namespace", "rules[0].when[2].key"), "rules", 0, "when", 2, "key"),
		}},
		{"CUSTOM matching addresses and operations", ordersPolicy(ambient, func(a *mesh.Authorization) {
			a.Action, a.CustomProvider = mesh.AuthzCustom, "ext-authz"
			a.Workload = mesh.AuthzWorkload{Service: "orders"}
			a.Rules[0].From = []mesh.AuthzSource{{IPBlocks: []string{"10.0.0.0/8"}}}
			a.Rules[0].When = []mesh.AuthzCondition{{Key: "request.headers[x-user]", Values: []string{"a"}}}
		}), nil},
		{"DENY with only HTTP attributes warns", ordersPolicy(sidecar, func(a *mesh.Authorization) {
			a.Action = mesh.AuthzDeny
			a.Rules[0].To = []mesh.AuthzOperation{{Methods: []string{"DELETE"}}, {Paths: []string{"/admin/*"}}}
		}), []finding{
			warningAt("MESH-AUTHZ-016", "configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port. Add the HTTP ports to rules[0].to[0].ports, e.g. ports = [8080].", "rules", 0, "to"),
		}},
		{"DENY naming a port", ordersPolicy(sidecar, func(a *mesh.Authorization) {
			a.Action = mesh.AuthzDeny
			a.Rules[0].To = []mesh.AuthzOperation{{Methods: []string{"DELETE"}}, {Ports: []int64{8080}, Paths: []string{"/admin/*"}}}
		}), nil},
		{"DENY of sources only", ordersPolicy(sidecar, func(a *mesh.Authorization) {
			a.Action = mesh.AuthzDeny
			a.Rules[0].To = nil
		}), nil},
		{"dry_run with AUDIT on istio", ordersPolicy(sidecar, func(a *mesh.Authorization) { a.DryRun, a.Action = true, mesh.AuthzAudit }), []finding{
			errorAt("MESH-AUTHZ-021", "the annotation istio.io/dry-run currently only supports action ALLOW/DENY, found action AUDIT in shop/orders-allow. Remove dry_run.", "dry_run"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []finding
			for _, p := range tt.a.Validate() {
				if !strings.HasPrefix(p.Summary, p.Code+": ") || len(p.Summary) == len(p.Code)+2 {
					t.Errorf("summary %q does not read \"%s: <summary>\"", p.Summary, p.Code)
				}
				got = append(got, finding{p.Severity, p.Code, p.Path, p.Detail})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuthorizationEnforcementPoint(t *testing.T) {
	l7 := authzTo(mesh.AuthzOperation{Paths: []string{"/api/*"}})
	tests := []struct {
		a    mesh.Authorization
		want mesh.EnforcementPoint
	}{
		{ordersPolicy(mesh.TargetIstioSidecar, l7), mesh.EnforcedBySidecar},
		{ordersPolicy(mesh.TargetIstioAmbient, func(*mesh.Authorization) {}), mesh.EnforcedByZtunnel},
		{ordersPolicy(mesh.TargetIstioAmbient, l7), mesh.EnforcedByWaypoint},
		{ordersPolicy(mesh.TargetIstioAmbient, func(a *mesh.Authorization) { a.Action = mesh.AuthzAudit }), mesh.EnforcedByWaypoint},
		{ordersPolicy(mesh.TargetLinkerd, l7), mesh.EnforcedByLinkerdProxy},
	}
	for i, tt := range tests {
		if got := tt.a.EnforcementPoint(); got != tt.want {
			t.Errorf("case %d: EnforcementPoint() = %s, want %s", i, got, tt.want)
		}
	}
}

func TestAuthzPathKindOf(t *testing.T) {
	want := map[string]mesh.AuthzPathKind{
		"/api": mesh.AuthzPathExact, "/api/*": mesh.AuthzPathPrefix, "*.json": mesh.AuthzPathSuffix,
		"*": mesh.AuthzPathPresence, "~/v[0-9]+": mesh.AuthzPathRegex, "api": mesh.AuthzPathInvalid,
		"/a/*/b": mesh.AuthzPathInvalid, "/a/{*}": mesh.AuthzPathInvalid, "": mesh.AuthzPathInvalid, "~": mesh.AuthzPathInvalid,
	}
	for p, k := range want {
		if got := mesh.AuthzPathKindOf(p); got != k {
			t.Errorf("AuthzPathKindOf(%q) = %d, want %d", p, got, k)
		}
	}
}
