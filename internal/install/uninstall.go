package install

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// Uninstall removes p's releases in reverse install order, each waiting
// until its objects are gone. Releases that do not exist are skipped.
func (i *Installer) Uninstall(ctx context.Context, p Plan, timeout time.Duration) error {
	for _, r := range slices.Backward(p.Releases) {
		cfg, err := i.actionConfig(r.Namespace)
		if err != nil {
			return err
		}
		if err := i.uninstallRelease(ctx, cfg, r.Name, timeout); err != nil {
			return fmt.Errorf("uninstall release %s: %w", r.Name, err)
		}
	}
	return nil
}

// uninstallRelease uninstalls name with Helm's wait for deletion; a
// release that does not exist is not an error.
func (i *Installer) uninstallRelease(ctx context.Context, cfg *action.Configuration, name string, timeout time.Duration) error {
	if _, err := cfg.Releases.Last(name); errors.Is(err, driver.ErrReleaseNotFound) {
		return nil
	}
	act := action.NewUninstall(cfg)
	act.Wait, act.Timeout = true, timeout
	if dl, ok := ctx.Deadline(); ok && (timeout == 0 || time.Until(dl) < timeout) {
		act.Timeout = time.Until(dl)
	}
	_, err := act.Run(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil
	}
	return err
}
