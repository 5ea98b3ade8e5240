package certificate_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/certificate"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

const siteURL = "https://academy.example.com"

type env struct {
	svc   *certificate.Service
	db    *sqlite.DB
	keys  *certificate.Keys
	dir   string
	clock *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newEnv is a Service on a real SQLite file and a real key folder.
func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keys, err := certificate.OpenKeys(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	svc := certificate.NewService(db, keys, certificate.Issuer{URL: siteURL + "/", Name: "XSKY Academy"})
	c := &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	svc.SetClock(c.Now)
	return &env{svc: svc, db: db, keys: keys, dir: dir, clock: c}
}

func storageOps() certificate.Program {
	return certificate.Program{
		ID:          "storage-ops",
		Name:        certificate.Text{ZH: "分布式存储运维工程师", EN: "Distributed Storage Operations Engineer"},
		Description: certificate.Text{ZH: "能够部署、检查和维护 XSKY 分布式存储集群。", EN: "Can deploy, check and maintain an XSKY distributed storage cluster."},
		Criteria:    certificate.Text{ZH: "通过全部实验和考试（70 分及格）。", EN: "Pass every lab and the exam (pass mark 70)."},
		Validity:    2 * 365 * 24 * time.Hour,
	}
}

func request(user, name string) certificate.Request {
	return certificate.Request{
		Program: storageOps(),
		Subject: certificate.Subject{UserID: user, Name: name},
		Results: []certificate.Result{
			{Name: certificate.Text{ZH: "实验：集群健康检查", EN: "Lab: cluster health"}, Score: 100, PassMark: 100},
			{Name: certificate.Text{ZH: "考试", EN: "Exam"}, Score: 86.5, PassMark: 70},
		},
		Evidence: []certificate.Evidence{
			{Name: certificate.Text{ZH: "实验记录", EN: "Lab record"}, URL: "/zh/labs/ceph-health/"},
		},
	}
}

func (e *env) issue(t testing.TB, user, name string) *certificate.Certificate {
	t.Helper()
	c, err := e.svc.Issue(context.Background(), request(user, name))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIssueIsIdempotent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.issue(t, "alice", "张伟 Alice Zhang")
	if len(a.Code) != 16 || !strings.HasPrefix(a.ID, "urn:uuid:") {
		t.Fatalf("code %q id %q", a.Code, a.ID)
	}
	// Concurrent claims (a class issued in bulk, a double click) give one certificate.
	var wg sync.WaitGroup
	codes := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := e.svc.Issue(ctx, request("alice", "张伟 Alice Zhang"))
			if err != nil {
				t.Error(err)
				return
			}
			codes <- c.Code
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != a.Code {
			t.Errorf("second issue made %s, want %s", c, a.Code)
		}
	}
	list, err := e.svc.ForUser(ctx, "alice")
	if err != nil || len(list) != 1 {
		t.Fatalf("alice has %d certificates (%v), want 1", len(list), err)
	}
	// Another user gets another certificate, subject id and status index.
	b := e.issue(t, "bob", "Bob")
	if b.Code == a.Code || b.SubjectID == a.SubjectID || b.StatusIndex == a.StatusIndex && b.StatusList == a.StatusList {
		t.Fatalf("bob's certificate shares alice's: %+v %+v", a, b)
	}
	// After expiry a new claim issues a new certificate; the old one stays, expired.
	e.clock.Add(2*365*24*time.Hour + time.Second)
	a2 := e.issue(t, "alice", "张伟 Alice Zhang")
	if a2.Code == a.Code || a2.SubjectID != a.SubjectID {
		t.Fatalf("after expiry: %s (subject %s), old %s (subject %s)", a2.Code, a2.SubjectID, a.Code, a.SubjectID)
	}
	old, _ := e.svc.Certificate(ctx, a.Code)
	if st := e.svc.Status(old); st != certificate.Expired {
		t.Fatalf("old status %s", st)
	}
}

