package kube

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
)

const (
	image       = "academy/tiny:latest" // imported from Docker by scripts/k8s.sh
	callTimeout = 20 * time.Second      // one API call
	podTimeout  = 2 * time.Minute       // a pod to Running on a busy 2-core machine
	policyWait  = time.Minute           // kube-router to enforce a new NetworkPolicy
)

// cluster is a client of the cluster named by $KUBECONFIG.
type cluster struct {
	cfg *rest.Config
	cs  *kubernetes.Clientset
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a Kubernetes cluster (make test-kube)")
	}
	path := os.Getenv("KUBECONFIG")
	if path == "" {
		t.Fatal("KUBECONFIG is not set: start the cluster with `make k8s` and export what it prints, or run `make test-kube`")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatalf("kubeconfig %s: %v", path, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{cfg: cfg, cs: cs}
}

// call gives one API call its deadline.
func call(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

// TestSmoke checks what the lab runtime will rely on: a namespace, a pod from a lab
// image, exec through the API server, NetworkPolicy between namespaces, the refusal
// of privileged pods, and namespace deletion.
func TestSmoke(t *testing.T) {
	c := newCluster(t)
	suffix := randomSuffix(t)
	nsA, nsB := "academy-smoke-"+suffix+"-a", "academy-smoke-"+suffix+"-b"
	c.createNamespace(t, nsA)
	c.createNamespace(t, nsB)

	server := c.runPod(t, nsA, "server", "mkdir -p /tmp/www && echo ok >/tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www")
	clientA := c.runPod(t, nsA, "client", "exec sleep 3600")
	clientB := c.runPod(t, nsB, "client", "exec sleep 3600")

	t.Run("exec", func(t *testing.T) {
		stdout, stderr, err := c.exec(t, clientA, "echo", "hi")
		if err != nil || stdout != "hi\n" {
			t.Fatalf("exec echo hi = %q, %q, %v; want \"hi\\n\"", stdout, stderr, err)
		}
		_, _, err = c.exec(t, clientA, "sh", "-c", "exit 3")
		var exit utilexec.CodeExitError
		if !errors.As(err, &exit) || exit.Code != 3 {
			t.Fatalf("exec exit 3: err = %v, want exit code 3", err)
		}
	})

	t.Run("network policy", func(t *testing.T) {
		url := fmt.Sprintf("http://%s:8080/", server.Status.PodIP)
		// Both reach the server first: a "blocked" later must come from the policy.
		for _, p := range []*corev1.Pod{clientA, clientB} {
			if !c.eventually(t, policyWait, func() bool { return c.reaches(t, p, url) }) {
				t.Fatalf("%s/%s cannot reach %s before any policy", p.Namespace, p.Name, url)
			}
		}
		c.sameNamespaceOnly(t, nsA)
		if !c.eventually(t, policyWait, func() bool { return !c.reaches(t, clientB, url) }) {
			t.Fatalf("%s/%s still reaches %s %s after the policy", nsB, clientB.Name, nsA, url)
		}
		for range 3 { // settled: B stays out, A stays in
			if c.reaches(t, clientB, url) {
				t.Fatalf("%s/%s reaches %s again under the policy", nsB, clientB.Name, url)
			}
			if !c.reaches(t, clientA, url) {
				t.Fatalf("%s/%s no longer reaches %s in its own namespace", nsA, clientA.Name, url)
			}
		}
	})

	t.Run("privileged pod refused", func(t *testing.T) {
		p := pod(nsA, "privileged", "exec sleep 3600")
		p.Spec.Containers[0].SecurityContext.Privileged = new(true)
		p.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = new(true)
		_, err := c.cs.CoreV1().Pods(nsA).Create(call(t), p, metav1.CreateOptions{})
		if err == nil {
			t.Fatal("the cluster accepted a privileged pod")
		}
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "privileged") {
			t.Fatalf("privileged pod: %v; want an Invalid error about privileged", err)
		}
	})

	t.Run("delete namespace", func(t *testing.T) {
		for _, ns := range []string{nsA, nsB} {
			c.deleteNamespace(t, ns)
		}
	})
}

func randomSuffix(t *testing.T) string {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func (c *cluster) createNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"academy.xsky/test": "smoke"}}}
	if _, err := c.cs.CoreV1().Namespaces().Create(call(t), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() { // also when the test failed half-way
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		err := c.cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", name, err)
		}
	})
	// The ServiceAccount admission refuses pods until the controller-manager has
	// made the namespace's default ServiceAccount.
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, podTimeout, true, func(ctx context.Context) (bool, error) {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		_, err := c.cs.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, ignoreNotFound(err)
	})
	if err != nil {
		t.Fatalf("namespace %s: no default ServiceAccount: %v", name, err)
	}
}

