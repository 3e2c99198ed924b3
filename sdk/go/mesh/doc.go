// Service-mesh intent (canaries, mirroring, mTLS, authorization, control-plane installs) rendered onto Istio or Linkerd.
package mesh
