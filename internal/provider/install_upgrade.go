package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/meshform/terraform-provider-mesh/internal/certs"
)

var _ resource.ResourceWithUpgradeState = (*installResource)(nil)

// upgradeConfirmTimeout bounds the cluster read that confirms a generated
// key before it leaves state.
const upgradeConfirmTimeout = 30 * time.Second

// UpgradeState moves version 0 states, which kept the Linkerd issuer key,
// to version 1, which keeps no private key.
func (r *installResource) UpgradeState(context.Context) map[int64]resource.StateUpgrader {
	return map[int64]resource.StateUpgrader{0: {StateUpgrader: r.upgradeFromV0}}
}

// upgradeFromV0 drops the keys from state. A supplied key is in the
// configuration (write-only now), so it simply goes. A generated key goes
// only once the cluster is confirmed to hold the same key (the chart's
// issuer Secret), since state may have been its only other copy; until
// then the upgrade fails and the version 0 state is kept as it was.
func (r *installResource) upgradeFromV0(ctx context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
	if req.RawState == nil {
		resp.Diagnostics.AddError("Upgrading mesh_install state failed", "The prior state is empty; this is a bug in the provider.")
		return
	}
	var raw map[string]any
	if err := json.Unmarshal(req.RawState.JSON, &raw); err != nil {
		resp.Diagnostics.AddError("Upgrading mesh_install state failed", "The version 0 state does not parse: "+err.Error()+".")
		return
	}
	if supplied, ok := raw["linkerd_identity"].(map[string]any); ok {
		supplied["issuer_key_pem"] = nil
	}
	if gen, ok := raw["generated_identity"].(map[string]any); ok {
		anchors, _ := gen["trust_anchors_pem"].(string)
		issuer, _ := gen["issuer_cert_pem"].(string)
		if key, _ := gen["issuer_key_pem"].(string); key != "" {
			namespace, _ := raw["namespace"].(string)
			if why := r.confirmKeyInCluster(ctx, namespace, issuer, key); why != "" {
				resp.Diagnostics.AddError("Upgrading mesh_install state: the generated issuer key is not confirmed in the cluster",
					fmt.Sprintf("This provider version keeps a generated Linkerd issuer key in the cluster only (Secret %s/linkerd-identity-issuer), "+
						"and drops it from the state written by earlier versions once the cluster is confirmed to hold the same key. "+
						"It could not be confirmed: %s. Nothing was changed, and the state keeps the key until a plan confirms it: "+
						"run it again once the cluster is reachable. If the Secret is gone for good, read the key from the state "+
						"(terraform state pull) and supply it in linkerd_identity with the same certificates (%s).",
						namespace, why, identityGuide))
				return
			}
		}
		m := map[string]any{}
		for name, v := range generatedIdentityValue(anchors, issuer).Attributes() {
			m[name] = nil
			if s, ok := v.(types.String); ok && !s.IsNull() {
				m[name] = s.ValueString()
			}
		}
		raw["generated_identity"] = m
	}
	b, err := json.Marshal(raw)
	if err != nil {
		resp.Diagnostics.AddError("Upgrading mesh_install state failed", err.Error())
		return
	}
	resp.DynamicValue = &tfprotov6.DynamicValue{JSON: b}
}

// confirmKeyInCluster returns why key cannot be confirmed as the key of
// issuer that the cluster holds, or "" when it is.
func (r *installResource) confirmKeyInCluster(ctx context.Context, namespace, issuer, key string) string {
	inst, err := r.engine()
	if err != nil {
		return "the cluster cannot be read (" + err.Error() + ")"
	}
	ctx, cancel := context.WithTimeout(ctx, upgradeConfirmTimeout)
	defer cancel()
	live, err := inst.LinkerdIssuerKey(ctx, namespace)
	if err != nil {
		return redact(err.Error())
	}
	if strings.TrimSpace(live) == strings.TrimSpace(key) {
		return ""
	}
	if certs.KeyMatches(issuer, live) == nil && certs.KeyMatches(issuer, key) == nil {
		return "" // the same key, encoded differently
	}
	return fmt.Sprintf("Secret %s/linkerd-identity-issuer holds another key than the state (it was changed outside Terraform)", namespace)
}
