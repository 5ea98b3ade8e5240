// Package lab is the lab domain: lab definitions (lab.yaml), sessions and the
// Service that provisions them on a Runtime, keeps them in a Store, checks their
// steps and enforces their lifetimes. It knows nothing of Docker, SQL or HTTP.
package lab

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config tunes a Service.
type Config struct {
	MaxPerUser  int            // live sessions one user may hold; default 3
	MaxSessions int            // live environments in all, warm pools included; default 120
	WarmPool    map[string]int // lab id -> ready environments kept waiting
	// ReapEvery is how often expired and idle sessions are ended and pools refilled.
	ReapEvery time.Duration
	Log       *slog.Logger
	Metrics   Metrics
	Now       func() time.Time
	// OnDestroy is called before a session's environment is removed (it
	// ended, was reset or failed): the terminals end their shells.
	OnDestroy func(session string)
	// Admission decides whether a new environment may start; default
	// CountAdmission{MaxSessions}.
	Admission Admission
	// DestroyTimeout bounds one attempt to remove an environment; one that
	// fails is retried by the reaper with backoff. Default 1m.
	DestroyTimeout time.Duration
	// StopGrace is how long Close lets provisioning finish before leaving
	// it to the next labd, which provisions it again. Default 30s.
	StopGrace time.Duration
}

// Metrics receives the figures the service measures; the API exports them.
type Metrics interface {
	Provisioned(lab string, d time.Duration, err error)
	Checked(lab string, d time.Duration, passed bool)
}

// Actor is who asks: a user id, and whether they may see everyone's sessions.
type Actor struct {
	User   string
	SeeAll bool
	// Oversees are other users whose sessions the actor may see (a
	// lecturer's trainees).
	Oversees []string
}

// sees: an admin sees every session, warm-pool ones included.
func (a Actor) sees(owner string) bool {
	return a.SeeAll || owner != "" && (owner == a.User || slices.Contains(a.Oversees, owner))
}

// Service runs lab sessions: it provisions them on a Runtime, keeps them in a
// Store, checks steps, enforces limits and lifetimes, keeps warm pools full
// and adopts what a previous labd left running.
type Service struct {
	cfg     Config
	catalog *Catalog
	rt      Runtime
	store   Store
	log     *slog.Logger

	mu   sync.Mutex
	live map[string]*entry   // provisioning or ready, pool sessions included
	pool map[string][]string // lab -> ready, unclaimed session ids, oldest first
	// filling counts pool sessions being provisioned per lab.
	filling  map[string]int
	poolWait map[string]time.Time // lab -> no refill before (after a failure)
	// reserved grows pools for classes, by key and lab.
	reserved map[[2]string]Reservation
	// queue holds the ids of queued sessions (in live), first in line first.
	queue []string
	// doomed are ended sessions whose environment still exists: the reaper
	// retries removing them, and they count against MaxSessions.
	doomed map[string]*doom
	// provTime is the latest provisioning time per lab, for estimates.
	provTime map[string]time.Duration
	// adopted is set once recovery knows what the previous labd left:
	// until then new sessions queue. recovered is closed when it is done.
	adopted   bool
	recovered chan struct{}
	// closed is set by Close: no background work starts after it.
	closed bool

	ctx    context.Context // background work; cancelled by Close
	cancel context.CancelFunc
	// provCtx is provisioning's: cancelled by Close after StopGrace.
	provCtx    context.Context
	provCancel context.CancelFunc
	provWG     sync.WaitGroup
	wg         sync.WaitGroup
}

// entry is a live session and what goes with it in memory.
type entry struct {
	s *Session
	// changed is closed (and replaced) whenever the session changes state.
	changed chan struct{}
	// waiters counts calls to Wait blocked on changed (for tests).
	waiters int
	// stop cancels provisioning; done is closed when provisioning returns.
	stop context.CancelFunc
	done chan struct{}
	// passedOnce holds the steps that have passed since the environment was
	// made: a step is entered (its faults happen) only once.
	passedOnce map[string]bool
	// entered holds the steps entered in this environment (step -> the
	// page has had its foreground); nil until made or read from the store.
	entered map[string]bool
	// retried: provisioning failed once for the host's sake and was queued again.
	retried bool
}

