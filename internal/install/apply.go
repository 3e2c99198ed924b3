package install

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// ApplyOptions configure Apply.
type ApplyOptions struct {
	// Wait waits for readiness (§1.5) after Helm has applied every release.
	Wait bool
	// Timeout bounds the whole Apply (Helm and the wait); 0 means none
	// beyond ctx. Undoing a failed Apply gets its own rollbackTimeout.
	Timeout time.Duration
	// UncommittedLabel, when set, is a Helm release label that every
	// release this Apply installs fresh carries with the value "false"
	// until the Apply has succeeded, as its last write: a create that
	// died leaves releases marked so, which a create again may take over
	// (see Existing), while a finished install is never taken over.
	UncommittedLabel string
}

// Result is what a successful Apply left in the cluster.
type Result struct {
	Revisions       map[string]int // Helm revision per release name
	Components      []Component
	ManifestsDigest string
	// Recovered says what Apply did first to releases an interrupted run
	// had left pending (see recoverPending).
	Recovered []string
}

// rollbackTimeout bounds undoing a failed Apply, whose own deadline may
// already have passed.
const rollbackTimeout = 5 * time.Minute

// change is what Apply did to one release, so a failure can undo it.
type change struct {
	release  string
	previous int // revision to roll back to; 0: installed fresh
}

// Apply installs the releases of p that do not exist (in install order)
// and upgrades those that differ (in UpgradeOrder), with Helm's own wait
// off; then, if asked, waits for readiness. On any failure it rolls back
// every release it changed and uninstalls those it installed, in reverse
// order, and returns an *Error.
func (i *Installer) Apply(ctx context.Context, p Plan, opts ApplyOptions) (*Result, error) {
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	current, recovered, err := i.currentReleases(ctx, p)
	if err != nil {
		return nil, &Error{Cause: err, Recovered: recovered}
	}
	order := p.UpgradeOrder()
	if len(current) == 0 {
		order = p.Releases
	}
	var changes []change
	deployed := map[string]*release.Release{}
	for _, r := range order {
		rel, ch, err := i.applyRelease(ctx, p, r, current[r.Name], opts.UncommittedLabel)
		if ch != nil {
			changes = append(changes, *ch)
		}
		if err != nil {
			return nil, i.undo(&Error{Release: r.Name, Cause: err, Recovered: recovered}, p, changes)
		}
		deployed[r.Name] = rel
	}
	res := &Result{Revisions: map[string]int{}, Recovered: recovered}
	digests := map[string]string{}
	var targets []checked
	for _, r := range p.Releases {
		rel := deployed[r.Name]
		res.Revisions[r.Name] = rel.Version
		digests[r.Name] = digestOf(rel.Manifest)
		objs, err := parseManifest(rel.Manifest)
		if err != nil {
			return nil, i.undo(&Error{Release: r.Name, Cause: err}, p, changes)
		}
		i.fillNamespaces(objs, r.Namespace)
		targets = append(targets, readinessTargets(r.Name, objs)...)
	}
	res.ManifestsDigest = combinedDigest(p, digests)
	if opts.Wait {
		start := time.Now()
		comps, err := i.waitReady(ctx, targets)
		if err != nil {
			e := &Error{Cause: fmt.Errorf("resources not ready after %s: %w", time.Since(start).Round(time.Second), err), NotReady: notReadyOf(comps)}
			e.Release = releaseOf(targets, e.NotReady)
			return nil, i.undo(e, p, changes)
		}
		res.Components = comps
	}
	if err := i.commit(p, opts.UncommittedLabel); err != nil {
		return nil, i.undo(&Error{Cause: err, Recovered: recovered}, p, changes)
	}
	return res, nil
}

// commit clears label from the newest record of every release of p that
// carries it: the releases are this Apply's now, for good.
func (i *Installer) commit(p Plan, label string) error {
	_, err := i.Commit(p, label)
	return err
}

