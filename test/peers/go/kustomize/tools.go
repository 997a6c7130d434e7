//go:build tools

// Package kustomize pins the kustomize command the deploy tests render deploy/ with:
// `go build sigs.k8s.io/kustomize/kustomize/v5`. The build tag keeps this file out of builds;
// it only anchors the requirement so `go mod tidy` keeps it.
package kustomize

import _ "sigs.k8s.io/kustomize/kustomize/v5"
