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
	if len(def.Steps) > 0 { // the first step's on_enter runs before ready too
		for _, st := range def.Steps[0].OnEnter {
			budget += st.Timeout.D()
		}
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()

	env, err := s.rt.Create(ctx, EnvSpec{Session: id, Lab: def.ID, Owner: owner, Nodes: def.Nodes})
	if err == nil {
		err = s.setup(ctx, id, def)
		if err == nil && len(def.Steps) > 0 {
			err = s.applyFaults(ctx, id, def.Steps[0])
		}
		if err == nil {
			err = s.enterFirst(ctx, e, def)
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