func (c *cluster) deleteNamespace(t *testing.T, name string) {
	t.Helper()
	if err := c.cs.CoreV1().Namespaces().Delete(call(t), name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete namespace %s: %v", name, err)
	}
	err := wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, podTimeout, true, func(ctx context.Context) (bool, error) {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		_, err := c.cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), ignoreNotFound(err)
	})
	if err != nil {
		t.Fatalf("namespace %s not gone: %v", name, err)
	}
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// pod is a trainee-like pod: a lab image already on the node, no API token,
// non-root without privileges or capabilities, with limits.
func pod(ns, name, script string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken:  new(false),
			EnableServiceLinks:            new(false),
			TerminationGracePeriodSeconds: new(int64(0)),
			RestartPolicy:                 corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name:            "main",
				Image:           image,
				ImagePullPolicy: corev1.PullNever,
				Command:         []string{"sh", "-c", script},
				SecurityContext: &corev1.SecurityContext{
					Privileged:               new(false),
					AllowPrivilegeEscalation: new(false),
					RunAsNonRoot:             new(true),
					RunAsUser:                new(int64(1000)),
					RunAsGroup:               new(int64(1000)),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
				Resources: corev1.ResourceRequirements{
					Limits: corev1.ResourceList{
						corev1.ResourceCPU:    resource.MustParse("200m"),
						corev1.ResourceMemory: resource.MustParse("64Mi"),
					},
					Requests: corev1.ResourceList{
						corev1.ResourceCPU:    resource.MustParse("10m"),
						corev1.ResourceMemory: resource.MustParse("16Mi"),
					},
				},
			}},
		},
	}
}

// runPod creates the pod and waits until it runs; a pod that cannot (an image not
// on the node, a failed start) fails the test with its reason at once.
func (c *cluster) runPod(t *testing.T, ns, name, script string) *corev1.Pod {
	t.Helper()
	if _, err := c.cs.CoreV1().Pods(ns).Create(call(t), pod(ns, name, script), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod %s/%s: %v", ns, name, err)
	}
	var got *corev1.Pod
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, podTimeout, true, func(ctx context.Context) (bool, error) {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		p, err := c.cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		got = p
		switch p.Status.Phase {
		case corev1.PodRunning:
			return p.Status.PodIP != "", nil
		case corev1.PodFailed, corev1.PodSucceeded:
			return false, fmt.Errorf("pod ended: %s %s", p.Status.Phase, p.Status.Message)
		}
		for _, s := range p.Status.ContainerStatuses {
			if w := s.State.Waiting; w != nil && (w.Reason == "ErrImageNeverPull" || w.Reason == "CreateContainerError" || w.Reason == "CreateContainerConfigError") {
				return false, fmt.Errorf("%s: %s", w.Reason, w.Message)
			}
		}
		return false, nil
	})
	if err != nil {
		phase := corev1.PodPhase("unknown")
		if got != nil {
			phase = got.Status.Phase
		}
		t.Fatalf("pod %s/%s not Running (phase %s): %v", ns, name, phase, err)
	}
	return got
}

// exec runs a command in the pod's container through the API server: WebSocket
// first (what kubectl 1.34 speaks), SPDY when the server refuses the upgrade.
func (c *cluster) exec(t *testing.T, p *corev1.Pod, cmd ...string) (stdout, stderr string, err error) {
	t.Helper()
	req := c.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(p.Namespace).Name(p.Name).
		SubResource("exec").VersionedParams(&corev1.PodExecOptions{
		Container: "main", Command: cmd, Stdout: true, Stderr: true,
	}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(c.cfg, "GET", req.URL().String())
	if err != nil {
		t.Fatal(err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(c.cfg, "POST", req.URL())
	if err != nil {
		t.Fatal(err)
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	var out, errOut bytes.Buffer
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &out, Stderr: &errOut})
	return out.String(), errOut.String(), err
}

// reaches says whether the pod gets the server's "ok" from url within a few seconds.
func (c *cluster) reaches(t *testing.T, p *corev1.Pod, url string) bool {
	t.Helper()
	stdout, _, err := c.exec(t, p, "wget", "-q", "-T", "3", "-O", "-", url)
	if err != nil {
		var exit utilexec.CodeExitError
		if !errors.As(err, &exit) { // the exec itself failed, not the probe
			t.Fatalf("exec in %s/%s: %v", p.Namespace, p.Name, err)
		}
		return false
	}
	return stdout == "ok\n"
}

// eventually polls cond every half second until it holds or d has passed.
func (c *cluster) eventually(t *testing.T, d time.Duration, cond func() bool) bool {
	t.Helper()
	for end := time.Now().Add(d); ; time.Sleep(500 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// sameNamespaceOnly lets a namespace's pods be reached from that namespace only.
func (c *cluster) sameNamespaceOnly(t *testing.T, ns string) {
	t.Helper()
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "same-namespace", Namespace: ns},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}},
			}},
		},
	}
	if _, err := c.cs.NetworkingV1().NetworkPolicies(ns).Create(call(t), np, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create NetworkPolicy in %s: %v", ns, err)
	}
}
