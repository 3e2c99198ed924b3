// Package certs generates and validates the Linkerd identity certificates:
// a trust anchor (root CA) and an issuer (intermediate CA) signed by it,
// with the checks linkerd check applies (MESH-MAPPING §1.3, §1.7).
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"time"
)

const (
	anchorValidity = 10 * 365 * 24 * time.Hour
	issuerValidity = 365 * 24 * time.Hour
	// clockSkew backdates NotBefore so a cluster whose clock is slightly
	// behind ours still accepts the certificates at once.
	clockSkew = 5 * time.Minute
)

// GenerateLinkerdIdentity returns a new ECDSA P-256 trust anchor (self-signed,
// valid 10 years) and an issuer intermediate CA signed by it (valid 1 year),
// as linkerd's docs generate them with step. The key is an "EC PRIVATE KEY"
// PEM block, the form Linkerd's chart expects.
func GenerateLinkerdIdentity(now time.Time) (anchorPEM, issuerCertPEM, issuerKeyPEM string, err error) {
	anchorKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", "", err
	}
	anchorTmpl, err := caTemplate("root.linkerd.cluster.local", now, anchorValidity, 1)
	if err != nil {
		return "", "", "", err
	}
	anchorDER, err := x509.CreateCertificate(rand.Reader, anchorTmpl, anchorTmpl, &anchorKey.PublicKey, anchorKey)
	if err != nil {
		return "", "", "", err
	}
	anchor, err := x509.ParseCertificate(anchorDER)
	if err != nil {
		return "", "", "", err
	}
	issuerKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", "", err
	}
	issuerTmpl, err := caTemplate("identity.linkerd.cluster.local", now, issuerValidity, 0)
	if err != nil {
		return "", "", "", err
	}
	issuerDER, err := x509.CreateCertificate(rand.Reader, issuerTmpl, anchor, &issuerKey.PublicKey, anchorKey)
	if err != nil {
		return "", "", "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(issuerKey)
	if err != nil {
		return "", "", "", err
	}
	return encode("CERTIFICATE", anchorDER), encode("CERTIFICATE", issuerDER), encode("EC PRIVATE KEY", keyDER), nil
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
