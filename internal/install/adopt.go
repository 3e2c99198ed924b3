package install

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// CRDs installed before the mesh by another tool (kubectl apply of
// crd-all.gen.yaml, a GitOps controller, a platform's add-on) are common:
// Helm refuses to install over objects it does not own. Apply adopts such
// CustomResourceDefinitions, and only those, into the release (Helm's
// take-ownership), and marks them helm.sh/resource-policy=keep so that
// uninstalling the release (or undoing a failed first install) never
// deletes CRDs, and with them every custom resource, that were there
// before. Any other object that exists outside the release, or an object
// owned by another Helm release, is an error naming it.
const (
	adoptedAnnotation = "install.mesh.terraform.io/adopted"
	keepAnnotation    = "helm.sh/resource-policy"
	releaseNameAnn    = "meta.helm.sh/release-name"
	releaseNSAnn      = "meta.helm.sh/release-namespace"
)

// adoptable returns the names of r's CRDs to adopt (or keep adopted), and
// fails on objects that belong to someone else.
func (i *Installer) adoptable(ctx context.Context, p Plan, r Release) (map[string]bool, error) {
	objs, err := i.renderObjects(ctx, p, r)
	if err != nil {
		return nil, err
	}
	adopt := map[string]bool{}
	var foreign []string
	for _, o := range objs {
		live, err := i.live(ctx, o)
		if err != nil || live == nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		ann := live.GetAnnotations()
		owner, ownerNS := ann[releaseNameAnn], ann[releaseNSAnn]
		switch {
		case ann[adoptedAnnotation] == "true" && (owner == "" || owner == r.Name && ownerNS == r.Namespace):
			adopt[o.GetName()] = true
		case owner == r.Name && ownerNS == r.Namespace:
		case owner != "":
			foreign = append(foreign, fmt.Sprintf("%s belongs to Helm release %s/%s", objectID(o), ownerNS, owner))
		case o.GetKind() == "CustomResourceDefinition":
			adopt[o.GetName()] = true
		default:
			foreign = append(foreign, fmt.Sprintf("%s exists and is not part of a Helm release (installed by another tool?)", objectID(o)))
		}
	}
	if len(foreign) > 0 {
		return nil, fmt.Errorf("cannot install release %s over existing objects: %s; remove them or uninstall what created them", r.Name, strings.Join(foreign, "; "))
	}
	return adopt, nil
}

func (i *Installer) live(ctx context.Context, o *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	gvk := o.GroupVersionKind()
	m, err := i.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, nil // kind not served yet: the object cannot exist
	}
	live, err := i.dyn.Resource(m.Resource).Namespace(o.GetNamespace()).Get(ctx, o.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", objectID(o), err)
	}
	return live, nil
}

func (i *Installer) fillNamespaces(objs []*unstructured.Unstructured, namespace string) {
	for _, o := range objs {
		if o.GetNamespace() == "" && i.namespaced(o.GroupVersionKind()) {
			o.SetNamespace(namespace)
		}
	}
}

// keepAdopted is a Helm post-renderer that annotates the adopted CRDs.
type keepAdopted map[string]bool

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

func (k keepAdopted) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	if len(k) == 0 {
		return in, nil
	}
	docs := docSeparator.Split(in.String(), -1)
	for n, doc := range docs {
		obj := map[string]any{}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil || len(obj) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() != "CustomResourceDefinition" || !k[u.GetName()] {
			continue
		}
		ann := u.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[adoptedAnnotation], ann[keepAnnotation] = "true", "keep"
		u.SetAnnotations(ann)
		out, err := yaml.Marshal(u.Object)
		if err != nil {
			return nil, err
		}
		docs[n] = "\n" + string(out)
	}
	return bytes.NewBufferString(strings.Join(docs, "---")), nil
}
