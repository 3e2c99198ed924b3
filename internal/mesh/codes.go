package mesh

// The catalogue codes, all in one place. The catalogue is MESH-MAPPING
// (§1.7 install, §2.3 mTLS, §3.4 traffic split, §4.3 mirror, §5.5
// authorization, §6 cross-cutting); the codes past a section's table cover
// mistakes the catalogue leaves to the API server, caught here so they fail
// at plan rather than at apply. Every code is documented to users in
// templates/resources/*.md.tmpl, and codes_test.go holds the two to each
// other. A number the catalogue defines but the provider does not report
// (e.g. MESH-TS-010, MESH-MIR-004) stays unused rather than taken by a new
// check.

// Cross-cutting (MESH-MAPPING §6).
const (
	CodeGenRouteConflict    = "MESH-GEN-002" // another route object routes the Service port
	CodeGenNamespace        = "MESH-GEN-003" // namespace missing or not enrolled in the mesh
	CodeGenAPINotServed     = "MESH-GEN-005" // a rendered kind's CRD is not served (apply time)
	CodeGenChecksSkipped    = "MESH-GEN-006" // cluster checks skipped at plan time
	CodeGenChangedSincePlan = "MESH-GEN-007" // the cluster's answers changed since the plan (apply time)
)

// mesh_install (MESH-MAPPING §1.7). 007-010 are the Linkerd identity checks
// of internal/certs; 003, 004 and 013 need the cluster (internal/preflight).
const (
	CodeInsAmbientCNI       = "MESH-INS-001"
	CodeInsDataPlaneSkew    = "MESH-INS-002"
	CodeInsKubernetesTooOld = "MESH-INS-003"
	CodeInsGatewayAPICRDs   = "MESH-INS-004"
	CodeInsIdentityParse    = "MESH-INS-007"
	CodeInsIdentityKeyAlg   = "MESH-INS-008"
	CodeInsIdentityChain    = "MESH-INS-009"
	CodeInsIdentityValidity = "MESH-INS-010"
	CodeInsHoldApplication  = "MESH-INS-011"
	CodeInsAmbientVersion   = "MESH-INS-012"
	CodeInsOtherMesh        = "MESH-INS-013"
	CodeInsTrustDomain      = "MESH-INS-014"
	CodeInsName             = "MESH-INS-015" // namespace or revision not a DNS-1123 label, release name too long
	CodeInsVersion          = "MESH-INS-016" // version is not a chart (SemVer) version
)

// mesh_mtls_policy (MESH-MAPPING §2.3). 006-010 need the cluster and live in
// internal/preflight.
const (
	CodeMTLSAmbientDisable   = "MESH-MTLS-001"
	CodeMTLSLinkerdDisable   = "MESH-MTLS-002"
	CodeMTLSPortsScope       = "MESH-MTLS-003"
	CodeMTLSSelectorMesh     = "MESH-MTLS-004"
	CodeMTLSLinkerdMesh      = "MESH-MTLS-005"
	CodeMTLSNamespaceWide    = "MESH-MTLS-006"
	CodeMTLSServicePort      = "MESH-MTLS-007"
	CodeMTLSRestart          = "MESH-MTLS-008"
	CodeMTLSServerConflict   = "MESH-MTLS-009"
	CodeMTLSStrictUnmeshed   = "MESH-MTLS-010"
	CodeMTLSUnsetNoPorts     = "MESH-MTLS-011"
	CodeMTLSLinkerdNoPorts   = "MESH-MTLS-012"
	CodeMTLSSelectorRequired = "MESH-MTLS-014"
	CodeMTLSNamespace        = "MESH-MTLS-015"
	CodeMTLSPorts            = "MESH-MTLS-016"
	CodeMTLSLinkerdServer    = "MESH-MTLS-017"
	CodeMTLSName             = "MESH-MTLS-018" // name, namespace or root_namespace not a DNS-1123 label
	CodeMTLSSelectorLabels   = "MESH-MTLS-019" // workload_selector key or value not a label
)