// NewService returns a service; call Start before use and Close after.
func NewService(cfg Config, catalog *Catalog, rt Runtime, store Store) *Service {
	if cfg.MaxPerUser == 0 {
		cfg.MaxPerUser = 3
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = 120
	}
	if cfg.ReapEvery == 0 {
		cfg.ReapEvery = 5 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Admission == nil {
		cfg.Admission = CountAdmission{Max: cfg.MaxSessions}
	}
	if cfg.DestroyTimeout == 0 {
		cfg.DestroyTimeout = time.Minute
	}
	if cfg.StopGrace == 0 {
		cfg.StopGrace = 20 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	provCtx, provCancel := context.WithCancel(context.Background())
	return &Service{
		cfg: cfg, catalog: catalog, rt: rt, store: store, log: cfg.Log,
		live: map[string]*entry{}, pool: map[string][]string{},
		filling: map[string]int{}, poolWait: map[string]time.Time{}, reserved: map[[2]string]Reservation{},
		doomed: map[string]*doom{}, provTime: map[string]time.Duration{}, recovered: make(chan struct{}),
		ctx: ctx, cancel: cancel, provCtx: provCtx, provCancel: provCancel,
	}
}

// Catalog returns the labs the service runs.
func (s *Service) Catalog() *Catalog { return s.catalog }

// Start begins, in the background, to adopt the sessions a previous labd
// left running and remove orphans; then it fills the warm pools, admits the
// queue and starts the reaper. It never blocks on the runtime: sessions
// created meanwhile queue, and Ping reports not ready until recovery is done.
func (s *Service) Start(ctx context.Context) error {
	s.wg.Go(func() {
		s.recoverLoop()
		if s.ctx.Err() != nil {
			return
		}
		s.refill()
		s.admitQueue()
		s.reapLoop()
	})
	return nil
}

// Recovered is closed once the previous labd's sessions are adopted and its
// orphans removed (or handed to the reaper to retry).
func (s *Service) Recovered() <-chan struct{} { return s.recovered }

// recoveryWait bounds how long a call about a session that is not live
// waits for recovery to adopt it, before it answers "try again".
const recoveryWait = 10 * time.Second

// awaitRecovery waits until the previous labd's sessions are adopted, so a
// session that is only in the store is not taken for ended while its
// adoption is still to come.
func (s *Service) awaitRecovery(ctx context.Context) error {
	select {
	case <-s.recovered:
		return nil
	default:
	}
	t := time.NewTimer(recoveryWait)
	defer t.Stop()
	select {
	case <-s.recovered:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return Errorf(EUnavailable, "labd is still taking over the running lab sessions; try again in a moment")
	}
}

// Ping reports whether recovery has finished, for /readyz.
func (s *Service) Ping(ctx context.Context) error {
	select {
	case <-s.recovered:
		return nil
	default:
		return errors.New("still adopting the previous labd's lab sessions")
	}
}

// Close stops background work and waits for it. Provisioning gets
// StopGrace to finish; what does not is left to the next labd, which
// provisions it again. Running sessions are left running: the next labd
// adopts them.
func (s *Service) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	done := make(chan struct{})
	go func() { s.provWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.cfg.StopGrace):
		s.log.Info("labd stopping: provisioning left to the next start")
	}
	s.provCancel()
	s.provWG.Wait()
	s.wg.Wait()
}

