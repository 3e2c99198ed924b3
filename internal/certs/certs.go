// Package certs generates and validates the Linkerd identity certificates:
// a trust anchor (root CA) and an issuer (intermediate CA) signed by it,
// with the checks linkerd check applies (MESH-MAPPING §1.3, §1.7).
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

const (
	anchorValidity = 10 * 365 * 24 * time.Hour
	issuerValidity = 365 * 24 * time.Hour
	// clockSkew backdates NotBefore so a cluster whose clock is slightly
	// behind ours still accepts the certificates at once.
	clockSkew = 5 * time.Minute
)

// Pair is a certificate and its private key, PEM. It exists in memory only:
// what leaves the provider is the certificate (and Info about it).
type Pair struct {
	CertPEM, KeyPEM string
}

// NewAnchor returns a new ECDSA P-256 trust anchor: a self-signed root CA
// valid 10 years, that may sign one level of intermediates.
func NewAnchor(cn string, now time.Time) (Pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Pair{}, err
	}
	tmpl, err := caTemplate(cn, now, anchorValidity, 1)
	if err != nil {
		return Pair{}, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return Pair{}, err
	}
	return pairOf(der, key)
}

// NewIssuer returns a new ECDSA P-256 issuer: an intermediate CA valid 1
// year, signed by anchor, as Linkerd's docs create one with step
// (--profile intermediate-ca). It is how an issuer is rotated: a new one
// under the same anchor.
func NewIssuer(anchor Pair, cn string, now time.Time) (Pair, error) {
	parent, err := parseCerts(anchor.CertPEM)
	if err != nil {
		return Pair{}, fmt.Errorf("the anchor certificate %v", err)
	}
	signer, err := parseKey(anchor.KeyPEM)
	if err != nil {
		return Pair{}, fmt.Errorf("the anchor key %v", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Pair{}, err
	}
	tmpl, err := caTemplate(cn, now, issuerValidity, 0)
	if err != nil {
		return Pair{}, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent[0], &key.PublicKey, signer)
	if err != nil {
		return Pair{}, err
	}
	return pairOf(der, key)
}

func pairOf(der []byte, key *ecdsa.PrivateKey) (Pair, error) {
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return Pair{}, err
	}
	return Pair{CertPEM: encode("CERTIFICATE", der), KeyPEM: encode("EC PRIVATE KEY", keyDER)}, nil
}

// GenerateLinkerdIdentity returns a new trust anchor (NewAnchor) and an
// issuer signed by it (NewIssuer), with the names Linkerd's docs use. The
// key is an "EC PRIVATE KEY" PEM block, the form Linkerd's chart expects;
// the anchor's key is not returned (nothing keeps it).
func GenerateLinkerdIdentity(now time.Time) (anchorPEM, issuerCertPEM, issuerKeyPEM string, err error) {
	anchor, err := NewAnchor("root.linkerd."+mesh.DefaultTrustDomain, now)
	if err != nil {
		return "", "", "", err
	}
	issuer, err := NewIssuer(anchor, "identity.linkerd."+mesh.DefaultTrustDomain, now)
	if err != nil {
		return "", "", "", err
	}
	return anchor.CertPEM, issuer.CertPEM, issuer.KeyPEM, nil
}

func caTemplate(cn string, now time.Time, validity time.Duration, maxPathLen int) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            maxPathLen,
		MaxPathLenZero:        maxPathLen == 0,
		SignatureAlgorithm:    x509.ECDSAWithSHA256,
	}, nil
}

func encode(blockType string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}))
}

// Info is what may be kept about a certificate outside the cluster: no key
// material.
type Info struct {
	// Fingerprint is "sha256:" and the hex SHA-256 of the certificate's DER.
	Fingerprint string
	Subject     string
	NotAfter    time.Time
}

// Inspect describes the first certificate of a PEM bundle.
func Inspect(certPEM string) (Info, error) {
	cs, err := parseCerts(certPEM)
	if err != nil {
		return Info{}, fmt.Errorf("the certificate %v", err)
	}
	sum := sha256.Sum256(cs[0].Raw)
	return Info{Fingerprint: "sha256:" + hex.EncodeToString(sum[:]), Subject: cs[0].Subject.CommonName, NotAfter: cs[0].NotAfter}, nil
}

// KeyError is KeyMatches' finding: the certificate or key does not parse,
// or the key is not the certificate's. Its message never includes key
// material.
type KeyError struct{ msg string }

func (e *KeyError) Error() string { return e.msg }

// KeyMatches reports, as a *KeyError, why keyPEM is not the private key of
// the first certificate of certPEM; nil when it is.
func KeyMatches(certPEM, keyPEM string) error {
	cs, err := parseCerts(certPEM)
	if err != nil {
		return &KeyError{"the certificate " + err.Error()}
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return &KeyError{"the key " + err.Error()}
	}
	if !keyMatches(cs[0], key) {
		return &KeyError{"the key is not the certificate's private key"}
	}
	return nil
}