// mesh_traffic_split (MESH-MAPPING §3.4). 004, 005, 006, 008, 009 and 013
// need the cluster and live in internal/preflight.
const (
	CodeTSWeightSum       = "MESH-TS-001"
	CodeTSZeroWeight      = "MESH-TS-002"
	CodeTSSubsetLabels    = "MESH-TS-003"
	CodeTSSubsetNoPods    = "MESH-TS-004"
	CodeTSSubsetConflict  = "MESH-TS-005" // another DestinationRule defines subsets for the host
	CodeTSNoWaypoint      = "MESH-TS-006"
	CodeTSAmbientVS       = "MESH-TS-007"
	CodeTSServiceNotFound = "MESH-TS-008"
	CodeTSNotClusterIP    = "MESH-TS-009"
	CodeTSPrefixHeader    = "MESH-TS-011"
	CodeTSHeaderCase      = "MESH-TS-012"
	CodeTSServiceProfile  = "MESH-TS-013"
	CodeTSListLimit       = "MESH-TS-015"
	CodeTSWeightRange     = "MESH-TS-018"
	CodeTSInvalidMatch    = "MESH-TS-019"
	CodeTSMatchAll        = "MESH-TS-020"
	CodeTSPortRange       = "MESH-TS-021"
	CodeTSWaypointIgnored = "MESH-TS-022"
	CodeTSNoBackends      = "MESH-TS-023"
	CodeTSWeightRequired  = "MESH-TS-024"
	CodeTSName            = "MESH-TS-025" // name, namespace or a waypoint/mirror name not a DNS-1123 label
	CodeTSLabels          = "MESH-TS-026" // subset_labels key or value not a label
)

// mesh_mirror_route (MESH-MAPPING §4.3). 003, 005, 007 and 009 need the
// cluster and live in internal/preflight.
const (
	CodeMirLinkerd        = "MESH-MIR-001"
	CodeMirPercentage     = "MESH-MIR-002"
	CodeMirCRDVersion     = "MESH-MIR-003"
	CodeMirWaypoint       = "MESH-MIR-005"
	CodeMirSameTarget     = "MESH-MIR-006"
	CodeMirNotFound       = "MESH-MIR-007"
	CodeMirSubsetLabels   = "MESH-MIR-008"
	CodeMirRouted         = "MESH-MIR-009"
	CodeMirMatchAll       = "MESH-MIR-011"
	CodeMirMatchPrecedent = "MESH-MIR-012"
	CodeMirSubsetNS       = "MESH-MIR-013"
	CodeMirName           = "MESH-MIR-014" // name, namespace or a waypoint/mirror name not a DNS-1123 label
	CodeMirLabels         = "MESH-MIR-015" // subset_labels key or value not a label
)

// mesh_authorization (MESH-MAPPING §5.5). 008, 009, 013, 015, 018, 019, 020
// and 029 need the cluster and live in internal/preflight.
const (
	CodeAuthzAllowNoRules    = "MESH-AUTHZ-001"
	CodeAuthzNoRules         = "MESH-AUTHZ-002"
	CodeAuthzProvider        = "MESH-AUTHZ-003"
	CodeAuthzCustomIdentity  = "MESH-AUTHZ-004"
	CodeAuthzPrincipal       = "MESH-AUTHZ-005"
	CodeAuthzSAMixed         = "MESH-AUTHZ-006"
	CodeAuthzAmbientL7       = "MESH-AUTHZ-007"
	CodeAuthzNoWaypoint      = "MESH-AUTHZ-008"
	CodeAuthzWaypointIdent   = "MESH-AUTHZ-009"
	CodeAuthzLinkerdAction   = "MESH-AUTHZ-010"
	CodeAuthzLinkerdField    = "MESH-AUTHZ-011"
	CodeAuthzLinkerdAudit    = "MESH-AUTHZ-012"
	CodeAuthzServerConflict  = "MESH-AUTHZ-013"
	CodeAuthzServicePort     = "MESH-AUTHZ-015"
	CodeAuthzDenyHTTPOnly    = "MESH-AUTHZ-016"
	CodeAuthzPathSyntax      = "MESH-AUTHZ-017"
	CodeAuthzNoPods          = "MESH-AUTHZ-018"
	CodeAuthzNoNamespace     = "MESH-AUTHZ-019"
	CodeAuthzAmbientDryRun   = "MESH-AUTHZ-020"
	CodeAuthzDryRunAction    = "MESH-AUTHZ-021"
	CodeAuthzEmpty           = "MESH-AUTHZ-023"
	CodeAuthzLinkerdIdentity = "MESH-AUTHZ-024"
	CodeAuthzAllOrNothing    = "MESH-AUTHZ-025"
	CodeAuthzTarget          = "MESH-AUTHZ-026"
	CodeAuthzInvalidValue    = "MESH-AUTHZ-027"
	CodeAuthzPortsIgnored    = "MESH-AUTHZ-028"
	CodeAuthzService         = "MESH-AUTHZ-029"
	CodeAuthzName            = "MESH-AUTHZ-030" // name or namespace not a DNS-1123 label
	CodeAuthzSelectorLabels  = "MESH-AUTHZ-031" // target.workload_selector key or value not a label
)

