// Package kube pins the Kubernetes control-plane commands that the test peers build:
// `go build k8s.io/kubernetes/cmd/kube-apiserver` and `.../kube-controller-manager`.
package kube

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)
