package install

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"
)

// loadChart returns a freshly loaded chart (Helm mutates charts while
// installing, so each use gets its own copy of the cached archive).
func (i *Installer) loadChart(ctx context.Context, repository, name, version string) (*chart.Chart, error) {
	data, err := i.archive(ctx, repository, name, version)
	if err != nil {
		return nil, fmt.Errorf("chart %s %s from %s: %w", name, version, repository, err)
	}
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("chart %s %s from %s: %w", name, version, repository, err)
	}
	return ch, nil
}

func (i *Installer) archive(ctx context.Context, repository, name, version string) ([]byte, error) {
	key := cacheKey(repository, name, version)
	i.mu.Lock()
	data, ok := i.archives[key]
	i.mu.Unlock()
	if ok {
		return data, nil
	}
	file := ""
	if i.opts.CacheDir != "" {
		file = filepath.Join(i.opts.CacheDir, key)
		if data, err := os.ReadFile(file); err == nil {
			i.remember(key, data)
			return data, nil
		}
	}
	data, err := i.download(ctx, repository, name, version)
	if err != nil {
		return nil, err
	}
	if file != "" {
		if err := writeAtomic(file, data); err != nil {
			return nil, fmt.Errorf("chart cache: %w", err)
		}
	}
	i.remember(key, data)
	return data, nil
}

func (i *Installer) remember(key string, data []byte) {
	i.mu.Lock()
	i.archives[key] = data
	i.mu.Unlock()
}

// cacheKey is a file name unique to repository, chart and version.
func cacheKey(repository, name, version string) string {
	sum := sha256.Sum256([]byte(strings.TrimSuffix(repository, "/")))
	return filepath.Join(hex.EncodeToString(sum[:8]), name+"-"+version+".tgz")
}

func (i *Installer) download(ctx context.Context, repository, name, version string) ([]byte, error) {
	if strings.HasPrefix(repository, "oci://") {
		return pullOCI(repository, name, version)
	}
	idx, err := i.index(ctx, repository)
	if err != nil {
		return nil, err
	}
	cv, err := idx.Get(name, version)
	if err != nil {
		return nil, fmt.Errorf("not in the repository's index.yaml: %w", err)
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("index.yaml lists no URL for it")
	}
	u, err := resolveURL(repository, cv.URLs[0])
	if err != nil {
		return nil, err
	}
	data, err := httpGet(ctx, u)
	if err != nil {
		return nil, err
	}
	if cv.Digest != "" {
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != cv.Digest {
			return nil, fmt.Errorf("%s has digest sha256:%s, index.yaml says %s", u, got, cv.Digest)
		}
	}
	return data, nil
}

func pullOCI(repository, name, version string) ([]byte, error) {
	client, err := registry.NewClient(registry.ClientOptWriter(io.Discard))
	if err != nil {
		return nil, err
	}
	ref := strings.TrimPrefix(strings.TrimSuffix(repository, "/"), "oci://") + "/" + name + ":" + version
	res, err := client.Pull(ref, registry.PullOptWithChart(true))
	if err != nil {
		return nil, err
	}
	return res.Chart.Data, nil
}

// index reads repository's index.yaml once per Installer.
func (i *Installer) index(ctx context.Context, repository string) (*repo.IndexFile, error) {
	i.mu.Lock()
	data, ok := i.indexes[repository]
	i.mu.Unlock()
	if !ok {
		u, err := resolveURL(repository, "index.yaml")
		if err != nil {
			return nil, err
		}
		if data, err = httpGet(ctx, u); err != nil {
			return nil, err
		}
		i.mu.Lock()
		i.indexes[repository] = data
		i.mu.Unlock()
	}
	idx := &repo.IndexFile{}
	if err := yaml.Unmarshal(data, idx); err != nil {
		return nil, fmt.Errorf("%s/index.yaml: %w", repository, err)
	}
	idx.SortEntries()
	return idx, nil
}

// resolveURL resolves ref (absolute, or relative to the repository as
// index.yaml URLs usually are).
func resolveURL(repository, ref string) (string, error) {
	base, err := url.Parse(strings.TrimSuffix(repository, "/") + "/")
	if err != nil {
		return "", fmt.Errorf("chart repository %q: %w", repository, err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	return base.ResolveReference(r).String(), nil
}

func httpGet(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }() // read to the end or abandoned
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

func writeAtomic(file string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".download-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone already once renamed
	if _, err := tmp.Write(data); err != nil {
		return errors.Join(err, tmp.Close())
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}
