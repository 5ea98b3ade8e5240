package lab

// Lifetimes: activity, extend, reset, destroy and the reaper.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

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
