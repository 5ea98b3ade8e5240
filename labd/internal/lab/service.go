package lab

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
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

// Create starts a lab session of labID for owner. A user who already has a
// live session of that lab gets it back (created is false). A ready
// environment from the warm pool is handed out at once; otherwise the session
// is provisioning when Create returns.
func (s *Service) Create(ctx context.Context, owner, labID string) (sess *Session, created bool, err error) {
	def, ok := s.catalog.Lab(labID)
	if !ok {
		return nil, false, Errorf(ENotFound, "no lab %q", labID)
	}
	if owner == "" {
		return nil, false, Errorf(EInvalid, "a lab session needs an owner")
	}
	now := s.cfg.Now()

	s.mu.Lock()
	mine := 0
	for _, e := range s.live {
		if e.s.Owner != owner {
			continue
		}
		if e.s.Lab == labID {
			snap := snapshot(e.s)
			s.mu.Unlock()
			return snap, false, nil
		}
		mine++
	}
	if mine >= s.cfg.MaxPerUser {
		s.mu.Unlock()
		return nil, false, &Error{Code: ELimit, Message: fmt.Sprintf(
			"you already have %d lab sessions running, the most one user may have; end one to start another", mine)}
	}
	if ids := s.pool[labID]; len(ids) > 0 {
		id := ids[0]
		s.pool[labID] = ids[1:]
		e := s.live[id]
		e.s.Owner = owner
		e.s.Created = now
		e.s.Ready = now
		e.s.Activity = now
		e.s.Expires = now.Add(def.TimeLimit.D())
		snap := snapshot(e.s)
		s.mu.Unlock()
		if err := s.store.SaveSession(ctx, snap); err != nil {
			s.log.Error("save claimed session", "session", id, "err", err)
		}
		s.log.Info("session claimed from warm pool", "session", id, "lab", labID, "owner", owner)
		s.wg.Go(s.refill)
		return snap, true, nil
	}
	if len(s.live) >= s.cfg.MaxSessions {
		retry := s.nextExpiryLocked(now)
		s.mu.Unlock()
		msg := fmt.Sprintf("all %d lab environments are in use; please try again later", s.cfg.MaxSessions)
		if retry > 0 {
			msg = fmt.Sprintf("all %d lab environments are in use; one should free up within %s",
				s.cfg.MaxSessions, retry.Round(time.Minute)+time.Minute)
		}
		return nil, false, &Error{Code: ELimit, Message: msg, RetryAfter: retry}
	}
	e := s.newEntryLocked(def, owner, now)
	snap := snapshot(e.s)
	s.mu.Unlock()

	if err := s.store.SaveSession(ctx, snap); err != nil {
		s.mu.Lock()
		delete(s.live, snap.ID)
		s.mu.Unlock()
		return nil, false, fmt.Errorf("save session: %w", err)
	}
	s.log.Info("session created", "session", snap.ID, "lab", labID, "owner", owner)
	s.startProvision(e, def)
	return snap, true, nil
}

// nextExpiryLocked is how long until the first claimed session reaches its limit.
func (s *Service) nextExpiryLocked(now time.Time) time.Duration {
	var first time.Time
	for _, e := range s.live {
		if e.s.Owner != "" && e.s.State == Ready && (first.IsZero() || e.s.Expires.Before(first)) {
			first = e.s.Expires
		}
	}
	if first.IsZero() || first.Before(now) {
		return 0
	}
	return first.Sub(now)
}

func (s *Service) newEntryLocked(def *Definition, owner string, now time.Time) *entry {
	sess := &Session{
		ID: newID(), Lab: def.ID, Owner: owner, State: Provisioning,
		Created: now, Activity: now, Expires: now.Add(def.TimeLimit.D()),
	}
	for _, st := range def.Steps {
		sess.Steps = append(sess.Steps, StepResult{Step: st.ID})
	}
	e := &entry{s: sess, changed: make(chan struct{})}
	s.live[sess.ID] = e
	return e
}

// startProvision builds e's environment in the background.
func (s *Service) startProvision(e *entry, def *Definition) {
	ctx, stop := context.WithCancel(s.ctx)
	s.mu.Lock()
	e.stop = stop
	e.done = make(chan struct{})
	done := e.done
	s.mu.Unlock()
	s.wg.Go(func() {
		defer close(done)
		defer stop()
		s.provision(ctx, e, def)
	})
}

