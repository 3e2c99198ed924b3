package kubetest

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
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

// waitAPIServer waits until /readyz answers ok: every post-start hook
// (RBAC bootstrap, priority classes, ...) has then run. It asks fast at
// first, since the apiserver usually answers within seconds, then once a
// second until ctx ends. (wait.Backoff with a Cap is not that: once its
// delay reaches the cap it stops, here after about three seconds, which a
// loaded two-core machine's RBAC bootstrap can outlast.)
func waitAPIServer(ctx context.Context, cfg *rest.Config) error {
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = 5 * time.Second
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	client := dc.RESTClient()
	delay := 50 * time.Millisecond
	for {
		last := client.Get().AbsPath("/readyz").Do(ctx).Error()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (last answer: %v)", ctx.Err(), last)
		case <-time.After(delay):
		}
		delay = min(delay*3/2, time.Second)
	}
}