func TestIssueRejectsBadRequests(t *testing.T) {
	e := newEnv(t)
	cases := map[string]func(r *certificate.Request){
		"no program id":       func(r *certificate.Request) { r.Program.ID = "" },
		"bad program id":      func(r *certificate.Request) { r.Program.ID = "../x" },
		"no chinese name":     func(r *certificate.Request) { r.Program.Name.ZH = "" },
		"no criteria":         func(r *certificate.Request) { r.Program.Criteria.EN = "" },
		"negative validity":   func(r *certificate.Request) { r.Program.Validity = -time.Hour },
		"no user":             func(r *certificate.Request) { r.Subject.UserID = "" },
		"no holder name":      func(r *certificate.Request) { r.Subject.Name = "  " },
		"long holder name":    func(r *certificate.Request) { r.Subject.Name = strings.Repeat("名", 201) },
		"score above 100":     func(r *certificate.Request) { r.Results[0].Score = 101 },
		"NaN score":           func(r *certificate.Request) { r.Results[0].PassMark = nan() },
		"evidence not http":   func(r *certificate.Request) { r.Evidence[0].URL = "javascript:alert(1)" },
		"evidence relative":   func(r *certificate.Request) { r.Evidence[0].URL = "labs/x" },
		"result without name": func(r *certificate.Request) { r.Results[0].Name = certificate.Text{} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			r := request("alice", "Alice")
			mutate(&r)
			_, err := e.svc.Issue(context.Background(), r)
			var ce *certificate.Error
			if !errors.As(err, &ce) || ce.Code != certificate.EInvalid {
				t.Fatalf("got %v, want an invalid error", err)
			}
		})
	}
	if list, _ := e.svc.ForUser(context.Background(), "alice"); len(list) != 0 {
		t.Fatalf("a refused request left %d certificates", len(list))
	}
}

func nan() float64 { var z float64; return z / z }

func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := certificate.NewCode()
		if len(c) != 16 || seen[c] {
			t.Fatalf("code %q (len %d, seen %v)", c, len(c), seen[c])
		}
		seen[c] = true
		g := certificate.Group(c)
		if len(g) != 19 || g[4] != '-' {
			t.Fatalf("grouped %q", g)
		}
		for _, typed := range []string{c, g, strings.ToLower(g), " " + strings.ReplaceAll(g, "-", " ")} {
			if got, err := certificate.ParseCode(typed); err != nil || got != c {
				t.Fatalf("ParseCode(%q) = %q, %v", typed, got, err)
			}
		}
	}
	if got, err := certificate.ParseCode("abcd-0f1g-8hij-klmn"); err != nil || got != "ABCDOFIGBHIJKLMN" {
		t.Fatalf("look-alike digits: %q %v", got, err)
	}
	for _, bad := range []string{"", "ABCD", "ABCD-EFGH-IJKL-MNOP-Q", "ABCD-EFGH-IJKL-MNO9", "ABCD/EFGH/IJKL/MNOP", "<script>"} {
		if _, err := certificate.ParseCode(bad); err == nil {
			t.Errorf("ParseCode(%q) accepted", bad)
		}
	}
}

func TestVerify(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.issue(t, "alice", "张伟 Alice Zhang")
	ver, err := e.svc.Verify(ctx, c.JWT)
	if err != nil {
		t.Fatal(err)
	}
	if ver.Status != certificate.Valid || ver.Err() != nil || ver.KeyID != c.KeyID {
		t.Fatalf("status %s, err %v, kid %s", ver.Status, ver.Err(), ver.KeyID)
	}
	cred, err := ver.Credential()
	if err != nil {
		t.Fatal(err)
	}
	if cred.Holder() != "张伟 Alice Zhang" || cred.AchievementName().ZH != "分布式存储运维工程师" {
		t.Fatalf("holder %q, achievement %+v", cred.Holder(), cred.AchievementName())
	}
	rs := cred.Results()
	if len(rs) != 2 || rs[1].Score != 86.5 || rs[1].PassMark != 70 || rs[0].Name.ZH != "实验：集群健康检查" {
		t.Fatalf("results %+v", rs)
	}
	if !ver.Issued.Equal(c.Issued) || !ver.Expires.Equal(c.Expires) || !c.Expires.Equal(c.Issued.Add(2*365*24*time.Hour)) {
		t.Fatalf("period %s..%s, record %s..%s", ver.Issued, ver.Expires, c.Issued, c.Expires)
	}
}