func (s *Service) provision(ctx context.Context, e *entry, def *Definition) {
	start := s.cfg.Now()
	s.mu.Lock()
	id, owner := e.s.ID, e.s.Owner
	s.mu.Unlock()

	budget := 2 * time.Minute
	for _, st := range def.Setup {
		budget += st.Timeout.D()
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()

	env, err := s.rt.Create(ctx, EnvSpec{Session: id, Lab: def.ID, Owner: owner, Nodes: def.Nodes})
	if err == nil {
		err = s.setup(ctx, id, def)
		if err == nil && len(def.Steps) > 0 {
			err = s.applyFaults(ctx, id, def.Steps[0])
		}
		if err != nil {
			s.destroyEnv(id)
		}
	} else {
		err = fmt.Errorf("could not start the lab's nodes: %w", err)
	}
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Provisioned(def.ID, s.cfg.Now().Sub(start), err)
	}

	now := s.cfg.Now()
	s.mu.Lock()
	if s.live[id] != e {
		// Ended meanwhile: end records it, but may have removed the
		// environment before this provisioning made it.
		s.mu.Unlock()
		if err == nil {
			s.destroyEnv(id)
		}
		return
	}
	if err != nil {
		e.s.State, e.s.Reason, e.s.Ended = Failed, err.Error(), now
		if s.ctx.Err() != nil {
			e.s.Reason = "labd stopped while the session was starting"
			s.log.Info("provisioning stopped: labd is closing", "session", id, "lab", def.ID)
		} else {
			s.log.Error("session failed", "session", id, "lab", def.ID, "err", err)
		}
	} else {
		// The time limit runs from the first ready; a reset does not renew it.
		if e.s.Owner != "" && e.s.Ready.IsZero() {
			e.s.Expires = now.Add(def.TimeLimit.D())
		}
		e.s.State, e.s.Nodes, e.s.Ready = Ready, env.Nodes, now
		e.s.Activity = now
		s.log.Info("session ready", "session", id, "lab", def.ID, "took", now.Sub(start).Round(time.Millisecond))
	}
	snap := snapshot(e.s)
	s.mu.Unlock()
	// Stored before anyone is told, so a reader never sees an older state.
	if err := s.store.SaveSession(context.WithoutCancel(ctx), snap); err != nil {
		s.log.Error("save session", "session", id, "err", err)
	}
	s.mu.Lock()
	if s.live[id] == e {
		if e.s.Owner == "" {
			s.filling[def.ID]--
			if err != nil {
				s.poolWait[def.ID] = now.Add(30 * time.Second)
			} else {
				s.pool[def.ID] = append(s.pool[def.ID], id)
			}
		}
		if err != nil {
			delete(s.live, id)
		}
	}
	s.notifyLocked(e)
	s.mu.Unlock()
}

