package install

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// linkerdIssuerSecret is the Secret the linkerd-control-plane chart renders
// the issuer into (identity.issuer.scheme linkerd.io/tls, its default), and
// the identity controller reads it from.
const linkerdIssuerSecret = "linkerd-identity-issuer"

// ErrNoIssuerKey is LinkerdIssuerKey's error when the cluster holds no
// issuer key.
var ErrNoIssuerKey = errors.New("the cluster holds no Linkerd issuer key")

// LinkerdIssuerKey reads the issuer private key, PEM, from the chart's
// Secret in namespace: the one place a generated identity's key is kept
// (besides the Helm release itself), so that it never has to be in
// Terraform state. Errors never include key material.
func (i *Installer) LinkerdIssuerKey(ctx context.Context, namespace string) (string, error) {
	s, err := i.cs.CoreV1().Secrets(namespace).Get(ctx, linkerdIssuerSecret, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", fmt.Errorf("%w: Secret %s/%s does not exist", ErrNoIssuerKey, namespace, linkerdIssuerSecret)
	}
	if err != nil {
		return "", fmt.Errorf("reading Secret %s/%s: %w", namespace, linkerdIssuerSecret, err)
	}
	key := strings.TrimSpace(string(s.Data["key.pem"]))
	if key == "" {
		return "", fmt.Errorf("%w: Secret %s/%s has no key.pem", ErrNoIssuerKey, namespace, linkerdIssuerSecret)
	}
	return key + "\n", nil
}
