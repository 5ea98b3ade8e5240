package lab

// Starting sessions: admission, provisioning and setup.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Create starts a lab session of labID for owner. A user who already has a
// live session of that lab gets it back (created is false). A ready
// environment from the warm pool is handed out at once; otherwise the session
// is provisioning when Create returns, or queued when every environment is
// in use: it starts by itself when its turn comes.
func (s *Service) Create(ctx context.Context, owner, labID string) (sess *Session, created bool, err error) {
	def, ok := s.catalog.Lab(labID)
	if !ok {
		return nil, false, Errorf(ENotFound, "no lab %q", labID)
	}
	if owner == "" {
		return nil, false, Errorf(EInvalid, "a lab session needs an owner")
	}
	now := s.cfg.Now()
	key := s.reservationFor(ctx, owner, labID, now)

	s.mu.Lock()
	mine := 0
	var firstEnd time.Time
	for _, e := range s.live {
		if e.s.Owner != owner {
			continue
		}
		if e.s.Lab == labID {
			snap := s.viewLocked(e)
			s.mu.Unlock()
			return snap, false, nil
		}
		mine++
		if t := s.endEstimateLocked(e, now); e.s.State != Queued && (firstEnd.IsZero() || t.Before(firstEnd)) {
			firstEnd = t
		}
	}
	if mine >= s.cfg.MaxPerUser {
		s.mu.Unlock()
		msg := fmt.Sprintf("you already have %d lab sessions, the most one user may have; end one to start another", mine)
		var retry time.Duration
		if !firstEnd.IsZero() {
			retry = max(firstEnd.Sub(now), time.Second)
			msg += fmt.Sprintf(" (your first one ends by itself within %s if left idle)", roundUp(retry))
		}
		return nil, false, &Error{Code: ELimit, Message: msg, RetryAfter: retry}
	}
	if e := s.claimLocked(labID, owner, key, now); e != nil {
		snap := snapshot(e.s)
		s.mu.Unlock()
		if err := s.store.SaveSession(ctx, snap); err != nil {
			s.log.Error("save claimed session", "session", snap.ID, "err", err)
		}
		s.log.Info("session claimed from warm pool", "session", snap.ID, "lab", labID, "owner", owner, "reservation", key)
		s.background(s.refill)
		return snap, true, nil
	}
	// A trainee whose class reserved this lab uses the reserved capacity,
	// ahead of the line; anyone else starts only when nobody is waiting.
	member := key != "" && s.unclaimedLocked(key, labID) > 0
	reserved := member && s.adopted && s.usedLocked() < s.cfg.MaxSessions
	admitted := reserved || s.adopted && len(s.queue) == 0 && s.admitLocked(def)
	e := s.newEntryLocked(def, owner, now)
	if member {
		// Queued or not, the trainee holds one of the reservation's places.
		e.s.Reservation = key
	}
	if !admitted {
		e.s.State = Queued
	}
	snap := snapshot(e.s)
	s.mu.Unlock()

	// Stored before it joins the line: once in line it may start, and a
	// save of this older state after its start would overwrite a newer one.
	if err := s.store.SaveSession(ctx, snap); err != nil {
		s.mu.Lock()
		delete(s.live, snap.ID)
		s.mu.Unlock()
		return nil, false, fmt.Errorf("save session: %w", err)
	}
	if snap.State == Queued {
		s.mu.Lock()
		s.queue = append(s.queue, e.s.ID)
		view := s.viewLocked(e)
		s.mu.Unlock()
		s.log.Info("session queued", "session", snap.ID, "lab", labID, "owner", owner)
		// Recovery, or a session that ended, may have let the line move
		// while this one was being stored.
		s.admitQueue()
		return view, true, nil
	}
	s.log.Info("session created", "session", snap.ID, "lab", labID, "owner", owner)
	s.startProvision(e, def, false)
	return snap, true, nil
}

// roundUp rounds a wait up to the minute (seconds under a minute), so an
// estimate is never shorter than the truth by rounding.
func roundUp(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(time.Second) + time.Second
	}
	return (d + time.Minute - 1).Truncate(time.Minute)
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

// background runs f tracked by Close, unless the service is closing.
func (s *Service) background(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.wg.Go(f)
}

// startProvision builds e's environment in the background; with clean it
// first removes what a previous attempt left (a labd stopped meanwhile).
func (s *Service) startProvision(e *entry, def *Definition, clean bool) {
	ctx, stop := context.WithCancel(s.provCtx)
	s.mu.Lock()
	defer s.mu.Unlock()
	e.stop = stop
	e.done = make(chan struct{})
	done := e.done
	if s.closed {
		// Left provisioning in the store: the next labd provisions it.
		stop()
		close(done)
		return
	}
	s.provWG.Go(func() {
		defer close(done)
		defer stop()
		s.provision(ctx, e, def, clean)
	})
}

