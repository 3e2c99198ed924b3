package kubetest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// PatchIstioWebhookCABundles does, until ctx ends, what a running istiod
// does to its webhook configurations: it patches a caBundle into every
// webhook of the Mutating and ValidatingWebhookConfigurations whose name
// starts with "istio" as soon as they appear without one. The test clusters
// run no istiod process (kwok only simulates pods), so without this an Istio
// install never becomes ready. TESTS ONLY: the provider itself never does
// this. The bundle is a throwaway CA nobody serves with, so create test
// workloads in namespaces without injection labels (istiod's injector
// webhook has failurePolicy Fail).
func PatchIstioWebhookCABundles(ctx context.Context, cfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	bundle, err := throwawayCA()
	if err != nil {
		return err
	}
	go func() {
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			patchMutating(ctx, cs, bundle)
			patchValidating(ctx, cs, bundle)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return nil
}

func patchMutating(ctx context.Context, cs kubernetes.Interface, bundle []byte) {
	api := cs.AdmissionregistrationV1().MutatingWebhookConfigurations()
	list, err := api.List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, c := range list.Items {
		changed := false
		for i := range c.Webhooks {
			if strings.HasPrefix(c.Name, "istio") && len(c.Webhooks[i].ClientConfig.CABundle) == 0 {
				c.Webhooks[i].ClientConfig.CABundle, changed = bundle, true
			}
		}
		if changed {
			_, _ = api.Update(ctx, &c, metav1.UpdateOptions{}) // a conflict is retried on the next tick
		}
	}
}

func patchValidating(ctx context.Context, cs kubernetes.Interface, bundle []byte) {
	api := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	list, err := api.List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, c := range list.Items {
		changed := false
		for i := range c.Webhooks {
			if strings.HasPrefix(c.Name, "istio") && len(c.Webhooks[i].ClientConfig.CABundle) == 0 {
				c.Webhooks[i].ClientConfig.CABundle, changed = bundle, true
			}
		}
		if changed {
			_, _ = api.Update(ctx, &c, metav1.UpdateOptions{})
		}
	}
}

// throwawayCA is a self-signed CA certificate, PEM.
func throwawayCA() ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := certTemplate("istiod-simulated-ca")
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