func newID() string {
	var b [10]byte
	rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// snapshot copies a session so callers never share memory with the service.
func snapshot(s *Session) *Session {
	c := *s
	c.Nodes = slices.Clone(s.Nodes)
	c.Steps = slices.Clone(s.Steps)
	c.Queue = nil
	return &c
}

// viewLocked is a snapshot of e with its place in line when it is queued.
func (s *Service) viewLocked(e *entry) *Session {
	c := snapshot(e.s)
	if c.State == Queued {
		c.Queue = s.placeLocked(e, s.cfg.Now())
	}
	return c
}

// visible returns the live entry of id if actor may see it, or the stored
// session if it is no longer live. Another user's session is "not found",
// so ids reveal nothing.
func (s *Service) visible(ctx context.Context, a Actor, id string) (*entry, *Session, error) {
	s.mu.Lock()
	e, ok := s.live[id]
	if ok && a.sees(e.s.Owner) {
		snap := s.viewLocked(e)
		s.mu.Unlock()
		return e, snap, nil
	}
	s.mu.Unlock()
	if ok {
		return nil, nil, Errorf(ENotFound, "no lab session %q", id)
	}
	if err := s.awaitRecovery(ctx); err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	e, ok = s.live[id] // adopted while we waited
	if ok && a.sees(e.s.Owner) {
		snap := s.viewLocked(e)
		s.mu.Unlock()
		return e, snap, nil
	}
	s.mu.Unlock()
	if ok {
		return nil, nil, Errorf(ENotFound, "no lab session %q", id)
	}
	sess, err := s.store.Session(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if sess == nil || !a.sees(sess.Owner) {
		return nil, nil, Errorf(ENotFound, "no lab session %q", id)
	}
	return nil, sess, nil
}

// Session returns one session.
func (s *Service) Session(ctx context.Context, a Actor, id string) (*Session, error) {
	_, sess, err := s.visible(ctx, a, id)
	return sess, err
}

// Wait returns the session once it is neither queued nor provisioning, or
// when ctx ends (then with its current state and no error).
func (s *Service) Wait(ctx context.Context, a Actor, id string) (*Session, error) {
	for {
		sess, err := s.WaitChange(ctx, a, id)
		if err != nil || ctx.Err() != nil || (sess.State != Queued && sess.State != Provisioning) {
			return sess, err
		}
		s.mu.Lock()
		_, live := s.live[id]
		s.mu.Unlock()
		if !live { // only the store's word is left: nothing more will change
			return sess, nil
		}
	}
}

// WaitChange returns the session once it is neither queued nor
// provisioning, when it changes state or place in line, or when ctx ends
// (then with its current state and no error): the long poll of a lab page
// that shows the line moving.
func (s *Service) WaitChange(ctx context.Context, a Actor, id string) (*Session, error) {
	e, sess, err := s.visible(ctx, a, id)
	if err != nil || e == nil || (sess.State != Provisioning && sess.State != Queued) {
		return sess, err
	}
	s.mu.Lock()
	ch := e.changed
	unchanged := e.s.State == sess.State
	e.waiters++
	s.mu.Unlock()
	if unchanged {
		select {
		case <-ch:
		case <-ctx.Done():
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e.waiters--
	return s.viewLocked(e), nil
}

// Sessions lists the sessions a may see, newest first: live ones from memory,
// ended ones from the store.
func (s *Service) Sessions(ctx context.Context, a Actor, liveOnly bool) ([]*Session, error) {
	f := Filter{Live: liveOnly, Limit: 200}
	if !a.SeeAll {
		f.Owner, f.Owners = a.User, a.Oversees
	}
	stored, err := s.store.Sessions(ctx, f)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := stored[:0]
	listed := map[string]bool{}
	for _, st := range stored {
		if e, ok := s.live[st.ID]; ok {
			st = s.viewLocked(e)
		}
		if a.sees(st.Owner) {
			out = append(out, st)
			listed[st.ID] = true
		}
	}
	// An admin's live list also shows what still holds capacity after it
	// ended: environments the reaper is still trying to remove.
	if liveOnly && a.SeeAll {
		for id, d := range s.doomed {
			if !listed[id] && d.s != nil {
				out = append(out, snapshot(d.s))
			}
		}
	}
	return out, nil
}

func stateError(sess *Session, action string) error {
	switch sess.State {
	case Queued:
		return Errorf(EConflict, "cannot %s: the lab session is waiting in line to start", action)
	case Provisioning:
		return Errorf(EConflict, "cannot %s: the lab session is still starting", action)
	case Failed:
		return Errorf(EConflict, "cannot %s: the lab session failed to start (%s)", action, sess.Reason)
	default:
		reason := ""
		if sess.Reason != "" {
			reason = " (" + sess.Reason + ")"
		}
		return Errorf(EConflict, "cannot %s: the lab session has ended%s", action, reason)
	}
}

// Stats counts live sessions by state (and, as "ending", ended sessions
// whose environment is still being removed) and ready pool sessions by lab.
func (s *Service) Stats() (byState map[State]int, pool map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byState = map[State]int{Queued: 0, Provisioning: 0, Ready: 0, "ending": len(s.doomed)}
	for _, e := range s.live {
		byState[e.s.State]++
	}
	pool = map[string]int{}
	for _, lab := range s.poolLabsLocked() {
		pool[lab] = len(s.pool[lab])
	}
	return byState, pool
}
