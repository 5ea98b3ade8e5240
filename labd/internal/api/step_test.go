package api

import (
	"bytes"
	"slices"
	"testing"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

func TestEnterStep(t *testing.T) {
	ts := newTestServer(t)
	// The demo lab, given foregrounds and an on_enter for this test.
	def, _ := ts.api.Labs.Catalog().Lab("demo")
	def.Foreground = lab.Foreground{Node: "node1", Body: "cd /root"}
	def.Steps[1].Foreground = lab.Foreground{Node: "node1", Script: "fg.sh", Body: "#!/bin/sh\nls /tmp\nuname -a\n"}
	def.Steps[1].OnEnter = []lab.Script{{Node: "node1", Body: "touch two", Timeout: def.Steps[0].Check.Timeout}}
	alice := ts.token(t, "alice", auth.Trainee)
	id := ts.readySession(t, alice)

	type entered struct {
		Entered       bool            `json:"entered"`
		Foreground    *foregroundView `json:"foreground"`
		LabForeground *foregroundView `json:"lab_foreground"`
	}
	enter := func(token, step string) (response, entered) {
		r := ts.do(t, "POST", "/api/sessions/"+id+"/steps/"+step+"/enter", token, nil)
		var e entered
		if r.status == 200 {
			r.json(t, &e)
		}
		return r, e
	}
	r, e := enter(alice, "one")
	if r.status != 200 || !e.Entered || e.Foreground != nil || e.LabForeground == nil || !slices.Equal(e.LabForeground.Commands, []string{"cd /root"}) {
		t.Fatalf("enter one: %d %s", r.status, r.body)
	}
	if !bytes.Contains(r.body, []byte(`"foreground":null`)) {
		t.Errorf("no foreground is null: %s", r.body)
	}
	r, e = enter(alice, "two")
	if r.status != 200 || e.Foreground == nil || e.Foreground.Node != "node1" ||
		!slices.Equal(e.Foreground.Commands, []string{"ls /tmp", "uname -a"}) || e.LabForeground != nil {
		t.Fatalf("enter two: %d %s", r.status, r.body)
	}
	// The step's on_enter ran: its check passes without the trainee's work.
	if r := ts.do(t, "POST", "/api/sessions/"+id+"/steps/two/check", alice, nil); !bytes.Contains(r.body, []byte(`"passed":true`)) {
		t.Errorf("check after on_enter: %s", r.body)
	}
	if r, e = enter(alice, "two"); r.status != 200 || !e.Entered || e.Foreground != nil {
		t.Errorf("enter two again: %d %s", r.status, r.body)
	}

	for _, tc := range []struct {
		name, token, step string
		status            int
	}{
		{"another trainee", ts.token(t, "bob", auth.Trainee), "two", 404},
		{"a lecturer", ts.token(t, "lena", auth.Lecturer), "two", 404},
		{"no such step", alice, "nine", 404},
		{"an admin", ts.token(t, "root", auth.Admin), "one", 200},
	} {
		if r, _ := enter(tc.token, tc.step); r.status != tc.status || tc.status != 200 && r.errorCode(t) != "not_found" {
			t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.body, tc.status)
		}
	}

	// The lab's view has the foregrounds for the page, and no check or solution.
	r = ts.do(t, "GET", "/api/labs/demo", alice, nil)
	var v labView
	r.json(t, &v)
	if v.Foreground == nil || v.Steps[0].Foreground != nil || v.Steps[1].Foreground == nil ||
		!slices.Equal(v.Steps[1].Foreground.Commands, []string{"ls /tmp", "uname -a"}) {
		t.Errorf("lab view: %s", r.body)
	}
	for _, secret := range []string{"test two", "touch two", "fg.sh"} {
		if bytes.Contains(r.body, []byte(secret)) {
			t.Errorf("lab view shows %q: %s", secret, r.body)
		}
	}

	// An ended session: nothing to enter.
	ts.do(t, "DELETE", "/api/sessions/"+id, alice, nil)
	if r, _ := enter(alice, "two"); r.status != 409 {
		t.Errorf("ended: %d %s", r.status, r.body)
	}
}