// setup runs the lab's setup actions in order; a script on several nodes
// runs on them at once.
func (s *Service) setup(ctx context.Context, id string, def *Definition) error {
	for _, st := range def.Setup {
		if st.Copy != "" {
			if err := s.rt.Copy(ctx, id, st.From, st.Copy, st.To); err != nil {
				return fmt.Errorf("setup: copy %s from %s: %w", st.Copy, st.From, err)
			}
			continue
		}
		targets := st.Targets()
		errs := make([]error, len(targets))
		var wg sync.WaitGroup
		for i, node := range targets {
			wg.Go(func() {
				res, err := s.rt.Exec(ctx, id, node, Command{Script: st.Body, Timeout: st.Timeout.D(), MaxOutput: 64 << 10})
				switch {
				case err != nil:
					errs[i] = fmt.Errorf("setup %s on %s: %w", st.Script, node, err)
				case res.TimedOut:
					errs[i] = fmt.Errorf("setup %s on %s did not finish within %s", st.Script, node, st.Timeout)
				case res.ExitCode != 0:
					errs[i] = fmt.Errorf("setup %s on %s failed with exit code %d: %s",
						st.Script, node, res.ExitCode, lastLines(string(res.Output), 5))
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func (s *Service) notifyLocked(e *entry) {
	close(e.changed)
	e.changed = make(chan struct{})
}

// destroyEnv removes a session's environment, not bound to any caller's context.
func (s *Service) destroyEnv(id string) {
	if s.cfg.OnDestroy != nil {
		s.cfg.OnDestroy(id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.rt.Destroy(ctx, id); err != nil {
		s.log.Error("destroy environment", "session", id, "err", err)
	}
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

// Check runs a step's check and records the result.
func (s *Service) Check(ctx context.Context, a Actor, id, stepID string) (StepResult, error) {
	e, sess, err := s.visible(ctx, a, id)
	if err != nil {
		return StepResult{}, err
	}
	def, ok := s.catalog.Lab(sess.Lab)
	if !ok {
		return StepResult{}, Errorf(EConflict, "the lab %q of this session is no longer offered", sess.Lab)
	}
	step, ok := def.Step(stepID)
	if !ok {
		return StepResult{}, Errorf(ENotFound, "lab %q has no step %q", def.ID, stepID)
	}
	if e == nil || sess.State != Ready {
		return StepResult{}, stateError(sess, "check a step")
	}
	s.Touch(id)

	res, err := s.rt.Exec(ctx, id, step.Check.Node, Command{
		Script: step.Check.Body, Timeout: step.Check.Timeout.D(), MaxOutput: 16 << 10,
	})
	r := StepResult{Step: stepID, Checked: s.cfg.Now(), Duration: res.Duration}
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return StepResult{}, ctx.Err()
		}
		r.Output = fmt.Sprintf("FAIL: the check could not run on %s: %v", step.Check.Node, err)
		r.Detail = r.Output
	case res.TimedOut:
		r.Output = fmt.Sprintf("FAIL: the check did not finish within %s", step.Check.Timeout)
		r.Detail = string(res.Output)
	default:
		r.Passed = res.ExitCode == 0
		r.Detail = string(res.Output)
		r.Output = failLines(r.Detail)
	}
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Checked(def.ID, r.Duration, r.Passed)
	}
	firstPass := false
	s.mu.Lock()
	if cur, ok := s.live[id]; ok && cur == e {
		for i := range e.s.Steps {
			if e.s.Steps[i].Step == stepID {
				firstPass = r.Passed && !e.s.Steps[i].Passed && !e.passedOnce[stepID]
				e.s.Steps[i] = r
			}
		}
		if firstPass {
			if e.passedOnce == nil {
				e.passedOnce = map[string]bool{}
			}
			e.passedOnce[stepID] = true
		}
	}
	s.mu.Unlock()
	if err := s.store.SaveStepResult(ctx, id, r); err != nil {
		return r, fmt.Errorf("save step result: %w", err)
	}
	// The step after one that passes for the first time is entered: its
	// faults happen now.
	if firstPass {
		for i, st := range def.Steps {
			if st.ID == stepID && i+1 < len(def.Steps) {
				if err := s.applyFaults(ctx, id, def.Steps[i+1]); err != nil {
					s.log.Error("fault injection", "session", id, "step", def.Steps[i+1].ID, "err", err)
				}
			}
		}
	}
	return r, nil
}

// applyFaults applies a step's faults, in order.
func (s *Service) applyFaults(ctx context.Context, id string, st Step) error {
	for _, f := range st.Faults {
		if err := s.applyFault(ctx, id, f); err != nil {
			return err
		}
	}
	if len(st.Faults) > 0 {
		s.log.Info("faults applied", "session", id, "step", st.ID, "faults", len(st.Faults))
	}
	return nil
}

// applyFault runs a fault's script, fills a disk, or acts on the node.
func (s *Service) applyFault(ctx context.Context, id string, f Fault) error {
	script := f.Body
	if f.Action == "fill" {
		// fallocate is instant where the file system has it; dd everywhere else.
		file := strings.TrimSuffix(f.Path, "/") + "/.academy-fill"
		script = fmt.Sprintf("fallocate -l %d %s 2>/dev/null || dd if=/dev/zero of=%s bs=1M count=%d status=none",
			int64(f.Size), file, file, int64(f.Size)>>20)
	}
	if script != "" {
		res, err := s.rt.Exec(ctx, id, f.Node, Command{Script: script, Timeout: 5 * time.Minute})
		if err == nil && res.ExitCode != 0 {
			err = fmt.Errorf("exit code %d: %s", res.ExitCode, lastLines(string(res.Output), 3))
		}
		if err != nil {
			return fmt.Errorf("fault on %s: %w", f.Node, err)
		}
		return nil
	}
	rf, ok := s.rt.(Faults)
	if !ok {
		return Errorf(EConflict, "this lab runtime cannot %s a node", f.Action)
	}
	if err := rf.Fault(ctx, id, f.Node, f.Action); err != nil {
		return fmt.Errorf("%s %s: %w", f.Action, f.Node, err)
	}
	return nil
}

// InjectFault applies an action fault to a node of a ready session: a
// lecturer's or an admin's way to test a trainee.
func (s *Service) InjectFault(ctx context.Context, a Actor, id string, f Fault) error {
	e, sess, err := s.visible(ctx, a, id)
	if err != nil {
		return err
	}
	if e == nil || sess.State != Ready {
		return stateError(sess, "inject a fault")
	}
	def, ok := s.catalog.Lab(sess.Lab)
	if !ok {
		return Errorf(EConflict, "the lab %q is no longer offered", sess.Lab)
	}
	if _, ok := def.Node(f.Node); !ok {
		return Errorf(ENotFound, "lab %q has no node %q", def.ID, f.Node)
	}
	if field, msg := validFault(f); msg != "" {
		return Errorf(EInvalid, "%s: %s", field, msg)
	}
	f.Script, f.Body = "", ""
	s.log.Info("fault injected", "session", id, "node", f.Node, "action", f.Action, "by", a.User)
	return s.applyFault(ctx, id, f)
}

// failLines returns the lines of out that start with "FAIL:", the messages a
// check writes for the trainee.
func failLines(out string) string {
	var b strings.Builder
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "FAIL:") {
			b.WriteString(line)
		}
	}
	return strings.TrimRight(b.String(), "\n")
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

// Touch records activity in a session, which holds off its idle timeout.
func (s *Service) Touch(id string) {
	now := s.cfg.Now()
	s.mu.Lock()
	if e, ok := s.live[id]; ok {
		e.s.Activity = now
	}
	s.mu.Unlock()
}

// Extend adds the lab's extend_by to the session's time limit, up to the
// lab's time_limit in all.
func (s *Service) Extend(ctx context.Context, a Actor, id string) (*Session, error) {
	e, sess, err := s.visible(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if e == nil || sess.State != Ready {
		return nil, stateError(sess, "extend")
	}
	def, ok := s.catalog.Lab(sess.Lab)
	if !ok {
		return nil, Errorf(EConflict, "the lab %q is no longer offered", sess.Lab)
	}
	now := s.cfg.Now()
	s.mu.Lock()
	left := def.TimeLimit.D() - e.s.Extended
	if left <= 0 {
		s.mu.Unlock()
		return nil, Errorf(EConflict, "this lab session has been extended as far as the lab allows (%s in all)", def.TimeLimit)
	}
	add := min(def.ExtendBy.D(), left)
	e.s.Expires = e.s.Expires.Add(add)
	e.s.Extended += add
	e.s.Activity = now
	snap := snapshot(e.s)
	s.mu.Unlock()
	if err := s.store.SaveSession(ctx, snap); err != nil {
		return nil, fmt.Errorf("save session: %w", err)
	}
	return snap, nil
}

// Reset replaces the session's environment with a fresh one. The session keeps
// its id and time limit; step results are cleared.
func (s *Service) Reset(ctx context.Context, a Actor, id string) (*Session, error) {
	e, sess, err := s.visible(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if e == nil || sess.State != Ready {
		return nil, stateError(sess, "reset")
	}
	def, ok := s.catalog.Lab(sess.Lab)
	if !ok {
		return nil, Errorf(EConflict, "the lab %q is no longer offered", sess.Lab)
	}
	s.mu.Lock()
	if e.s.State != Ready {
		s.mu.Unlock()
		return nil, stateError(e.s, "reset")
	}
	e.s.State = Provisioning
	e.s.Nodes = nil
	e.passedOnce = nil
	for i := range e.s.Steps {
		e.s.Steps[i] = StepResult{Step: e.s.Steps[i].Step}
	}
	s.notifyLocked(e)
	snap := snapshot(e.s)
	s.mu.Unlock()
	if err := s.store.ClearStepResults(ctx, id); err != nil {
		return nil, fmt.Errorf("clear step results: %w", err)
	}
	if err := s.store.SaveSession(ctx, snap); err != nil {
		return nil, fmt.Errorf("save session: %w", err)
	}
	s.log.Info("session reset", "session", id, "lab", def.ID)
	// The old environment goes first: the new one reuses the session's names.
	s.destroyEnv(id)
	s.startProvision(e, def)
	return snap, nil
}

// Destroy ends a session and removes its environment.
func (s *Service) Destroy(ctx context.Context, a Actor, id string) error {
	e, sess, err := s.visible(ctx, a, id)
	if err != nil {
		return err
	}
	if e == nil {
		return stateError(sess, "end")
	}
	s.end(e, "ended by the user")
	return nil
}

// end stops provisioning if it runs, removes the environment and records the end.
func (s *Service) end(e *entry, reason string) {
	s.mu.Lock()
	id := e.s.ID
	if s.live[id] != e {
		s.mu.Unlock()
		return
	}
	delete(s.live, id)
	if e.s.Owner == "" {
		s.pool[e.s.Lab] = slices.DeleteFunc(s.pool[e.s.Lab], func(x string) bool { return x == id })
		if e.s.State == Provisioning {
			s.filling[e.s.Lab]--
		}
	}
	stop, done := e.stop, e.done
	s.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	s.destroyEnv(id)
	s.mu.Lock()
	e.s.State, e.s.Reason, e.s.Ended = Ended, reason, s.cfg.Now()
	snap := snapshot(e.s)
	s.notifyLocked(e)
	s.mu.Unlock()
	if err := s.store.SaveSession(context.Background(), snap); err != nil {
		s.log.Error("save ended session", "session", id, "err", err)
	}
	s.log.Info("session ended", "session", id, "lab", snap.Lab, "reason", reason)
}

func (s *Service) reapLoop() {
	t := time.NewTicker(s.cfg.ReapEvery)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.Reap()
			s.refill()
		}
	}
}

// Reap ends sessions past their time limit or idle timeout.
func (s *Service) Reap() {
	now := s.cfg.Now()
	type victim struct {
		e      *entry
		reason string
	}
	var victims []victim
	s.mu.Lock()
	for _, e := range s.live {
		if e.s.Owner == "" || e.s.State != Ready {
			continue
		}
		def, ok := s.catalog.Lab(e.s.Lab)
		switch {
		case !ok:
			victims = append(victims, victim{e, "the lab is no longer offered"})
		case now.After(e.s.Expires):
			victims = append(victims, victim{e, "time limit reached"})
		case now.Sub(e.s.Activity) > def.IdleTimeout.D():
			victims = append(victims, victim{e, fmt.Sprintf("idle for more than %s", def.IdleTimeout)})
		}
	}
	// Pools larger than wanted (a class's window has closed) give back
	// their oldest environments.
	for _, labID := range s.poolLabsLocked() {
		ids := s.pool[labID]
		for i := 0; i < len(ids)-s.poolWantLocked(labID, now); i++ {
			victims = append(victims, victim{s.live[ids[i]], "no longer reserved"})
		}
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, v := range victims {
		wg.Go(func() { s.end(v.e, v.reason) })
	}
	wg.Wait()
}

// refill starts provisioning pool sessions until every lab's pool is full,
// leaving room under the global limit.
func (s *Service) refill() {
	if s.ctx.Err() != nil {
		return
	}
	now := s.cfg.Now()
	type job struct {
		e   *entry
		def *Definition
	}
	var jobs []job
	s.mu.Lock()
	for _, labID := range s.poolLabsLocked() {
		want := s.poolWantLocked(labID, now)
		def, ok := s.catalog.Lab(labID)
		if !ok || now.Before(s.poolWait[labID]) {
			continue
		}
		for len(s.pool[labID])+s.filling[labID] < want && len(s.live) < s.cfg.MaxSessions {
			e := s.newEntryLocked(def, "", now)
			s.filling[labID]++
			jobs = append(jobs, job{e, def})
		}
	}
	s.mu.Unlock()
	for _, j := range jobs {
		if err := s.store.SaveSession(s.ctx, snapshot(j.e.s)); err != nil {
			s.log.Error("save pool session", "err", err)
		}
		s.startProvision(j.e, j.def)
	}
}

// Reservation grows a lab's warm pool for a while: a class reserves an
// environment per trainee for its time window, so they start instantly.
type Reservation struct {
	Key         string // who reserves, e.g. a class id
	Lab         string
	Size        int // ready environments wanted; 0 cancels
	From, Until time.Time
}

// Reserve records r, replacing the key's earlier reservation of the lab.
// The pool grows now if r's window is open, and shrinks after it closes.
func (s *Service) Reserve(r Reservation) error {
	if _, ok := s.catalog.Lab(r.Lab); !ok {
		return Errorf(ENotFound, "no lab %q", r.Lab)
	}
	if r.Size < 0 || !r.Until.After(r.From) {
		return Errorf(EInvalid, "a reservation needs a size ≥ 0 and a window that ends after it starts")
	}
	s.mu.Lock()
	if r.Size == 0 {
		delete(s.reserved, [2]string{r.Key, r.Lab})
	} else {
		s.reserved[[2]string{r.Key, r.Lab}] = r
	}
	s.mu.Unlock()
	s.refill()
	return nil
}

// poolLabsLocked lists the labs that have or may want a pool, sorted.
func (s *Service) poolLabsLocked() []string {
	set := map[string]bool{}
	for l := range s.cfg.WarmPool {
		set[l] = true
	}
	for k := range s.reserved {
		set[k[1]] = true
	}
	for l, ids := range s.pool {
		if len(ids) > 0 {
			set[l] = true
		}
	}
	out := make([]string, 0, len(set))
	for l := range set {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// poolWantLocked is a lab's pool size at now: configured plus reserved.
func (s *Service) poolWantLocked(labID string, now time.Time) int {
	n := s.cfg.WarmPool[labID]
	for k, r := range s.reserved {
		if k[1] == labID && !now.Before(r.From) && now.Before(r.Until) {
			n += r.Size
		}
	}
	return n
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

// recover adopts the live sessions of a previous labd and removes the rest.
func (s *Service) recover(ctx context.Context) error {
	inRuntime, err := s.rt.Sessions(ctx)
	if err != nil {
		return err
	}
	present := map[string]bool{}
	for _, id := range inRuntime {
		present[id] = true
	}
	stored, err := s.store.Sessions(ctx, Filter{Live: true})
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	adopted := map[string]bool{}
	for _, sess := range stored {
		_, labOK := s.catalog.Lab(sess.Lab)
		switch {
		case sess.State == Ready && present[sess.ID] && labOK:
			sess.Activity = now // the trainee may have worked in a terminal meanwhile
			e := &entry{s: sess, changed: make(chan struct{}), passedOnce: map[string]bool{}}
			// The store has the checked steps; memory holds every step.
			def, _ := s.catalog.Lab(sess.Lab)
			results := map[string]StepResult{}
			for _, r := range sess.Steps {
				results[r.Step] = r
				if r.Passed {
					e.passedOnce[r.Step] = true
				}
			}
			sess.Steps = nil
			for _, st := range def.Steps {
				r, ok := results[st.ID]
				if !ok {
					r = StepResult{Step: st.ID}
				}
				sess.Steps = append(sess.Steps, r)
			}
			s.mu.Lock()
			s.live[sess.ID] = e
			if sess.Owner == "" {
				s.pool[sess.Lab] = append(s.pool[sess.Lab], sess.ID)
			}
			s.mu.Unlock()
			adopted[sess.ID] = true
			s.log.Info("session adopted", "session", sess.ID, "lab", sess.Lab, "owner", sess.Owner)
			continue
		case sess.State == Provisioning:
			sess.State, sess.Reason = Failed, "labd restarted while the session was starting"
		case !labOK:
			sess.State, sess.Reason = Ended, "the lab is no longer offered"
		default:
			sess.State, sess.Reason = Ended, "the environment was lost while labd was down"
		}
		sess.Ended = now
		if err := s.store.SaveSession(ctx, sess); err != nil {
			return err
		}
	}
	var orphans []string
	for _, id := range inRuntime {
		if !adopted[id] {
			orphans = append(orphans, id)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, id := range orphans {
		wg.Go(func() {
			if err := s.rt.Destroy(ctx, id); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(adopted) > 0 || len(orphans) > 0 {
		s.log.Info("recovery", "adopted", len(adopted), "orphans_removed", len(orphans)-len(errs))
	}
	return errors.Join(errs...)
}
