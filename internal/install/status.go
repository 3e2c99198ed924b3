package install

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// Status is what the cluster runs of a Plan, for drift detection.
type Status struct {
	Releases   map[string]ReleaseStatus // by release name, every release of the plan
	Components []Component              // readiness of the existing releases' objects
}

// ReleaseStatus is one release's newest Helm record. A release deleted,
// rolled back or upgraded outside Terraform shows up as Exists=false or a
// different Revision, ChartVersion or ManifestsDigest.
type ReleaseStatus struct {
	Exists          bool
	Revision        int
	Status          string // Helm's: deployed, failed, pending-upgrade, ...
	ChartVersion    string
	ManifestsDigest string
	UserValues      map[string]any
}

// ErrNotInstalled is returned by Discover when the namespace holds no
// release of the mesh.
var ErrNotInstalled = errors.New("no release of the mesh found")

// Status reads each release of p and the readiness of its objects. It
// writes nothing.
func (i *Installer) Status(ctx context.Context, p Plan) (*Status, error) {
	st := &Status{Releases: map[string]ReleaseStatus{}}
	var targets []checked
	for _, r := range p.Releases {
		cfg, err := i.actionConfig(r.Namespace)
		if err != nil {
			return nil, err
		}
		rel, err := cfg.Releases.Last(r.Name)
		if errors.Is(err, driver.ErrReleaseNotFound) || err == nil && rel.Info.Status == release.StatusUninstalled {
			st.Releases[r.Name] = ReleaseStatus{}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read release %s: %w", r.Name, err)
		}
		st.Releases[r.Name] = releaseStatus(rel)
		objs, err := parseManifest(rel.Manifest)
		if err != nil {
			return nil, fmt.Errorf("release %s: %w", r.Name, err)
		}
		i.fillNamespaces(objs, r.Namespace)
		targets = append(targets, readinessTargets(r.Name, objs)...)
	}
	comps, err := i.components(ctx, targets)
	if err != nil {
		return nil, err
	}
	st.Components = comps
	return st, nil
}

// Deployed reports whether the newest revision is deployed: not failed,
// not left pending.
func (rs ReleaseStatus) Deployed() bool {
	return rs.Exists && rs.Status == release.StatusDeployed.String()
}

func releaseStatus(rel *release.Release) ReleaseStatus {
	rs := ReleaseStatus{Exists: true, Revision: rel.Version, ManifestsDigest: digestOf(rel.Manifest), UserValues: rel.Config}
	if rel.Info != nil {
		rs.Status = rel.Info.Status.String()
	}
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		rs.ChartVersion = rel.Chart.Metadata.Version
	}
	return rs
}

// ManifestsDigest combines the releases' digests in p's order, as
// Result.ManifestsDigest does, so the two compare.
func (s *Status) ManifestsDigest(p Plan) string {
	per := map[string]string{}
	for name, r := range s.Releases {
		per[name] = r.ManifestsDigest
	}
	return combinedDigest(p, per)
}

// Discover returns the plan of the mesh's releases installed in namespace
// (found by chart name, in install order), for import: Version is the
// control plane chart's version, Repository is empty (Helm does not record
// it) and each release's Values are its user-supplied values.
func (i *Installer) Discover(ctx context.Context, mesh Mesh, namespace string) (*Plan, error) {
	charts, ok := meshCharts[mesh]
	if !ok {
		return nil, fmt.Errorf("unknown mesh %q", mesh)
	}
	cfg, err := i.actionConfig(namespace)
	if err != nil {
		return nil, err
	}
	list := action.NewList(cfg)
	list.StateMask = action.ListDeployed | action.ListFailed | action.ListPendingInstall | action.ListPendingUpgrade | action.ListPendingRollback
	rels, err := list.Run()
	if err != nil {
		return nil, fmt.Errorf("list Helm releases in %s: %w", namespace, err)
	}
	p := &Plan{Mesh: mesh, Namespace: namespace}
	for _, rel := range rels {
		if rel.Namespace != namespace || rel.Chart == nil || rel.Chart.Metadata == nil || !slices.Contains(charts, rel.Chart.Metadata.Name) {
			continue
		}
		p.Releases = append(p.Releases, Release{Name: rel.Name, Chart: rel.Chart.Metadata.Name, Namespace: namespace, Values: rel.Config})
		if isControlPlane(rel.Chart.Metadata.Name) || p.Version == "" {
			p.Version = rel.Chart.Metadata.Version
		}
	}
	if len(p.Releases) == 0 {
		return nil, fmt.Errorf("%w: no %s release (charts %v) in namespace %s", ErrNotInstalled, mesh, charts, namespace)
	}
	slices.SortStableFunc(p.Releases, func(a, b Release) int {
		return slices.Index(charts, a.Chart) - slices.Index(charts, b.Chart)
	})
	return p, nil
}

func isControlPlane(chart string) bool { return chart == "istiod" || chart == "linkerd-control-plane" }

// Existing describes each release of p that exists and has settled (any
// status but uninstalled and the pending ones, which Apply recovers when an
// interrupted run left them, or refuses while another operation may hold
// them), e.g. "istio-system/istiod (revision 3, deployed, chart istiod
// 1.27.1)": in committed those whose newest record does not carry
// uncommitted (label) = "false", in left the others, which a create that
// did not finish left (see ApplyOptions.UncommittedLabel). A create must not
// take over a committed release: it belongs to another Terraform state, to a
// tool outside Terraform, or to an install that finished.
func (i *Installer) Existing(p Plan, uncommitted string) (committed, left []string, err error) {
	for _, r := range p.Releases {
		cfg, err := i.actionConfig(r.Namespace)
		if err != nil {
			return nil, nil, err
		}
		rel, err := cfg.Releases.Last(r.Name)
		if errors.Is(err, driver.ErrReleaseNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read release %s: %w", r.Name, err)
		}
		rs := releaseStatus(rel)
		if rs.Status == release.StatusUninstalled.String() || rel.Info != nil && rel.Info.Status.IsPending() {
			continue
		}
		desc := fmt.Sprintf("%s/%s (revision %d, %s, chart %s %s)", r.Namespace, r.Name, rs.Revision, rs.Status, r.Chart, rs.ChartVersion)
		if uncommitted != "" && rel.Labels[uncommitted] == "false" {
			left = append(left, desc)
		} else {
			committed = append(committed, desc)
		}
	}
	return committed, left, nil
}