// Commit clears label (ApplyOptions.UncommittedLabel) from the newest
// record of each release of p that carries it, and names those: an import
// adopts what a create that did not finish left, so that another create no
// longer takes it over. A release of p that does not exist is skipped.
func (i *Installer) Commit(p Plan, label string) ([]string, error) {
	if label == "" {
		return nil, nil
	}
	var done []string
	for _, r := range p.Releases {
		cfg, err := i.actionConfig(r.Namespace)
		if err != nil {
			return done, err
		}
		rel, err := cfg.Releases.Last(r.Name)
		if errors.Is(err, driver.ErrReleaseNotFound) {
			continue
		}
		if err != nil {
			return done, fmt.Errorf("commit release %s: %w", r.Name, err)
		}
		if _, marked := rel.Labels[label]; !marked {
			continue
		}
		delete(rel.Labels, label)
		if err := cfg.Releases.Update(rel); err != nil {
			return done, fmt.Errorf("commit release %s (clear its %s label): %w", r.Name, label, err)
		}
		done = append(done, r.Namespace+"/"+r.Name)
	}
	return done, nil
}

// currentReleases returns the newest record of each of p's releases that
// exists (any status but uninstalled), after recovering those an
// interrupted run left pending; recovered says what that did.
func (i *Installer) currentReleases(ctx context.Context, p Plan) (map[string]*release.Release, []string, error) {
	out := map[string]*release.Release{}
	var recovered []string
	for _, r := range p.Releases {
		cfg, err := i.actionConfig(r.Namespace)
		if err != nil {
			return nil, recovered, err
		}
		last, err := cfg.Releases.Last(r.Name)
		if errors.Is(err, driver.ErrReleaseNotFound) {
			continue
		}
		if err != nil {
			return nil, recovered, fmt.Errorf("read release %s: %w", r.Name, err)
		}
		if last.Info.Status.IsPending() {
			did, err := i.recoverPending(ctx, cfg, last, time.Now())
			if err != nil {
				return nil, recovered, err
			}
			recovered = append(recovered, did)
			if last, err = cfg.Releases.Last(r.Name); errors.Is(err, driver.ErrReleaseNotFound) {
				continue
			} else if err != nil {
				return nil, recovered, fmt.Errorf("read release %s: %w", r.Name, err)
			}
		}
		if last.Info.Status != release.StatusUninstalled {
			out[r.Name] = last
		}
	}
	return out, recovered, nil
}

// PendingStaleAfter is how long a release may stay pending before Apply
// takes it for the leftover of an interrupted run (a killed terraform, a
// lost connection) rather than another Helm operation in progress. This
// provider's own Helm operations do not wait for readiness, so they stay
// pending for seconds. A variable only so that the fault tests' provider
// process (internal/provider's serveProviderProcess) can shorten the wait
// its kill trials sit through; nothing else sets it.
var PendingStaleAfter = 2 * time.Minute

// recoverPending undoes what an interrupted run left pending, as `helm
// rollback` would: a pending install (never deployed) is uninstalled, a
// pending upgrade or rollback is rolled back to the last revision that ran
// (uninstalled when there is none). A release pending for less than
// PendingStaleAfter is left alone: another operation may be running.
func (i *Installer) recoverPending(ctx context.Context, cfg *action.Configuration, rel *release.Release, now time.Time) (string, error) {
	status := rel.Info.Status
	age := now.Sub(rel.Info.LastDeployed.Time)
	if age < PendingStaleAfter {
		return "", fmt.Errorf("release %s is %s since %s ago: another Helm operation may be in progress. If none is, this apply recovers it once it has been pending for %s; or roll it back with helm",
			rel.Name, status, age.Round(time.Second), PendingStaleAfter)
	}
	good := lastGood(cfg, rel)
	if status == release.StatusPendingInstall || good == 0 {
		if err := i.uninstallRelease(ctx, cfg, rel.Name, rollbackTimeout); err != nil {
			return "", fmt.Errorf("release %s was left %s by an interrupted run (%s ago); uninstalling it failed: %w", rel.Name, status, age.Round(time.Second), err)
		}
		return fmt.Sprintf("release %s was left %s by an interrupted run (%s ago): uninstalled it, then installed it again", rel.Name, status, age.Round(time.Second)), nil
	}
	rb := action.NewRollback(cfg)
	rb.Version, rb.MaxHistory, rb.Timeout = good, maxHistory, rollbackTimeout
	if err := rb.Run(rel.Name); err != nil {
		return "", fmt.Errorf("release %s was left %s by an interrupted run (%s ago); rolling it back to revision %d failed: %w", rel.Name, status, age.Round(time.Second), good, err)
	}
	return fmt.Sprintf("release %s was left %s at revision %d by an interrupted run (%s ago): rolled it back to revision %d first",
		rel.Name, status, rel.Version, age.Round(time.Second), good), nil
}

