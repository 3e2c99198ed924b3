package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// TestAccInstall_ValidationErrors asserts every mesh_install plan error
// through terraform, against a cluster of the test's own.
func TestAccInstall_ValidationErrors(t *testing.T) {
	ic := newInstallCluster(t)
	istio := "\n  mesh    = \"istio\"\n  version = \"" + istioVersion + "\"\n"
	linkerd := "\n  mesh    = \"linkerd\"\n  version = \"" + linkerdVersion + "\"\n"
	good := newTestIdentity(t, identityOpts{})
	other := newTestIdentity(t, identityOpts{})
	cases := []struct{ name, body, want string }{
		{"ambient without cni", istio + `  values = { cni = yamlencode({ ambient = { enabled = false } }) }`,
			`MESH-INS-001: ambient mode requires the Istio CNI node agent`},
		{"ambient before 1.24", "\n  mesh    = \"istio\"\n  version = \"1.23.6\"\n",
			`MESH-INS-012: ambient mode requires Istio 1.24 or later[\s\S]*ambient mode requires Istio ≥ 1.24 \(version = "1.23.6"\)`},
		{"ztunnel newer than istiod", istio + `  values = { ztunnel = yamlencode({ tag = "1.33.0" }) }`,
			`MESH-INS-002[\s\S]*ztunnel version 1.33.0 is not supported with istiod`},
		{"values for a chart the mode does not install", istio + `  mode = "sidecar"
  values = { ztunnel = "tag: x" }`, `installs no chart "ztunnel"`},
		{"values not YAML mapping", istio + `  values = { istiod = "- a" }`, `values\["istiod"\] is not a YAML mapping`},
		{"mode on linkerd", linkerd + `  mode = "sidecar"`, `mode applies to mesh = "istio" only`},
		{"identity on istio", istio + good.hcl(), `linkerd_identity applies to mesh = "linkerd" only`},
		{"gateway api version not embedded", linkerd + `  gateway_api_crds = { mode = "install", version = "v1.6.1" }`,
			`gateway API v1.6.1 is not embedded in this provider`},
		{"bad timeout", istio + `  timeout = "soon"`, `must be a positive duration`},
		{"issuer key does not match", linkerd + identityHCL(good.anchor, good.cert, other.key),
			`MESH-INS-007[\s\S]*issuer_key_pem does not match issuer_cert_pem`},
		{"issuer not P-256", linkerd + newTestIdentity(t, identityOpts{curve: elliptic.P384()}).hcl(),
			`MESH-INS-008`},
		{"issuer not a CA", linkerd + newTestIdentity(t, identityOpts{notCA: true}).hcl(),
			`MESH-INS-009[\s\S]*issuer certificate is not a CA`},
		{"issuer not signed by anchor", linkerd + identityHCL(other.anchor, good.cert, good.key),
			`MESH-INS-009[\s\S]*not signed by any trust anchor`},
		{"issuer expired", linkerd + newTestIdentity(t, identityOpts{expired: true}).hcl(),
			`MESH-INS-010[\s\S]*expired on`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { expectPlanError(t, ic.config(c.body), c.want) })
	}
	t.Run("another mesh installed", func(t *testing.T) {
		ic.fakeIstiod(t)
		expectPlanError(t, ic.config(linkerd), `MESH-INS-013[\s\S]*another service mesh \(istio: Deployment istiod in`)
	})
	t.Run("linkerd without gateway api crds", func(t *testing.T) {
		ic.deleteCRD(t, "httproutes.gateway.networking.k8s.io")
		expectPlanError(t, ic.config(linkerd+`  values = {}`), `MESH-INS-004[\s\S]*Linkerd requires the Gateway API HTTPRoute CRD`)
	})
	t.Run("kubernetes too old", func(t *testing.T) {
		expectPlanError(t, oldAPIServerConfig(t, ic.repo, linkerd), `MESH-INS-003[\s\S]*Kubernetes v1.29.0 is below the minimum supported by linkerd 2026.8.3 \(1.31\)`)
	})
}

// oldAPIServerConfig points the provider at a fake API server that reports
// Kubernetes v1.29.0 (a real old control plane is not at hand).
func oldAPIServerConfig(t *testing.T, repo, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/version" {
			http.NotFound(w, r)
			return
		}
		_, _ = fmt.Fprint(w, `{"major":"1","minor":"29","gitVersion":"v1.29.0","platform":"linux/amd64"}`)
	}))
	t.Cleanup(srv.Close)
	return fmt.Sprintf(`
provider "mesh" {
  host = %q
}

resource "mesh_install" "test" {
  chart_repository = %q
%s
}
`, srv.URL, repo, body)
}

// fakeIstiod creates a Deployment that looks like istiod's (app=istiod).
func (ic *installCluster) fakeIstiod(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "other-mesh"}}
	if _, err := ic.cs.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "istiod"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "istiod", Namespace: ns.Name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "discovery", Image: "istiod"}}},
			},
		},
	}
	if _, err := ic.cs.AppsV1().Deployments(ns.Name).Create(context.Background(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = ic.cs.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
}

func (ic *installCluster) deleteCRD(t *testing.T, name string) {
	dyn, err := dynamic.NewForConfig(ic.Config)
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if err := dyn.Resource(gvr).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The API server stops serving the kind shortly after.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := dyn.Resource(gvr).Get(context.Background(), name, metav1.GetOptions{}); err != nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("CRD %s still there", name)
}

// testIdentity is a Linkerd trust anchor and issuer, PEM.
type testIdentity struct{ anchor, cert, key string }

type identityOpts struct {
	curve   elliptic.Curve // issuer key curve; default P-256
	notCA   bool
	expired bool
}

func (id testIdentity) hcl() string { return identityHCL(id.anchor, id.cert, id.key) }

func identityHCL(anchor, cert, key string) string {
	return fmt.Sprintf(`
  linkerd_identity = {
    trust_anchors_pem = %s
    issuer_cert_pem   = %s
    issuer_key_pem    = %s
  }`, hcl(anchor), hcl(cert), hcl(key))
}

func newTestIdentity(t *testing.T, o identityOpts) testIdentity {
	t.Helper()
	anchorKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	anchorTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "root.linkerd.cluster.local"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	anchorDER, err := x509.CreateCertificate(rand.Reader, anchorTmpl, anchorTmpl, &anchorKey.PublicKey, anchorKey)
	if err != nil {
		t.Fatal(err)
	}
	anchor, _ := x509.ParseCertificate(anchorDER)
	curve := o.curve
	if curve == nil {
		curve = elliptic.P256()
	}
	issuerKey, _ := ecdsa.GenerateKey(curve, rand.Reader)
	issuerTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "identity.linkerd.cluster.local"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		IsCA: !o.notCA, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	if o.notCA {
		issuerTmpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	if o.expired {
		issuerTmpl.NotBefore, issuerTmpl.NotAfter = now.AddDate(-2, 0, 0), now.AddDate(-1, 0, 0)
	}
	issuerDER, err := x509.CreateCertificate(rand.Reader, issuerTmpl, anchor, &issuerKey.PublicKey, anchorKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(issuerKey)
	if err != nil {
		t.Fatal(err)
	}
	return testIdentity{
		anchor: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: anchorDER})),
		cert:   string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issuerDER})),
		key:    string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})),
	}
}
