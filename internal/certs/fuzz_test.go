package certs

import (
	"strings"
	"testing"
	"time"
)

// FuzzValidateLinkerdIdentity: the certificate parser and validator never
// panic, whatever PEM (or not) they are given. Seeds: a generated
// identity, its parts swapped, truncated and empty.
func FuzzValidateLinkerdIdentity(f *testing.F) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	anchor, cert, key, err := GenerateLinkerdIdentity(now)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(anchor, cert, key)
	f.Add(cert, anchor, key)
	f.Add(anchor[:len(anchor)/2], cert, key[:len(key)/3])
	f.Add("", "", "")
	f.Add("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", cert, "not a key")
	f.Fuzz(func(t *testing.T, anchors, issuerCert, issuerKey string) {
		_ = ValidateLinkerdIdentity(anchors, issuerCert, issuerKey, now)
		_, _ = Inspect(anchors)
		_ = CheckExpiry([]any{"x"}, "x", issuerCert, now, "")
		if err := KeyMatches(issuerCert, issuerKey); err != nil && strings.Contains(err.Error(), "PRIVATE KEY-----") {
			t.Fatal("an error quotes key material")
		}
	})
}
