package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/gorilla/websocket"

	"github.com/xsky-academy/academy/labd/internal/docker"
)

// servePorts runs the bench's web server inside a lab node (labbench
// copies itself in): a small body, a 100 MB one, a websocket echo.
var servePorts = flag.String("serve-ports", "", "internal: serve the proxy figures' web server on this address")

const bigBody = 100 << 20

func portServer(addr string) error {
	zeros := make([]byte, 1<<20)
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(bigBody))
		for range bigBody / len(zeros) {
			if _, err := w.Write(zeros); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			t, m, err := c.ReadMessage()
			if err != nil || c.WriteMessage(t, m) != nil {
				return
			}
		}
	})
	return http.ListenAndServe(addr, mux)
}

const proxyLab = `id: bench-web
title: {zh: 网页, en: Web}
duration: 5m
nodes:
  - {name: node1, image: academy/base, memory: 512Mi, ports: [{port: 8090, name: web, title: {zh: 网页, en: Web}}]}
steps: [{id: s, title: {zh: 步, en: Step}, text: s, check: {node: node1, run: "true"}, solution: s.sh}]
`

// proxyFigures: a node's web port through labd's proxy against the same
// requests straight to the node (dialled from inside its network namespace,
// as the proxy dials).
func proxyFigures(tmp, instance string, cli *client.Client, bin string) error {
	fmt.Println("lab web ports through labd's proxy:")
	labs := filepath.Join(tmp, "labs-proxy")
	os.MkdirAll(filepath.Join(labs, "bench-web"), 0o755)
	for name, body := range map[string]string{"lab.yaml": proxyLab, "s.zh.md": "步", "s.en.md": "Step", "s.sh": "true\n"} {
		if err := os.WriteFile(filepath.Join(labs, "bench-web", name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	server := filepath.Join(tmp, "portserver")
	build := exec.Command("go", "build", "-o", server, "./labd/cmd/labbench")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build the port server: %w", err)
	}
	inst := instance + "p"
	l, err := startLabd(bin, filepath.Join(tmp, "data-proxy"), inst, "--labs", labs, "--certs", filepath.Join(tmp, "no-programs"))
	if err != nil {
		return err
	}
	defer l.stop()
	defer removeInstance(inst)
	rt, err := docker.New(inst, "10.213.0.0/24")
	if err != nil {
		return err
	}
	defer rt.Close()
	tok := l.user()
	s, _, err := l.start(tok, "bench-web")
	if err != nil {
		return err
	}
	defer l.end(tok, s.ID)
	rssBefore := l.rss()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := startPortServer(ctx, cli, "academy-"+s.ID+"-node1", server); err != nil {
		return err
	}

	direct := &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		DisableCompression: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return rt.DialNode(ctx, s.ID, "node1", "10.213.0.2:8090")
		}}}
	directURL := "http://10.213.0.2:8090"
	deadline := time.Now().Add(time.Minute)
	for {
		res, err := direct.Get(directURL + "/small")
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the port server does not answer: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	var v struct {
		Ports []struct{ URL string }
	}
	if _, err := l.call("GET", "/api/sessions/"+s.ID, tok, nil, &v); err != nil || len(v.Ports) != 1 {
		return fmt.Errorf("the session's ports: %v %+v", err, v)
	}
	labdAddr := strings.TrimPrefix(l.url, "http://")
	jar := &benchJar{m: map[string][]*http.Cookie{}}
	proxied := &http.Client{Timeout: time.Minute, Jar: jar, Transport: &http.Transport{
		DisableCompression: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", labdAddr)
		}}}
	res, err := proxied.Get(v.Ports[0].URL)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	u, _ := url.Parse(v.Ports[0].URL)
	proxiedURL := "http://" + u.Host

	// Small GETs, alternating so both see the same machine.
	var dd, pd []time.Duration
	for range 2000 {
		for _, c := range []struct {
			cl   *http.Client
			base string
			out  *[]time.Duration
		}{{direct, directURL, &dd}, {proxied, proxiedURL, &pd}} {
			t0 := time.Now()
			res, err := c.cl.Get(c.base + "/small")
			if err != nil {
				return err
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			*c.out = append(*c.out, time.Since(t0))
		}
	}
	report(figure{"proxied GET, small body: added p50 / p99",
		fmt.Sprintf("+%s / +%s", us(percentile(pd, .5)-percentile(dd, .5)), us(percentile(pd, .99)-percentile(dd, .99))),
		fmt.Sprintf("direct %s / %s", us(percentile(dd, .5)), us(percentile(dd, .99))), "", "≤ +1 ms / +3 ms"})

	// 100 MB downloads, alternating: the median of 5 each.
	rate := func(c *http.Client, base string) (time.Duration, error) {
		t0 := time.Now()
		res, err := c.Get(base + "/big")
		if err != nil {
			return 0, err
		}
		n, err := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil || n != bigBody {
			return 0, fmt.Errorf("download: %d bytes, %v", n, err)
		}
		return time.Since(t0), nil
	}
	var dl, pl []time.Duration
	for range 5 {
		d, err := rate(direct, directURL)
		if err != nil {
			return err
		}
		p, err := rate(proxied, proxiedURL)
		if err != nil {
			return err
		}
		dl, pl = append(dl, d), append(pl, p)
	}
	mbps := func(d time.Duration) float64 { return bigBody / (1 << 20) / d.Seconds() }
	dt, pt := mbps(percentile(dl, .5)), mbps(percentile(pl, .5))
	report(figure{"100 MB download through the proxy (median of 5)", fmt.Sprintf("%.0f MB/s", pt), fmt.Sprintf("direct %.0f MB/s", dt),
		fmt.Sprintf("%.2f", pt/dt), "≥ 0.8 of direct"})

	// Websocket echo.
	wsDirect := websocket.Dialer{NetDialContext: direct.Transport.(*http.Transport).DialContext}
	wsProxied := websocket.Dialer{NetDialContext: proxied.Transport.(*http.Transport).DialContext, Jar: jar}
	cd, _, err := wsDirect.Dial("ws://10.213.0.2:8090/ws", nil)
	if err != nil {
		return fmt.Errorf("websocket direct: %w", err)
	}
	defer cd.Close()
	cp, _, err := wsProxied.Dial("ws://"+u.Host+"/ws", http.Header{"Origin": {proxiedURL}})
	if err != nil {
		return fmt.Errorf("websocket through the proxy: %w", err)
	}
	defer cp.Close()
	var ed, ep []time.Duration
	msg := make([]byte, 16)
	rand.Read(msg)
	for range 2000 {
		for _, c := range []struct {
			ws  *websocket.Conn
			out *[]time.Duration
		}{{cd, &ed}, {cp, &ep}} {
			t0 := time.Now()
			if err := c.ws.WriteMessage(websocket.BinaryMessage, msg); err != nil {
				return err
			}
			if _, got, err := c.ws.ReadMessage(); err != nil || !bytes.Equal(got, msg) {
				return fmt.Errorf("echo: %v", err)
			}
			*c.out = append(*c.out, time.Since(t0))
		}
	}
	report(figure{"websocket echo through the proxy: added p50", "+" + us(percentile(ep, .5)-percentile(ed, .5)),
		fmt.Sprintf("direct %s", us(percentile(ed, .5))), "", "≤ +0.5 ms"})
	report(figure{"labd RSS after the proxy figures", fmt.Sprintf("%.0f MB (%+.0f MB)", l.rss(), l.rss()-rssBefore), "", "", "report"})
	return nil
}

// startPortServer copies the port server into a node and starts it there.
func startPortServer(ctx context.Context, cli *client.Client, ctr, bin string) error {
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "portserver", Mode: 0o755, Size: int64(len(data))})
	tw.Write(data)
	tw.Close()
	if err := cli.CopyToContainer(ctx, ctr, "/usr/local/bin", &buf, container.CopyToContainerOptions{}); err != nil {
		return fmt.Errorf("copy the port server: %w", err)
	}
	ex, err := cli.ContainerExecCreate(ctx, ctr, container.ExecOptions{
		Cmd: []string{"/usr/local/bin/portserver", "-serve-ports", ":8090"}, Detach: true})
	if err != nil {
		return err
	}
	return cli.ContainerExecStart(ctx, ex.ID, container.ExecStartOptions{Detach: true})
}

// benchJar keeps cookies per host name, sending Secure ones over http as
// browsers do for *.localhost.
type benchJar struct {
	mu sync.Mutex
	m  map[string][]*http.Cookie
}

func (j *benchJar) SetCookies(u *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	j.m[u.Hostname()] = append(j.m[u.Hostname()], cs...)
	j.mu.Unlock()
}

func (j *benchJar) Cookies(u *url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.m[u.Hostname()]
}
