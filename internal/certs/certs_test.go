package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/meshform/terraform-provider-mesh/internal/mesh"
)

var now = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

func TestGenerateLinkerdIdentity(t *testing.T) {
	anchorPEM, issuerPEM, keyPEM, err := GenerateLinkerdIdentity(now)
	if err != nil {
		t.Fatal(err)
	}
	if ps := ValidateLinkerdIdentity(anchorPEM, issuerPEM, keyPEM, now); len(ps) > 0 {
		t.Fatalf("generated identity: %v", ps)
	}
	anchor, issuer := mustParse(t, anchorPEM), mustParse(t, issuerPEM)
	if !anchor.IsCA || anchor.CheckSignatureFrom(anchor) != nil {
		t.Error("anchor is not a self-signed CA")
	}
	if got := anchor.NotAfter.Sub(now); got != anchorValidity {
		t.Errorf("anchor valid for %s", got)
	}
	if got := issuer.NotAfter.Sub(now); got != issuerValidity {
		t.Errorf("issuer valid for %s", got)
	}
	if b, _ := pem.Decode([]byte(keyPEM)); b == nil || b.Type != "EC PRIVATE KEY" {
		t.Errorf("key PEM block %v", b)
	}
	// A year minus a day later the issuer is inside the warning window.
	ps := ValidateLinkerdIdentity(anchorPEM, issuerPEM, keyPEM, now.Add(issuerValidity-24*time.Hour))
	if len(ps) != 1 || ps[0].Severity != mesh.SeverityWarning || ps[0].Code != "MESH-INS-010" {
		t.Errorf("near expiry: %v", ps)
	}
}

func mustParse(t *testing.T, s string) *x509.Certificate {
	t.Helper()
	cs, err := parseCerts(s)
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}

// certSpec builds test certificates.
type certSpec struct {
	key       crypto.Signer
	isCA      bool
	notBefore time.Time
	notAfter  time.Time
}

func p256() crypto.Signer {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return k
}

