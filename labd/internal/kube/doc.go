// Package kube is the Kubernetes runtime, to come: labs run as pods on a cluster
// instead of containers on the Docker Engine API. For now it holds the smoke test
// of the cluster that scripts/k8s.sh starts (make test-kube).
package kube
