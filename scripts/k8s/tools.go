//go:build tools

// Package tools pins the Kubernetes commands that scripts/k8s.sh builds. The
// staging modules (k8s.io/api, client-go, ...) are required and replaced at
// v0.34.4 in go.mod: k8s.io/kubernetes points them at ./staging, which Go
// ignores in a dependency.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
