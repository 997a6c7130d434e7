//go:build tools

// Package helm pins the Helm command the chart tests use: `go build helm.sh/helm/v3/cmd/helm`.
// The build tag keeps this file out of builds; it only anchors the requirement for `go mod tidy`.
package helm

import _ "helm.sh/helm/v3/cmd/helm"