// lastGood is the newest revision before rel that ran: deployed, or
// superseded by a later one (0: none).
func lastGood(cfg *action.Configuration, rel *release.Release) int {
	history, err := cfg.Releases.History(rel.Name)
	if err != nil {
		return 0
	}
	good := 0
	for _, h := range history {
		if h.Version < rel.Version && h.Version > good && h.Info != nil &&
			(h.Info.Status == release.StatusDeployed || h.Info.Status == release.StatusSuperseded) {
			good = h.Version
		}
	}
	return good
}

// applyRelease installs or upgrades r; an unchanged deployed release is left
// alone. The returned change is non-nil once the cluster was touched.
func (i *Installer) applyRelease(ctx context.Context, p Plan, r Release, cur *release.Release, uncommitted string) (*release.Release, *change, error) {
	if cur != nil && cur.Info.Status == release.StatusDeployed && unchanged(cur, p.Version, r.Values) {
		return cur, nil, nil
	}
	cfg, err := i.actionConfig(r.Namespace)
	if err != nil {
		return nil, nil, err
	}
	ch, err := i.loadChart(ctx, p.Repository, r.Chart, p.Version)
	if err != nil {
		return nil, nil, err
	}
	adopt, err := i.adoptable(ctx, p, r)
	if err != nil {
		return nil, nil, err
	}
	vals := deepMerge(nil, r.Values)
	if cur == nil {
		act := action.NewInstall(cfg)
		act.ReleaseName, act.Namespace, act.CreateNamespace = r.Name, r.Namespace, true
		act.Timeout = hookTimeout(ctx)
		act.TakeOwnership = len(adopt) > 0
		act.PostRenderer = keepAdopted(adopt)
		if uncommitted != "" {
			act.Labels = map[string]string{uncommitted: "false"}
		}
		done := i.boundHelm(ctx)
		rel, err := act.RunWithContext(context.WithoutCancel(ctx), ch, vals)
		return rel, &change{release: r.Name}, done(err)
	}
	previous := lastDeployed(cfg, r.Name, cur)
	act := action.NewUpgrade(cfg)
	act.Namespace, act.MaxHistory = r.Namespace, maxHistory
	act.Timeout = hookTimeout(ctx)
	act.TakeOwnership = len(adopt) > 0
	act.PostRenderer = keepAdopted(adopt)
	done := i.boundHelm(ctx)
	rel, err := act.RunWithContext(context.WithoutCancel(ctx), r.Name, ch, vals)
	return rel, &change{release: r.Name, previous: previous}, done(err)
}

// boundHelm runs a Helm action to its end rather than abandoning it at
// ctx's end: Helm's RunWithContext returns when its context is done but
// leaves the release's writes running in the background, and a rollback
// started then would race them (found by TestAccInstallFaultsMidUpgrade:
// an upgrade's patch landing after the rollback's). So the action runs on
// a context that is never cancelled, while its requests stop retrying at
// ctx's deadline, or at once when ctx is cancelled (Ctrl-C); it then ends
// soon after. done releases the bound and returns the action's error, or
// ctx's when the action finished after ctx ended.
func (i *Installer) boundHelm(ctx context.Context) (done func(error) error) {
	if i.opts.BoundRetries == nil {
		return func(err error) error { return err }
	}
	until, ok := ctx.Deadline()
	if !ok {
		until = time.Now().Add(5 * time.Minute)
	}
	move, release := i.opts.BoundRetries(until)
	stop := context.AfterFunc(ctx, func() { move(time.Now()) })
	return func(err error) error {
		stop()
		release()
		if err == nil && ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
}

// maxHistory keeps Helm's release Secrets bounded, like helm upgrade
// --history-max 10 (Helm's CLI default).
const maxHistory = 10

// lastDeployed is the revision a failed upgrade rolls back to: the
// deployed one (cur may be a failed revision from an earlier attempt).
func lastDeployed(cfg *action.Configuration, name string, cur *release.Release) int {
	if d, err := cfg.Releases.Deployed(name); err == nil {
		return d.Version
	}
	return cur.Version
}

func hookTimeout(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return time.Until(dl)
	}
	return 5 * time.Minute
}

