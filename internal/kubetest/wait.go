package kubetest

import (
	"context"
	"fmt"
	"math"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

func listWatch(
	list func(context.Context, metav1.ListOptions) (runtime.Object, error),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error),
) *cache.ListWatch {
	return &cache.ListWatch{ListWithContextFunc: list, WatchFuncWithContext: watchFn}
}

// waitFor lists and watches objects (re-establishing dropped watches) until
// done holds for the objects seen so far, keyed by namespace/name. It is
// event driven: no polling interval adds latency.
func waitFor[T runtime.Object](ctx context.Context, lw cache.ListerWatcher, example T, done func(map[string]T) bool) error {
	seen := map[string]T{}
	_, err := watchtools.UntilWithSync(ctx, lw, example, nil, func(ev watch.Event) (bool, error) {
		obj, ok := ev.Object.(T)
		if !ok {
			return false, nil
		}
		if ev.Type == watch.Deleted {
			delete(seen, objectKey(obj))
		} else {
			seen[objectKey(obj)] = obj
		}
		return done(seen), nil
	})
	return err
}

// retryBackoff starts fast, since the apiserver usually answers within
// seconds, and backs off to once a second; the context bounds it.
var retryBackoff = wait.Backoff{Duration: 50 * time.Millisecond, Factor: 1.5, Jitter: 0.1, Steps: math.MaxInt32, Cap: time.Second}

// waitAPIServer waits until /readyz answers ok: every post-start hook
// (RBAC bootstrap, priority classes, ...) has then run.
func waitAPIServer(ctx context.Context, cfg *rest.Config) error {
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = 5 * time.Second
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	client := dc.RESTClient()
	var last error
	err = wait.ExponentialBackoffWithContext(ctx, retryBackoff, func(ctx context.Context) (bool, error) {
		last = client.Get().AbsPath("/readyz").Do(ctx).Error()
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("not ready: %w (last answer: %v)", err, last)
	}
	return nil
}
