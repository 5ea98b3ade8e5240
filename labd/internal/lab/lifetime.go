package lab

// Lifetimes: activity, extend, reset, destroy and the reaper.

import (
	"context"
	"errors"
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
	if err := s.destroyEnv(id); err != nil {
		// Known to be there still: straight to the reaper, no second wait.
		s.finish(e, Failed, "the old environment could not be removed for the reset", false)
		return nil, Errorf(EConflict, "cannot reset: the old environment could not be removed; labd keeps trying, start the lab again later")
	}
	s.startProvision(e, def, false)
	return snap, nil
}

// Destroy ends a session and removes its environment; a queued one leaves
// the line. An admin may end anyone's, warm-pool sessions included.
func (s *Service) Destroy(ctx context.Context, a Actor, id string) error {
	e, sess, err := s.visible(ctx, a, id)
	if err != nil {
		return err
	}
	if e == nil {
		return stateError(sess, "end")
	}
	reason := "ended by the user"
	switch {
	case sess.Owner == "":
		reason = "removed from the warm pool by an admin"
	case sess.Owner != a.User && a.SeeAll:
		reason = "ended by an admin"
	case sess.Owner != a.User:
		reason = "ended by the lecturer"
	}
	s.end(e, reason)
	return nil
}

// end stops provisioning if it runs, removes the environment and records
// the end. An environment that cannot be removed is left to the reaper,
// which retries; until it is gone it counts against MaxSessions.
func (s *Service) end(e *entry, reason string) {
	s.finish(e, Ended, reason, true)
}

// finish records e's end in state; with destroy it first tries to remove the
// environment, without it the environment is known to be there still.
func (s *Service) finish(e *entry, state State, reason string, destroy bool) {
	s.mu.Lock()
	id := e.s.ID
	if s.live[id] != e {
		s.mu.Unlock()
		return
	}
	delete(s.live, id)
	wasQueued := e.s.State == Queued
	s.queue = slices.DeleteFunc(s.queue, func(x string) bool { return x == id })
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
	var err error
	switch {
	case wasQueued: // nothing was made
	case destroy:
		err = s.destroyEnv(id)
	default:
		err = errors.New("environment left")
	}
	now := s.cfg.Now()
	s.mu.Lock()
	e.s.State, e.s.Reason, e.s.Ended = state, reason, now
	if err != nil {
		e.s.EnvLeft = true
		s.doomLocked(e.s, now)
	}
	snap := snapshot(e.s)
	s.notifyLocked(e)
	s.mu.Unlock()
	s.save(snap)
	s.log.Info("session ended", "session", id, "lab", snap.Lab, "state", state, "reason", reason, "environment_left", snap.EnvLeft)
	s.admitQueue()
	s.refill()
}

// doom is an ended session whose environment still exists.
type doom struct {
	s        *Session // nil for an orphan the store does not know
	attempts int
	next     time.Time // next attempt
	busy     bool
}

// doomLocked hands a session's environment to the reaper to remove; sess
// may be nil (an orphan).
func (s *Service) doomLocked(sess *Session, now time.Time) {
	id := ""
	if sess != nil {
		id = sess.ID
	}
	s.doomIDLocked(id, sess, now.Add(doomBackoff(1)))
}

func (s *Service) doomIDLocked(id string, sess *Session, next time.Time) {
	if d, ok := s.doomed[id]; ok {
		d.s = sess
		return
	}
	s.doomed[id] = &doom{s: sess, attempts: 1, next: next}
}

// doomBackoff is the wait before attempt n+1: 5s doubling up to 5 minutes.
func doomBackoff(attempts int) time.Duration {
	d := 5 * time.Second << min(attempts-1, 6)
	return min(d, 5*time.Minute)
}

// retryDoomed tries again to remove the environments that are due, in the
// background unless wait: a wedged daemon must not hold up the reaper.
func (s *Service) retryDoomed(wait bool) {
	now := s.cfg.Now()
	var due []string
	s.mu.Lock()
	for id, d := range s.doomed {
		if !d.busy && !now.Before(d.next) {
			d.busy = true
			due = append(due, id)
		}
	}
	s.mu.Unlock()
	if !wait {
		for _, id := range due {
			s.background(func() { s.destroyDoomed(id) })
		}
		return
	}
	var wg sync.WaitGroup
	for _, id := range due {
		wg.Go(func() { s.destroyDoomed(id) })
	}
	wg.Wait()
}

// destroyDoomed makes one attempt to remove a doomed environment.
func (s *Service) destroyDoomed(id string) {
	err := s.destroyEnv(id)
	now := s.cfg.Now()
	s.mu.Lock()
	d := s.doomed[id]
	if d == nil {
		s.mu.Unlock()
		return
	}
	if err != nil {
		d.busy = false
		d.attempts++
		d.next = now.Add(doomBackoff(d.attempts))
		s.mu.Unlock()
		s.log.Warn("environment still not removed; retrying", "session", id, "attempts", d.attempts, "next", d.next)
		return
	}
	delete(s.doomed, id)
	var snap *Session
	if d.s != nil {
		d.s.EnvLeft = false
		snap = snapshot(d.s)
	}
	s.mu.Unlock()
	if snap != nil {
		s.save(snap)
	}
	s.log.Info("environment removed", "session", id, "attempts", d.attempts)
	s.admitQueue()
	s.refill()
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
			s.retryDoomed(false)
			s.admitQueue()
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
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, v := range victims {
		wg.Go(func() { s.end(v.e, v.reason) })
	}
	wg.Wait()
	s.shrinkPools()
}

// shrinkPools ends the oldest ready environments of pools larger than
// wanted (a class's window has closed, or it ended early).
func (s *Service) shrinkPools() {
	now := s.cfg.Now()
	var victims []*entry
	s.mu.Lock()
	for _, labID := range s.poolLabsLocked() {
		ids := s.pool[labID]
		for i := 0; i < len(ids)-s.poolWantLocked(labID, now); i++ {
			victims = append(victims, s.live[ids[i]])
		}
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, e := range victims {
		wg.Go(func() { s.end(e, "no longer reserved") })
	}
	wg.Wait()
}