// unchanged reports whether rel already runs version with values.
func unchanged(rel *release.Release, version string, values map[string]any) bool {
	if rel.Chart == nil || rel.Chart.Metadata == nil || rel.Chart.Metadata.Version != version {
		return false
	}
	return reflect.DeepEqual(jsonRoundTrip(rel.Config), jsonRoundTrip(values))
}

// jsonRoundTrip normalises values as Helm stores them (JSON numbers, no
// typed maps), treating nil and empty alike.
func jsonRoundTrip(v map[string]any) map[string]any {
	out := map[string]any{}
	if b, err := json.Marshal(v); err == nil {
		_ = json.Unmarshal(b, &out)
	}
	return out
}

// undo rolls back (upgrades) or uninstalls (fresh installs) the changes in
// reverse order and records what it did in e.
func (i *Installer) undo(e *Error, p Plan, changes []change) error {
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	ns := map[string]string{}
	for _, r := range p.Releases {
		ns[r.Name] = r.Namespace
	}
	var errs []error
	for _, c := range slices.Backward(changes) {
		cfg, err := i.actionConfig(ns[c.release])
		if err != nil {
			errs = append(errs, err)
			e.NotUndone = append(e.NotUndone, c.release)
			continue
		}
		last, err := cfg.Releases.Last(c.release)
		switch {
		case errors.Is(err, driver.ErrReleaseNotFound):
			continue // the install failed before Helm recorded anything
		case err == nil && last.Version == c.previous && last.Info.Status == release.StatusDeployed:
			continue // the upgrade failed before Helm changed anything
		}
		if c.previous == 0 {
			if err := i.uninstallRelease(ctx, cfg, c.release, rollbackTimeout); err != nil {
				errs = append(errs, fmt.Errorf("uninstall %s: %w", c.release, err))
				e.NotUndone = append(e.NotUndone, c.release)
				continue
			}
			e.Uninstalled = append(e.Uninstalled, c.release)
			continue
		}
		rb := action.NewRollback(cfg)
		rb.Version, rb.MaxHistory, rb.Timeout = c.previous, maxHistory, rollbackTimeout
		if err := rb.Run(c.release); err != nil {
			errs = append(errs, fmt.Errorf("roll back %s to revision %d: %w", c.release, c.previous, err))
			e.NotUndone = append(e.NotUndone, c.release)
			continue
		}
		e.RolledBack = append(e.RolledBack, fmt.Sprintf("%s to revision %d", c.release, c.previous))
	}
	e.RollbackErr = errors.Join(errs...)
	return e
}

func releaseOf(targets []checked, notReady []Component) string {
	for _, c := range notReady {
		for _, t := range targets {
			if t.Kind == c.Kind && t.Namespace == c.Namespace && t.Name == c.Name {
				return t.Release
			}
		}
	}
	return ""
}

func digestOf(manifest string) string {
	sum := sha256.Sum256([]byte(manifest))
	return hex.EncodeToString(sum[:])
}

// combinedDigest is the digest of the releases' manifests in plan order;
// Status.ManifestsDigest computes the same from a Status.
func combinedDigest(p Plan, perRelease map[string]string) string {
	h := sha256.New()
	for _, r := range p.Releases {
		_, _ = fmt.Fprintf(h, "%s %s\n", r.Name, perRelease[r.Name]) // a hash never fails to write
	}
	return hex.EncodeToString(h.Sum(nil))
}
