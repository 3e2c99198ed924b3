package mesh

import (
	"slices"
	"strings"
)

// LegacyTrustDomain is the trust domain of service-account principals on
// Istio < 1.25: "cluster.local" is an alias for the mesh's own trust domain
// in policies (MESH-MAPPING §5.1), so the provider need not know it.
const LegacyTrustDomain = DefaultTrustDomain

// ServiceAccountPrincipal is the Istio principal of a service account
// "ns/sa": "cluster.local/ns/<ns>/sa/<sa>".
func ServiceAccountPrincipal(sa string) string {
	ns, name, _ := strings.Cut(sa, "/")
	return LegacyTrustDomain + "/ns/" + ns + "/sa/" + name
}

// PrincipalServiceAccount is the inverse of ServiceAccountPrincipal: "ns/sa"
// and true when p is a "cluster.local/ns/<ns>/sa/<sa>" principal.
func PrincipalServiceAccount(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, LegacyTrustDomain+"/ns/")
	if !ok {
		return "", false
	}
	ns, sa, ok := strings.Cut(rest, "/sa/")
	if !ok || ns == "" || sa == "" || strings.ContainsAny(ns+sa, "/*") {
		return "", false
	}
	return ns + "/" + sa, true
}

// NeedsIdentityLookup reports whether rendering depends on whether the
// cluster's AuthorizationPolicy CRD knows source.serviceAccounts: an Istio
// policy whose rules name service accounts.
func (a Authorization) NeedsIdentityLookup() bool {
	if a.Target == TargetLinkerd || a.AllowAll || a.DenyAll {
		return false
	}
	return slices.ContainsFunc(a.Rules, func(r AuthzRule) bool {
		return slices.ContainsFunc(r.From, func(s AuthzSource) bool { return len(s.ServiceAccounts) > 0 })
	})
}
