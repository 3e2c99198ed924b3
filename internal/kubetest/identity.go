package kubetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"
)

// Identity is a ServiceAccount that code under test authenticates as, with
// exactly the roles it is given: the way a least-privilege role is tested.
// Its ClusterRoles are bound cluster-wide at once; its Roles are templates,
// created (with a RoleBinding) in each namespace Grant is called for.
type Identity struct {
	Namespace, Name string
	// Kubeconfig is a kubeconfig file for the ServiceAccount (a bound
	// token valid 24 hours), Config the same as a client config.
	Kubeconfig string
	Config     *rest.Config

	admin kubernetes.Interface
	roles []rbacv1.Role
}

// RBAC is the ClusterRoles and Roles of YAML files (other kinds are
// skipped).
type RBAC struct {
	ClusterRoles []rbacv1.ClusterRole
	Roles        []rbacv1.Role
}

// LoadRBAC reads the ClusterRoles and Roles of multi-document YAML files.
func LoadRBAC(files ...string) (RBAC, error) {
	var out RBAC
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return out, err
		}
		dec := utilyaml.NewDocumentDecoder(io.NopCloser(bytes.NewReader(b)))
		buf := make([]byte, len(b)+1)
		for {
			n, err := dec.Read(buf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return out, fmt.Errorf("%s: %w", f, err)
			}
			var meta metav1.TypeMeta
			if err := yaml.Unmarshal(buf[:n], &meta); err != nil {
				return out, fmt.Errorf("%s: %w", f, err)
			}
			switch meta.Kind {
			case "ClusterRole":
				var r rbacv1.ClusterRole
				if err := yaml.UnmarshalStrict(buf[:n], &r); err != nil {
					return out, fmt.Errorf("%s: %w", f, err)
				}
				out.ClusterRoles = append(out.ClusterRoles, r)
			case "Role":
				var r rbacv1.Role
				if err := yaml.UnmarshalStrict(buf[:n], &r); err != nil {
					return out, fmt.Errorf("%s: %w", f, err)
				}
				out.Roles = append(out.Roles, r)
			}
		}
	}
	return out, nil
}

// NewIdentity creates ServiceAccount namespace/name, binds rbac's
// ClusterRoles to it and writes its kubeconfig into dir.
func NewIdentity(ctx context.Context, admin *rest.Config, dir, namespace, name string, rbac RBAC) (*Identity, error) {
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return nil, err
	}
	id := &Identity{Namespace: namespace, Name: name, admin: cs, roles: rbac.Roles}
	if err := EnsureNamespace(ctx, cs, namespace); err != nil {
		return nil, err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	if _, err := cs.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	for _, cr := range rbac.ClusterRoles {
		cr := cr.DeepCopy()
		cr.ResourceVersion = ""
		if err := upsertClusterRole(ctx, cs, cr); err != nil {
			return nil, err
		}
		crb := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: cr.Name + ":" + namespace + ":" + name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: cr.Name},
			Subjects:   []rbacv1.Subject{id.subject()},
		}
		if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, err
		}
	}
	expiry := int64(24 * 3600)
	tok, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("token for %s/%s: %w", namespace, name, err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: admin.CAData, CertificateAuthority: admin.CAFile}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: "test", AuthInfo: name}
	kc.CurrentContext = name
	id.Kubeconfig = filepath.Join(dir, "kubeconfig-"+namespace+"-"+name)
	if err := clientcmd.WriteToFile(*kc, id.Kubeconfig); err != nil {
		return nil, err
	}
	id.Config = rest.AnonymousClientConfig(admin)
	id.Config.BearerToken = tok.Status.Token
	return id, nil
}

func upsertClusterRole(ctx context.Context, cs kubernetes.Interface, cr *rbacv1.ClusterRole) error {
	_, err := cs.RbacV1().ClusterRoles().Create(ctx, cr, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		var live *rbacv1.ClusterRole
		if live, err = cs.RbacV1().ClusterRoles().Get(ctx, cr.Name, metav1.GetOptions{}); err == nil {
			live.Rules = cr.Rules
			_, err = cs.RbacV1().ClusterRoles().Update(ctx, live, metav1.UpdateOptions{})
		}
	}
	return err
}

func (id *Identity) subject() rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: id.Name, Namespace: id.Namespace}
}

// Grant creates the identity's Roles in namespace and binds them to it.
func (id *Identity) Grant(ctx context.Context, namespace string) error {
	for _, r := range id.roles {
		role := r.DeepCopy()
		role.Namespace, role.ResourceVersion = namespace, ""
		if _, err := id.admin.RbacV1().Roles(namespace).Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("role %s/%s: %w", namespace, role.Name, err)
		}
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: role.Name + ":" + id.Namespace + ":" + id.Name, Namespace: namespace},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
			Subjects:   []rbacv1.Subject{id.subject()},
		}
		if _, err := id.admin.RbacV1().RoleBindings(namespace).Create(ctx, rb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("role binding %s/%s: %w", namespace, rb.Name, err)
		}
	}
	return nil
}

// EnsureNamespace creates namespace name unless it exists.
func EnsureNamespace(ctx context.Context, cs kubernetes.Interface, name string) error {
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}
