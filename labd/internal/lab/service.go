// Package lab is the lab domain: lab definitions (lab.yaml), sessions and the
// Service that provisions them on a Runtime, keeps them in a Store, checks their
// steps and enforces their lifetimes. It knows nothing of Docker, SQL or HTTP.
package lab

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
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

func (a Actor) sees(owner string) bool {
	return owner != "" && (a.SeeAll || owner == a.User || slices.Contains(a.Oversees, owner))
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

	ctx    context.Context // background work; cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// entry is a live session and what goes with it in memory.
type entry struct {
	s *Session
	// changed is closed (and replaced) whenever the session changes state.
	changed chan struct{}
	// stop cancels provisioning; done is closed when provisioning returns.
	stop context.CancelFunc
	done chan struct{}
	// passedOnce holds the steps that have passed since the environment was
	// made: a step is entered (its faults happen) only once.
	passedOnce map[string]bool
	// entered holds the steps entered in this environment (step -> the
	// page has had its foreground); nil until made or read from the store.
	entered map[string]bool
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
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{
		cfg: cfg, catalog: catalog, rt: rt, store: store, log: cfg.Log,
		live: map[string]*entry{}, pool: map[string][]string{},
		filling: map[string]int{}, poolWait: map[string]time.Time{}, reserved: map[[2]string]Reservation{},
		ctx: ctx, cancel: cancel,
	}
}

// Catalog returns the labs the service runs.
func (s *Service) Catalog() *Catalog { return s.catalog }

// Start adopts the sessions a previous labd left running, removes orphans,
// fills the warm pools and starts the reaper.
func (s *Service) Start(ctx context.Context) error {
	if err := s.recover(ctx); err != nil {
		return fmt.Errorf("recover sessions: %w", err)
	}
	s.refill()
	s.wg.Go(s.reapLoop)
	return nil
}

// Close stops background work and waits for it. Running sessions are left
// running: the next labd adopts them.
func (s *Service) Close() {
	s.cancel()
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
	return &c
}

// visible returns the live entry of id if actor may see it, or the stored
// session if it is no longer live. Another user's session is "not found",
// so ids reveal nothing.
func (s *Service) visible(ctx context.Context, a Actor, id string) (*entry, *Session, error) {
	s.mu.Lock()
	e, ok := s.live[id]
	if ok && a.sees(e.s.Owner) {
		snap := snapshot(e.s)
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

// Wait returns the session once it is no longer provisioning, or when ctx ends
// (then with its current state and no error).
func (s *Service) Wait(ctx context.Context, a Actor, id string) (*Session, error) {
	for {
		e, sess, err := s.visible(ctx, a, id)
		if err != nil || e == nil || sess.State != Provisioning {
			return sess, err
		}
		s.mu.Lock()
		ch := e.changed
		stillProvisioning := e.s.State == Provisioning
		s.mu.Unlock()
		if !stillProvisioning {
			continue
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return sess, nil
		}
	}
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
	for _, st := range stored {
		if e, ok := s.live[st.ID]; ok {
			st = snapshot(e.s)
		}
		if st.Owner != "" {
			out = append(out, st)
		}
	}
	return out, nil
}

func stateError(sess *Session, action string) error {
	switch sess.State {
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

// Stats counts live sessions by state and ready pool sessions by lab.
func (s *Service) Stats() (byState map[State]int, pool map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byState = map[State]int{Provisioning: 0, Ready: 0}
	for _, e := range s.live {
		byState[e.s.State]++
	}
	pool = map[string]int{}
	for _, lab := range s.poolLabsLocked() {
		pool[lab] = len(s.pool[lab])
	}
	return byState, pool
}