func makeCert(t *testing.T, s certSpec, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, string) {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: fmt.Sprintf("test-%t", s.isCA)},
		NotBefore: s.notBefore, NotAfter: s.notAfter, IsCA: s.isCA, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	if parent == nil {
		parent, parentKey = tmpl, s.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, s.key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func keyPEM(t *testing.T, k crypto.Signer) string {
	t.Helper()
	if ec, ok := k.(*ecdsa.PrivateKey); ok {
		der, _ := x509.MarshalECPrivateKey(ec)
		return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func TestValidateLinkerdIdentity(t *testing.T) {
	valid := certSpec{isCA: true, notBefore: now.Add(-time.Hour), notAfter: now.Add(365 * 24 * time.Hour)}
	anchorKey, issuerKey := p256(), p256()
	anchor, anchorPEM := makeCert(t, with(valid, anchorKey), nil, nil)
	_, issuerPEM := makeCert(t, with(valid, issuerKey), anchor, anchorKey)
	issuerKeyPEM := keyPEM(t, issuerKey)
	otherKey := p256()
	_, otherAnchorPEM := makeCert(t, with(valid, otherKey), nil, nil)

	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, p384IssuerPEM := makeCert(t, with(valid, p384), anchor, anchorKey)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	_, rsaAnchorPEM := makeCert(t, with(valid, rsa1024), nil, nil)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, rsa2048AnchorPEM := makeCert(t, with(valid, rsa2048), nil, nil)
	rsa2048Anchor := mustParse(t, rsa2048AnchorPEM)
	_, issuerUnderRSAPEM := makeCert(t, with(valid, issuerKey), rsa2048Anchor, rsa2048)
	notCA := valid
	notCA.isCA = false
	_, leafPEM := makeCert(t, with(notCA, issuerKey), anchor, anchorKey)
	expired := with(valid, issuerKey)
	expired.notBefore, expired.notAfter = now.Add(-48*time.Hour), now.Add(-24*time.Hour)
	_, expiredPEM := makeCert(t, expired, anchor, anchorKey)
	future := with(valid, issuerKey)
	future.notBefore = now.Add(24 * time.Hour)
	_, futurePEM := makeCert(t, future, anchor, anchorKey)
	soon := with(valid, issuerKey)
	soon.notAfter = now.Add(30 * 24 * time.Hour)
	_, soonPEM := makeCert(t, soon, anchor, anchorKey)

	type finding struct {
		sev      mesh.Severity
		code     string
		path     string
		contains string
	}
	issuerPath, anchorPath, keyPath := "linkerd_identity.issuer_cert_pem", "linkerd_identity.trust_anchors_pem", "linkerd_identity.issuer_key_pem"
	for name, tc := range map[string]struct {
		anchors, issuer, key string
		want                 []finding
	}{
		"valid":                          {anchorPEM, issuerPEM, issuerKeyPEM, nil},
		"valid with two anchors":         {otherAnchorPEM + anchorPEM, issuerPEM, issuerKeyPEM, nil},
		"valid under an RSA 2048 anchor": {rsa2048AnchorPEM, issuerUnderRSAPEM, issuerKeyPEM, nil},
		"anchor does not parse": {"not pem", issuerPEM, issuerKeyPEM, []finding{
			{mesh.SeverityError, "MESH-INS-007", anchorPath, "trust_anchors_pem contains no PEM certificate"}}},
		"issuer does not parse": {anchorPEM, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", issuerKeyPEM, []finding{
			{mesh.SeverityError, "MESH-INS-007", issuerPath, "holds a certificate that does not parse"}}},
		"key is a certificate": {anchorPEM, issuerPEM, issuerPEM, []finding{
			{mesh.SeverityError, "MESH-INS-007", keyPath, `holds a PEM "CERTIFICATE" block, not a private key`}}},
		"key does not match": {anchorPEM, issuerPEM, keyPEM(t, otherKey), []finding{
			{mesh.SeverityError, "MESH-INS-007", keyPath, "linkerd_identity.issuer_key_pem does not match issuer_cert_pem."}}},
		"issuer P-384": {anchorPEM, p384IssuerPEM, keyPEM(t, p384), []finding{
			{mesh.SeverityError, "MESH-INS-008", issuerPath, "issuer certificate must use ECDSA P-256 (found ECDSA/P-384)."}}},
		"anchor RSA 1024": {rsaAnchorPEM, issuerPEM, issuerKeyPEM, []finding{
			{mesh.SeverityError, "MESH-INS-008", anchorPath, "must use ECDSA P-256 or RSA 2048/4096 (found RSA/1024)."},
			{mesh.SeverityError, "MESH-INS-009", issuerPath, "issuer certificate is not signed by any trust anchor in trust_anchors_pem."}}},
		"issuer not a CA": {anchorPEM, leafPEM, issuerKeyPEM, []finding{
			{mesh.SeverityError, "MESH-INS-009", issuerPath, "issuer certificate is not a CA."}}},
		"issuer signed by another anchor": {otherAnchorPEM, issuerPEM, issuerKeyPEM, []finding{
			{mesh.SeverityError, "MESH-INS-009", issuerPath, "issuer certificate is not signed by any trust anchor in trust_anchors_pem."}}},
		"issuer expired": {anchorPEM, expiredPEM, issuerKeyPEM, []finding{
			{mesh.SeverityError, "MESH-INS-010", issuerPath, "expired on 2026-08-31T12:00:00Z"}}},
		"issuer not yet valid": {anchorPEM, futurePEM, issuerKeyPEM, []finding{
			{mesh.SeverityError, "MESH-INS-010", issuerPath, "is not valid before 2026-09-02T12:00:00Z"}}},
		"issuer expires within 60 days": {anchorPEM, soonPEM, issuerKeyPEM, []finding{
			{mesh.SeverityWarning, "MESH-INS-010", issuerPath, `issuer certificate "test-true" expires on 2026-10-01T12:00:00Z (linkerd check warns under 60 days). Rotate it before then: put the new certificate and key in linkerd_identity and apply`}}},
	} {
		t.Run(name, func(t *testing.T) {
			ps := ValidateLinkerdIdentity(tc.anchors, tc.issuer, tc.key, now)
			if len(ps) != len(tc.want) {
				t.Fatalf("got %d findings, want %d: %+v", len(ps), len(tc.want), ps)
			}
			for n, w := range tc.want {
				p := ps[n]
				path := fmt.Sprint(p.Path[0]) + "." + fmt.Sprint(p.Path[1])
				if p.Severity != w.sev || p.Code != w.code || path != w.path || !strings.HasPrefix(p.Summary, w.code+": ") || !strings.Contains(p.Detail, w.contains) {
					t.Errorf("finding %d = %+v, want %+v", n, p, w)
				}
				if strings.Contains(p.Detail, "PRIVATE KEY-----") || strings.Contains(p.Detail, tc.key[min(40, len(tc.key)):]) {
					t.Errorf("finding %d leaks key material", n)
				}
			}
		})
	}
}

func TestValidateExpiredAnchor(t *testing.T) {
	anchorKey, issuerKey := p256(), p256()
	spec := certSpec{key: anchorKey, isCA: true, notBefore: now.Add(-48 * time.Hour), notAfter: now.Add(-time.Hour)}
	anchor, anchorPEM := makeCert(t, spec, nil, nil)
	_, issuerPEM := makeCert(t, certSpec{key: issuerKey, isCA: true, notBefore: now.Add(-48 * time.Hour), notAfter: now.Add(365 * 24 * time.Hour)}, anchor, anchorKey)
	ps := ValidateLinkerdIdentity(anchorPEM, issuerPEM, keyPEM(t, issuerKey), now)
	if len(ps) != 1 || ps[0].Code != "MESH-INS-010" || ps[0].Path[1] != "trust_anchors_pem" || !strings.Contains(ps[0].Detail, "trust anchor") {
		t.Errorf("findings %+v", ps)
	}
}

func with(s certSpec, k crypto.Signer) certSpec {
	s.key = k
	return s
}

func TestInspectAndKeyMatches(t *testing.T) {
	anchor, cert, key, err := GenerateLinkerdIdentity(now)
	if err != nil {
		t.Fatal(err)
	}
	info, err := Inspect(cert)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256Hex(mustParse(t, cert).Raw)
	if info.Fingerprint != "sha256:"+want || info.Subject != "identity.linkerd.cluster.local" || !info.NotAfter.Equal(now.Add(issuerValidity).Truncate(time.Second)) {
		t.Errorf("Inspect = %+v", info)
	}
	if err := KeyMatches(cert, key); err != nil {
		t.Errorf("own key: %v", err)
	}
	_, _, other, _ := GenerateLinkerdIdentity(now)
	for name, tc := range map[string]struct{ cert, key, want string }{
		"another key":    {cert, other, "the key is not the certificate's private key"},
		"the anchor":     {anchor, key, "the key is not the certificate's private key"},
		"no certificate": {"", key, "the certificate contains no PEM certificate"},
		"no key":         {cert, "x", "the key contains no PEM block"},
	} {
		err := KeyMatches(tc.cert, tc.key)
		if err == nil || err.Error() != tc.want || !errors.As(err, new(*KeyError)) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "PRIVATE KEY-----") {
			t.Errorf("%s: the error quotes key material", name)
		}
	}
	if _, err := Inspect("not pem"); err == nil || err.Error() != "the certificate contains no PEM certificate" {
		t.Errorf("Inspect(garbage) = %v", err)
	}
}

func TestCheckExpiry(t *testing.T) {
	_, cert, _, err := GenerateLinkerdIdentity(now)
	if err != nil {
		t.Fatal(err)
	}
	path := []any{"generated_identity", "issuer_cert_pem"}
	if ps := CheckExpiry(path, "generated issuer", cert, now, "do X."); len(ps) != 0 {
		t.Errorf("fresh: %v", ps)
	}
	ps := CheckExpiry(path, "generated issuer", cert, now.Add(issuerValidity-59*24*time.Hour), "do X.")
	if len(ps) != 1 || ps[0].Severity != mesh.SeverityWarning || !strings.HasSuffix(ps[0].Detail, "(linkerd check warns under 60 days). do X.") {
		t.Errorf("59 days before expiry: %v", ps)
	}
	if ps := CheckExpiry(path, "generated issuer", cert, now.Add(issuerValidity-61*24*time.Hour), "do X."); len(ps) != 0 {
		t.Errorf("61 days before expiry: %v", ps)
	}
	ps = CheckExpiry(path, "generated issuer", cert, now.Add(issuerValidity+time.Hour), "do X.")
	if len(ps) != 1 || ps[0].Severity != mesh.SeverityError || !strings.Contains(ps[0].Detail, "expired on") {
		t.Errorf("expired: %v", ps)
	}
	if ps := CheckExpiry(path, "generated issuer", "junk", now, "do X."); len(ps) != 1 || ps[0].Code != mesh.CodeInsIdentityParse {
		t.Errorf("junk: %v", ps)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestIssuerRotation: issuers under one anchor, and an anchor bundle during
// an anchor rotation, all validate; an issuer under an anchor left out of
// the bundle does not.
func TestIssuerRotation(t *testing.T) {
	a, err := NewAnchor("a", now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewAnchor("b", now)
	if err != nil {
		t.Fatal(err)
	}
	i1, _ := NewIssuer(a, "i1", now)
	i2, _ := NewIssuer(a, "i2", now)
	i3, _ := NewIssuer(b, "i3", now)
	for name, tc := range map[string]struct {
		anchors string
		issuer  Pair
		ok      bool
	}{
		"first issuer":                {a.CertPEM, i1, true},
		"rotated issuer":              {a.CertPEM, i2, true},
		"bundle, old issuer":          {a.CertPEM + b.CertPEM, i2, true},
		"bundle, new issuer":          {a.CertPEM + b.CertPEM, i3, true},
		"new anchor only":             {b.CertPEM, i3, true},
		"old anchor dropped too soon": {b.CertPEM, i2, false},
	} {
		ps := ValidateLinkerdIdentity(tc.anchors, tc.issuer.CertPEM, tc.issuer.KeyPEM, now)
		if ok := !ps.HasErrors(); ok != tc.ok {
			t.Errorf("%s: valid = %v, want %v (%v)", name, ok, tc.ok, ps)
		}
	}
	if _, err := NewIssuer(Pair{CertPEM: a.CertPEM, KeyPEM: i1.KeyPEM}, "x", now); err == nil {
		t.Error("an anchor key that is not the anchor's signed an issuer")
	}
	if _, err := NewIssuer(Pair{CertPEM: "x", KeyPEM: a.KeyPEM}, "x", now); err == nil || strings.Contains(err.Error(), "PRIVATE") {
		t.Errorf("bad anchor: %v", err)
	}
}
