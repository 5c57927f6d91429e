package kube

import (
	"context"
	"fmt"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// WhoAmI is the user name the cluster of cfg authenticates cfg's
// credentials as (a SelfSubjectReview, which every authenticated user may
// create: kubectl auth whoami).
func WhoAmI(ctx context.Context, cfg *rest.Config) (string, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", err
	}
	r, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("SelfSubjectReview: %w", err)
	}
	if r.Status.UserInfo.Username == "" {
		return "", fmt.Errorf("SelfSubjectReview: no user name")
	}
	return r.Status.UserInfo.Username, nil
}

// ServiceAccountOf is the namespace and name of the service account whose
// user name is user (ServiceAccountUser); ok is false for any other user.
func ServiceAccountOf(user string) (namespace, name string, ok bool) {
	rest, found := strings.CutPrefix(user, "system:serviceaccount:")
	if !found {
		return "", "", false
	}
	namespace, name, ok = strings.Cut(rest, ":")
	return namespace, name, ok && namespace != "" && name != "" && !strings.Contains(name, ":")
}