// codes lists every constant above; codes_test.go checks that it does.
var codes = []string{
	CodeGenRouteConflict, CodeGenNamespace, CodeGenAPINotServed, CodeGenChecksSkipped, CodeGenChangedSincePlan,

	CodeInsAmbientCNI, CodeInsDataPlaneSkew, CodeInsKubernetesTooOld, CodeInsGatewayAPICRDs,
	CodeInsIdentityParse, CodeInsIdentityKeyAlg, CodeInsIdentityChain, CodeInsIdentityValidity,
	CodeInsHoldApplication, CodeInsAmbientVersion, CodeInsOtherMesh, CodeInsTrustDomain,
	CodeInsName, CodeInsVersion,

	CodeMTLSAmbientDisable, CodeMTLSLinkerdDisable, CodeMTLSPortsScope, CodeMTLSSelectorMesh,
	CodeMTLSLinkerdMesh, CodeMTLSNamespaceWide, CodeMTLSServicePort, CodeMTLSRestart,
	CodeMTLSServerConflict, CodeMTLSStrictUnmeshed, CodeMTLSUnsetNoPorts, CodeMTLSLinkerdNoPorts,
	CodeMTLSSelectorRequired, CodeMTLSNamespace, CodeMTLSPorts, CodeMTLSLinkerdServer,
	CodeMTLSName, CodeMTLSSelectorLabels,

	CodeTSWeightSum, CodeTSZeroWeight, CodeTSSubsetLabels, CodeTSSubsetNoPods, CodeTSSubsetConflict,
	CodeTSNoWaypoint, CodeTSAmbientVS, CodeTSServiceNotFound, CodeTSNotClusterIP, CodeTSPrefixHeader,
	CodeTSHeaderCase, CodeTSServiceProfile, CodeTSListLimit, CodeTSWeightRange, CodeTSInvalidMatch,
	CodeTSMatchAll, CodeTSPortRange, CodeTSWaypointIgnored, CodeTSNoBackends, CodeTSWeightRequired,
	CodeTSName, CodeTSLabels,

	CodeMirLinkerd, CodeMirPercentage, CodeMirCRDVersion, CodeMirWaypoint, CodeMirSameTarget,
	CodeMirNotFound, CodeMirSubsetLabels, CodeMirRouted, CodeMirMatchAll, CodeMirMatchPrecedent,
	CodeMirSubsetNS, CodeMirName, CodeMirLabels,

	CodeAuthzAllowNoRules, CodeAuthzNoRules, CodeAuthzProvider, CodeAuthzCustomIdentity,
	CodeAuthzPrincipal, CodeAuthzSAMixed, CodeAuthzAmbientL7, CodeAuthzNoWaypoint,
	CodeAuthzWaypointIdent, CodeAuthzLinkerdAction, CodeAuthzLinkerdField, CodeAuthzLinkerdAudit,
	CodeAuthzServerConflict, CodeAuthzServicePort, CodeAuthzDenyHTTPOnly, CodeAuthzPathSyntax,
	CodeAuthzNoPods, CodeAuthzNoNamespace, CodeAuthzAmbientDryRun, CodeAuthzDryRunAction,
	CodeAuthzEmpty, CodeAuthzLinkerdIdentity, CodeAuthzAllOrNothing, CodeAuthzTarget,
	CodeAuthzInvalidValue, CodeAuthzPortsIgnored, CodeAuthzService, CodeAuthzName,
	CodeAuthzSelectorLabels,
}

// Codes returns every catalogue code the provider reports, grouped by
// resource. The slice is a copy.
func Codes() []string {
	return append([]string(nil), codes...)
}
