package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// TestCheckMessagesOnDocker: on real Docker, a failing check of
// linux-basics speaks the language the trainee asks for (the body, the
// query, Accept-Language, else Chinese); under a fork bomb that reaches the
// node's process limit a check says the node is out of processes, and on a
// node that is down, that it is not running.
func TestCheckMessagesOnDocker(t *testing.T) {
	needDocker(t)
	l := startLabd(t, t.TempDir(), instanceName(t), "../labs")
	tok := l.token(t, "trainee-lang", auth.Trainee)
	s := l.readySession(t, tok, "linux-basics")
	path := "/api/sessions/" + s.ID + "/steps/make-notes/check"
	const zh, en = "FAIL: 目录 /root/work 还不存在", "FAIL: the folder /root/work does not exist yet"

	for _, tc := range []struct {
		name, query string
		body        any
		accept      string
		want        string
	}{
		{name: "body zh", body: map[string]string{"lang": "zh"}, want: zh},
		{name: "body en", body: map[string]string{"lang": "en"}, want: en},
		{name: "query en", query: "?lang=en", want: en},
		{name: "Accept-Language en", accept: "en-US,en;q=0.8", want: en},
		{name: "default", want: zh},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r checkResult
			if code := l.callWith(t, "POST", path+tc.query, tok, tc.body, tc.accept, &r); code != 200 || r.Passed || r.Output != tc.want {
				t.Errorf("%d %+v, want output %q", code, r, tc.want)
			}
		})
	}
	var bad struct{ Error struct{ Code string } }
	if code := l.call(t, "POST", path+"?lang=fr", tok, nil, &bad); code != 400 || bad.Error.Code != "invalid" {
		t.Errorf("lang=fr: %d %+v", code, bad)
	}

	// A fork bomb fills the node's process table (linux-basics allows 256).
	bomb := "(b() { b | b & }; b) >/dev/null 2>&1 &"
	if res, err := l.rt.Exec(context.Background(), s.ID, "node1", lab.Command{Script: bomb, Timeout: 10 * time.Second}); err != nil {
		t.Fatalf("fork bomb: %v %+v", err, res)
	}
	wants := map[string]string{"en": "FAIL: the node node1 is out of processes", "zh": "FAIL: 节点 node1 的进程数已达上限"}
	bombed := time.Now()
	for _, lang := range []string{"en", "zh"} {
		var r checkResult
		// Until the bomb has reached the limit.
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
			began := time.Now()
			r = l.checkIn(t, tok, s.ID, "make-notes", lang)
			if strings.Contains(r.Output, wants[lang]) {
				break
			}
			t.Logf("not yet (%s): %q", time.Since(began).Round(time.Millisecond), r.Output)
		}
		if r.Passed || !strings.Contains(r.Output, wants[lang]) {
			t.Errorf("under a fork bomb, in %s: %+v, want %q", lang, r, wants[lang])
		}
		t.Logf("under a fork bomb, in %s after %s: %q", lang, time.Since(bombed).Round(time.Millisecond), r.Output)
	}

	// The node loses power.
	if err := l.rt.Fault(context.Background(), s.ID, "node1", "kill"); err != nil {
		t.Fatal(err)
	}
	wants = map[string]string{"en": "FAIL: the node node1 is not running", "zh": "FAIL: 节点 node1 没有在运行"}
	for _, lang := range []string{"en", "zh"} {
		if r := l.checkIn(t, tok, s.ID, "make-notes", lang); r.Passed || !strings.HasPrefix(r.Output, wants[lang]) {
			t.Errorf("node down, in %s: %+v, want %q", lang, r, wants[lang])
		}
	}
}

// callWith is call with an Accept-Language header (if not "").
func (l *labd) callWith(t *testing.T, method, path, token string, body any, acceptLang string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, l.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if acceptLang != "" {
		req.Header.Set("Accept-Language", acceptLang)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
	}
	return resp.StatusCode
}