func (s *Service) provision(ctx context.Context, e *entry, def *Definition, clean bool) {
	start := s.cfg.Now()
	s.mu.Lock()
	id, owner := e.s.ID, e.s.Owner
	s.mu.Unlock()

	budget := 2 * time.Minute
	for _, st := range def.Setup {
		budget += st.Timeout.D()
	}
	if len(def.Steps) > 0 { // the first step's on_enter runs before ready too
		for _, st := range def.Steps[0].OnEnter {
			budget += st.Timeout.D()
		}
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()

	var env Env
	var err error
	if clean {
		if derr := s.destroyEnv(id); derr != nil {
			err = fmt.Errorf("could not remove what the last attempt left: %w", derr)
		}
	}
	envLeft := err != nil
	if err == nil {
		env, err = s.rt.Create(ctx, EnvSpec{Session: id, Lab: def.ID, Owner: owner, Nodes: def.Nodes})
		if err == nil {
			err = s.setup(ctx, id, def)
			if err == nil && len(def.Steps) > 0 {
				err = s.applyFaults(ctx, id, def.Steps[0])
			}
			if err == nil {
				err = s.enterFirst(ctx, e, def)
			}
			if err != nil && s.provCtx.Err() == nil {
				envLeft = s.destroyEnv(id) != nil
			}
		} else {
			err = fmt.Errorf("could not start the lab's nodes: %w", err)
		}
	}
	if err != nil && s.provCtx.Err() != nil {
		// labd is stopping: the session stays provisioning in the store and
		// the next labd provisions it again from scratch.
		s.log.Info("provisioning left to the next labd", "session", id, "lab", def.ID)
		return
	}
	took := s.cfg.Now().Sub(start)
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Provisioned(def.ID, took, err)
	}

	now := s.cfg.Now()
	s.mu.Lock()
	if err == nil {
		s.provTime[def.ID] = took
	}
	if s.live[id] != e {
		// Ended meanwhile: end records it, but may have removed the
		// environment before this provisioning made it.
		s.mu.Unlock()
		if err == nil {
			if derr := s.destroyEnv(id); derr != nil {
				s.mu.Lock()
				e.s.EnvLeft = true
				s.doomLocked(e.s, now)
				snap := snapshot(e.s)
				s.mu.Unlock()
				s.save(snap)
			}
		}
		return
	}
	if err != nil {
		raw := err
		var retry bool
		if retry, err = s.retryLocked(e, err, envLeft); retry {
			snap := snapshot(e.s)
			s.notifyLocked(e)
			s.mu.Unlock()
			s.save(snap)
			s.log.Warn("setup failed for the host's sake; queued to retry", "session", id, "lab", def.ID, "cause", e.s.Notice.Cause, "err", raw)
			s.admitQueue()
			return
		}
		e.s.State, e.s.Reason, e.s.Ended = Failed, err.Error(), now
		s.log.Error("session failed", "session", id, "lab", def.ID, "err", raw)
		if envLeft {
			e.s.EnvLeft = true
			s.doomLocked(e.s, now)
		}
	} else {
		// The time limit runs from the first ready; a reset does not renew it.
		if e.s.Owner != "" && e.s.Ready.IsZero() {
			e.s.Expires = now.Add(def.TimeLimit.D())
		}
		e.s.State, e.s.Nodes, e.s.Ready, e.s.Notice = Ready, env.Nodes, now, nil
		e.s.Activity = now
		s.log.Info("session ready", "session", id, "lab", def.ID, "took", took.Round(time.Millisecond))
	}
	snap := snapshot(e.s)
	s.mu.Unlock()
	// Stored before anyone is told, so a reader never sees an older state.
	s.save(snap)
	s.mu.Lock()
	if s.live[id] == e {
		if e.s.Owner == "" {
			s.filling[def.ID]--
			if err != nil {
				s.poolWait[def.ID] = now.Add(30 * time.Second)
			} else {
				s.pool[def.ID] = append(s.pool[def.ID], id)
				if len(s.pool[def.ID]) > s.poolWantLocked(def.ID, now) {
					// Its reservation went while it was being made.
					defer s.background(s.shrinkPools)
				}
			}
		}
		if err != nil {
			delete(s.live, id)
		}
	}
	s.notifyLocked(e)
	s.mu.Unlock()
	// Failed, its capacity is free; ready, it no longer starts: a resource
	// admission staggering setups lets the next one in.
	s.admitQueue()
	s.refill()
}

// save stores a session, not bound to any caller's context.
func (s *Service) save(snap *Session) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.store.SaveSession(ctx, snap); err != nil {
		s.log.Error("save session", "session", snap.ID, "err", err)
	}
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
					errs[i] = fmt.Errorf("setup %s on %s failed with exit code %d: %s%s",
						st.Script, node, res.ExitCode, lastLines(string(res.Output), 5), hostHint(res.Output))
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

// destroyEnv removes a session's environment, not bound to any caller's
// context but within DestroyTimeout. A caller that gets an error hands the
// session to the reaper (doomLocked), which retries.
func (s *Service) destroyEnv(id string) error {
	if s.cfg.OnDestroy != nil {
		s.cfg.OnDestroy(id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DestroyTimeout)
	defer cancel()
	err := s.rt.Destroy(ctx, id)
	if err != nil {
		s.log.Error("destroy environment", "session", id, "err", err)
	}
	return err
}
