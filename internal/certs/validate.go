package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

// expiryWarning is linkerd check's expirationWarningThresholdInDays.
const expiryWarning = 60 * 24 * time.Hour

var (
	pathAnchors   = []any{"linkerd_identity", "trust_anchors_pem"}
	pathIssuer    = []any{"linkerd_identity", "issuer_cert_pem"}
	pathIssuerKey = []any{"linkerd_identity", "issuer_key_pem"}
)

// ValidateLinkerdIdentity applies linkerd check's certificate checks
// (MESH-INS-007..010). Messages never include key material.
func ValidateLinkerdIdentity(anchorsPEM, issuerCertPEM, issuerKeyPEM string, now time.Time) mesh.Problems {
	var ps mesh.Problems
	anchors, err := parseCerts(anchorsPEM)
	if err != nil {
		ps.Errorf(mesh.CodeInsIdentityParse, pathAnchors, "trust anchors do not parse",
			"linkerd_identity.trust_anchors_pem %v. Provide one or more PEM \"CERTIFICATE\" blocks, or omit linkerd_identity to let the provider generate them.", err)
	}
	issuers, err := parseCerts(issuerCertPEM)
	if err != nil {
		ps.Errorf(mesh.CodeInsIdentityParse, pathIssuer, "issuer certificate does not parse",
			"linkerd_identity.issuer_cert_pem %v. Provide the issuer certificate as a PEM \"CERTIFICATE\" block.", err)
	}
	key, err := parseKey(issuerKeyPEM)
	if err != nil {
		// err describes the PEM structure only, never the key bytes.
		ps.Errorf(mesh.CodeInsIdentityParse, pathIssuerKey, "issuer key does not parse",
			"linkerd_identity.issuer_key_pem %v. Provide the issuer's ECDSA P-256 private key as a PEM \"EC PRIVATE KEY\" (or \"PRIVATE KEY\") block.", err)
	}
	for _, a := range anchors {
		checkAnchorAlgorithm(&ps, a)
		checkValidity(&ps, pathAnchors, "trust anchor", a, now, rotateSupplied)
	}
	if len(issuers) == 0 {
		return ps
	}
	issuer := issuers[0]
	if key != nil && !keyMatches(issuer, key) {
		ps.Errorf(mesh.CodeInsIdentityParse, pathIssuerKey, "issuer key does not match the issuer certificate",
			"linkerd_identity.issuer_key_pem does not match issuer_cert_pem. Supply the private key that belongs to the issuer certificate.")
	}
	checkIssuerAlgorithm(&ps, issuer)
	if !issuer.IsCA {
		ps.Errorf(mesh.CodeInsIdentityChain, pathIssuer, "issuer certificate is not a CA",
			"issuer certificate is not a CA. Linkerd's identity service signs workload certificates with it: create it as an intermediate CA (step certificate create ... --profile intermediate-ca).")
	} else if len(anchors) > 0 && !signedByAnchor(issuer, anchors) {
		ps.Errorf(mesh.CodeInsIdentityChain, pathIssuer, "issuer certificate is not signed by a trust anchor",
			"issuer certificate is not signed by any trust anchor in trust_anchors_pem. Sign the issuer with one of the trust anchors, or add its signing CA to trust_anchors_pem.")
	}
	checkValidity(&ps, pathIssuer, "issuer certificate", issuer, now, rotateSupplied)
	return ps
}

// rotateSupplied is how to replace a supplied certificate.
const rotateSupplied = "Rotate it before then: put the new certificate and key in linkerd_identity and apply (docs/guides/linkerd-identity.md)."

// CheckExpiry applies the validity checks of ValidateLinkerdIdentity to each
// certificate of a PEM bundle kept outside the configuration (a generated
// identity in state), at path, with rotate saying how to replace it.
func CheckExpiry(path []any, what, certPEM string, now time.Time, rotate string) mesh.Problems {
	var ps mesh.Problems
	cs, err := parseCerts(certPEM)
	if err != nil {
		ps.Errorf(mesh.CodeInsIdentityParse, path, what+" does not parse", "%s %v.", what, err)
		return ps
	}
	for _, c := range cs {
		checkValidity(&ps, path, what, c, now, rotate)
	}
	return ps
}

func parseCerts(s string) ([]*x509.Certificate, error) {
	rest := []byte(s)
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("contains a PEM %q block where a \"CERTIFICATE\" was expected", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("holds a certificate that does not parse (%v)", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("contains no PEM certificate")
	}
	return out, nil
}

func parseKey(s string) (crypto.Signer, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, errors.New("contains no PEM block")
	}
	switch b.Type {
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(b.Bytes)
		if err != nil {
			return nil, errors.New("holds an \"EC PRIVATE KEY\" block that does not parse")
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, errors.New("holds a \"PRIVATE KEY\" block that does not parse")
		}
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
		return nil, errors.New("holds a private key of an unsupported type")
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
		if err != nil {
			return nil, errors.New("holds an \"RSA PRIVATE KEY\" block that does not parse")
		}
		return k, nil
	}
	return nil, fmt.Errorf("holds a PEM %q block, not a private key", b.Type)
}

func keyMatches(c *x509.Certificate, key crypto.Signer) bool {
	pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(key.Public())
}

// algorithm names a certificate's key as "ECDSA/P-256" or "RSA/2048".
func algorithm(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA/" + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA/%d", k.N.BitLen())
	}
	return c.PublicKeyAlgorithm.String()
}

func checkIssuerAlgorithm(ps *mesh.Problems, c *x509.Certificate) {
	if k, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		ps.Errorf(mesh.CodeInsIdentityKeyAlg, pathIssuer, "issuer certificate must use ECDSA P-256",
			"issuer certificate must use ECDSA P-256 (found %s). Linkerd accepts only ECDSA P-256 issuers; create one with step certificate create --kty EC --crv P-256.", algorithm(c))
	}
}

func checkAnchorAlgorithm(ps *mesh.Problems, c *x509.Certificate) {
	switch k := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return
		}
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n == 2048 || n == 4096 {
			return
		}
	}
	ps.Errorf(mesh.CodeInsIdentityKeyAlg, pathAnchors, "trust anchor uses an unsupported algorithm",
		"trust anchor %q must use ECDSA P-256 or RSA 2048/4096 (found %s).", c.Subject.CommonName, algorithm(c))
}

func signedByAnchor(issuer *x509.Certificate, anchors []*x509.Certificate) bool {
	for _, a := range anchors {
		if issuer.CheckSignatureFrom(a) == nil {
			return true
		}
	}
	return false
}

func checkValidity(ps *mesh.Problems, path []any, what string, c *x509.Certificate, now time.Time, rotate string) {
	switch {
	case now.Before(c.NotBefore):
		ps.Errorf(mesh.CodeInsIdentityValidity, path, what+" is not yet valid",
			"%s %q is not valid before %s. Check the clock or issue it with an earlier start.", what, c.Subject.CommonName, c.NotBefore.UTC().Format(time.RFC3339))
	case now.After(c.NotAfter):
		ps.Errorf(mesh.CodeInsIdentityValidity, path, what+" has expired",
			"%s %q expired on %s. %s", what, c.Subject.CommonName, c.NotAfter.UTC().Format(time.RFC3339), rotate)
	case c.NotAfter.Sub(now) < expiryWarning:
		ps.Warnf(mesh.CodeInsIdentityValidity, path, what+" expires soon",
			"%s %q expires on %s (linkerd check warns under 60 days). %s", what, c.Subject.CommonName, c.NotAfter.UTC().Format(time.RFC3339), rotate)
	}
}
