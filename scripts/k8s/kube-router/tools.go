//go:build tools

// Package tools pins kube-router, built against client-go v0.34.4 (see go.mod)
// so that it shares the Kubernetes build cache. Only its NetworkPolicy
// controller runs.
package tools

import _ "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"
