// Package mesh holds the mesh-agnostic intent that the provider's resources
// describe, and the conventions shared by every renderer. It does no I/O.
package mesh

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Target is the data plane a resource is rendered for.
type Target string

const (
	TargetIstioSidecar Target = "istio-sidecar"
	TargetIstioAmbient Target = "istio-ambient"
	TargetLinkerd      Target = "linkerd"
)

// Targets lists every Target, in the order the docs show them.
var Targets = []Target{TargetIstioSidecar, TargetIstioAmbient, TargetLinkerd}

// Labels every rendered object carries.
const (
	LabelManagedBy      = "app.kubernetes.io/managed-by"
	LabelManagedByValue = "terraform-provider-mesh"
	LabelOwner          = "mesh.terraform.io/owner"
	// LabelCommitted is "false" on the objects of a create that has not
	// finished: the engine sets it on an object's first write and clears it
	// as the create's last write. `kubectl get <kinds> -A -l
	// mesh.terraform.io/committed=false` lists what a killed create left.
	LabelCommitted = "mesh.terraform.io/committed"
	// AnnotationCreateID is the random id of the create that wrote an
	// uncommitted object, cleared with LabelCommitted: a create whose
	// object another create took over meanwhile fails at its commit.
	AnnotationCreateID = "mesh.terraform.io/create-id"
)

// maxLabelValue is Kubernetes' limit on a label value.
const maxLabelValue = 63

// Owner is the value of LabelOwner for one Terraform resource:
// "<resource_type>.<namespace>.<name>", e.g. "mesh_traffic_split.shop.reviews".
// A label value holds at most 63 characters, so a longer one keeps its start
// and ends in a hash of the whole, which stays unique and stable.
func Owner(resourceType, namespace, name string) string {
	full := fmt.Sprintf("%s.%s.%s", resourceType, namespace, name)
	if len(full) <= maxLabelValue {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	hash := hex.EncodeToString(sum[:])[:12]
	prefix := strings.TrimRight(full[:maxLabelValue-len(hash)-1], "-_.")
	return prefix + "." + hash
}

// OwnerLabels returns the labels that mark an object as rendered for owner.
func OwnerLabels(owner string) map[string]string {
	return map[string]string{LabelManagedBy: LabelManagedByValue, LabelOwner: owner}
}

// ServiceFQDN is the cluster-local name Istio hosts must use.
func ServiceFQDN(service, namespace string) string {
	return fmt.Sprintf("%s.%s.svc.%s", service, namespace, ClusterDomain)
}

// ClusterDomain is the cluster's DNS domain, the suffix of ServiceFQDN.
const ClusterDomain = "cluster.local"

// DefaultTrustDomain is the trust domain of Istio's and Linkerd's mesh
// identities unless their installs set another (the same spelling as the
// DNS domain, not the same thing).
const DefaultTrustDomain = "cluster.local"
