package auth

import (
	"sync"
	"time"
)

// Limiter counts failed sign-ins in a sliding window, per e-mail and client
// together, per client, and per e-mail. It lives in memory: a restart
// forgets the counts, and several labd instances would each count their
// own, which still bounds guessing to a small multiple. That is enough for a
// password hashed with argon2id; share the counts (in the database) once
// labd scales out.
type Limiter struct {
	Window   time.Duration // how far back failures count
	PerPair  int           // failures per e-mail from one client
	PerIP    int           // failures per client, any e-mails
	PerEmail int           // failures per e-mail, any clients: bounds a distributed guess

	mu    sync.Mutex
	fails map[string][]time.Time
	now   func() time.Time
	swept time.Time
}

// NewLimiter returns the default policy: 5 failures per e-mail and client,
// 20 per client and 100 per e-mail in 15 minutes.
func NewLimiter(now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{Window: 15 * time.Minute, PerPair: 5, PerIP: 20, PerEmail: 100,
		fails: map[string][]time.Time{}, now: now}
}

func (l *Limiter) keys(email, ip string) [3]string {
	return [3]string{"p\x00" + email + "\x00" + ip, "i\x00" + ip, "e\x00" + email}
}

func (l *Limiter) limits() [3]int { return [3]int{l.PerPair, l.PerIP, l.PerEmail} }

// recent returns key's failures still inside the window, pruning the rest.
func (l *Limiter) recent(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && !ts[i].After(now.Add(-l.Window)) {
		i++
	}
	if i == len(ts) {
		delete(l.fails, key)
		return nil
	}
	ts = ts[i:]
	l.fails[key] = ts
	return ts
}

// Allow reports whether a sign-in for email from ip may be tried now, and if
// not, how long until it may.
func (l *Limiter) Allow(email, ip string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for i, k := range l.keys(email, ip) {
		ts := l.recent(k, now)
		if n := l.limits()[i]; len(ts) >= n {
			// Allowed again when the failure that makes it n leaves the window.
			if w := ts[len(ts)-n].Add(l.Window).Sub(now); w > wait {
				wait = w
			}
		}
	}
	return wait, wait == 0
}

// Fail counts a failed sign-in.
func (l *Limiter) Fail(email, ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	for _, k := range l.keys(email, ip) {
		l.fails[k] = append(l.recent(k, now), now)
	}
}

// Succeed forgets the e-mail's failures after a correct password; the
// client's own count stays, so one valid account cannot reset the guessing
// of others.
func (l *Limiter) Succeed(email, ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.keys(email, ip)
	delete(l.fails, k[0])
	delete(l.fails, k[2])
}

// sweep drops stale keys once a window, so memory follows recent failures only.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < l.Window {
		return
	}
	l.swept = now
	for k := range l.fails {
		l.recent(k, now)
	}
}
