package kubetest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// pki is the cluster's key material, all generated per cluster and written
// under <Dir>/pki so that the component processes can read it.
type pki struct {
	dir    string
	caPEM  []byte
	tokens map[string]string // user -> bearer token
}

func (p *pki) path(name string) string { return filepath.Join(p.dir, name) }

// users of the static token file. Every component is in system:masters:
// this is a throwaway test cluster, and it spares per-controller RBAC.
var users = []string{"admin", "kube-controller-manager", "kube-scheduler", "kwok"}

// newPKI writes a CA, the apiserver's serving certificate signed by it, the
// service-account signing key and the token file.
func newPKI(dir string) (*pki, error) {
	p := &pki{dir: filepath.Join(dir, "pki"), tokens: map[string]string{}}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return nil, err
	}
	caKey, caCert, err := p.writeCA()
	if err != nil {
		return nil, err
	}
	if err := p.writeServing(caKey, caCert); err != nil {
		return nil, err
	}
	if _, err := p.writeKey("sa.key"); err != nil {
		return nil, err
	}
	return p, p.writeTokens()
}

func (p *pki) writeCA() (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := p.writeKey("ca.key")
	if err != nil {
		return nil, nil, err
	}
	tmpl := certTemplate("kubetest-ca")
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return key, cert, os.WriteFile(p.path("ca.crt"), p.caPEM, 0o644)
}

// writeServing issues the apiserver's certificate for every name a client
// may use: loopback, and the in-cluster service names and IP.
func (p *pki) writeServing(caKey crypto.Signer, ca *x509.Certificate) error {
	key, err := p.writeKey("apiserver.key")
	if err != nil {
		return err
	}
	tmpl := certTemplate("kube-apiserver")
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	tmpl.DNSNames = []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc." + mesh.ClusterDomain}
	tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(kubernetesServiceIP)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return err
	}
	return os.WriteFile(p.path("apiserver.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func certTemplate(cn string) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour), // tolerate small clock skew
		NotAfter:     now.AddDate(1, 0, 0),
	}
}

// writeKey writes a new P-256 key, which the apiserver, the token
// controller and TLS all accept and which is much faster to make than RSA.
func (p *pki) writeKey(name string) (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return key, os.WriteFile(p.path(name), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
}

// writeTokens writes the --token-auth-file: token,user,uid,"groups".
func (p *pki) writeTokens() error {
	var b strings.Builder
	for _, u := range users {
		buf := make([]byte, 24)
		if _, err := rand.Read(buf); err != nil {
			return err
		}
		p.tokens[u] = hex.EncodeToString(buf)
		fmt.Fprintf(&b, "%s,%s,%s,\"system:masters\"\n", p.tokens[u], u, u)
	}
	return os.WriteFile(p.path("tokens.csv"), []byte(b.String()), 0o600)
}

// writeKubeconfig writes a kubeconfig for user that verifies the server
// against our CA (TLS verification stays on).
func (p *pki) writeKubeconfig(path, server, user string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kubetest"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: p.caPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: p.tokens[user]}
	cfg.Contexts["kubetest"] = &clientcmdapi.Context{Cluster: "kubetest", AuthInfo: user, Namespace: "default"}
	cfg.CurrentContext = "kubetest"
	return clientcmd.WriteToFile(*cfg, path)
}
