package lab

// Adoption of a previous labd's sessions after a restart, in the background.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// recoverLoop adopts what the previous labd left, retrying (a daemon that
// does not answer yet) until it succeeds or the service closes; then it
// provisions again the sessions caught provisioning and makes one attempt
// at each orphan, leaving failures to the reaper.
func (s *Service) recoverLoop() {
	defer close(s.recovered)
	backoff := time.Second
	var orphans []string
	var rebuild []*entry
	for {
		var err error
		orphans, rebuild, err = s.adopt()
		if err == nil {
			break
		}
		s.log.Error("recover sessions; retrying", "err", err, "in", backoff)
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
	for _, e := range rebuild {
		def, _ := s.catalog.Lab(e.s.Lab)
		s.log.Info("session provisioned again after a restart", "session", e.s.ID, "lab", e.s.Lab, "owner", e.s.Owner)
		s.startProvision(e, def, true)
	}
	s.admitQueue()
	// A few at a time: a wedged daemon should not get hundreds of removals at once.
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, id := range orphans {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s.destroyDoomed(id)
		})
	}
	wg.Wait()
	s.mu.Lock()
	left := len(s.doomed)
	s.mu.Unlock()
	if len(orphans) > 0 || len(rebuild) > 0 {
		s.log.Info("recovery", "orphans", len(orphans), "still_removing", left, "provisioned_again", len(rebuild))
	}
}

// adopt reads what the runtime has and the store's live sessions, and takes
// them over: ready sessions whose environment is there, the queue, and
// sessions caught provisioning (returned, to provision again). Everything
// else in the runtime is an orphan, doomed (returned). It changes memory
// only when it succeeds.
func (s *Service) adopt() (orphans []string, rebuild []*entry, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	inRuntime, err := s.rt.Sessions(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list the runtime's sessions: %w", err)
	}
	present := map[string]bool{}
	for _, id := range inRuntime {
		present[id] = true
	}
	stored, err := s.store.Sessions(ctx, Filter{Live: true})
	if err != nil {
		return nil, nil, err
	}
	now := s.cfg.Now()
	adopted := map[string]*entry{}
	var queued []*entry
	for _, sess := range stored {
		def, labOK := s.catalog.Lab(sess.Lab)
		switch {
		case sess.State == Ready && present[sess.ID] && labOK:
			sess.Activity = now // the trainee may have worked in a terminal meanwhile
			adopted[sess.ID] = newAdopted(sess, def)
			s.log.Info("session adopted", "session", sess.ID, "lab", sess.Lab, "owner", sess.Owner)
			continue
		case sess.State == Queued && labOK:
			e := newAdopted(sess, def)
			adopted[sess.ID] = e
			queued = append(queued, e)
			continue
		case sess.State == Provisioning && labOK:
			e := newAdopted(sess, def)
			adopted[sess.ID] = e
			rebuild = append(rebuild, e)
			continue
		case !labOK:
			sess.State, sess.Reason = Ended, "the lab is no longer offered"
		default:
			sess.State, sess.Reason = Ended, "the environment was lost while labd was down"
		}
		sess.Ended = now
		if err := s.store.SaveSession(ctx, sess); err != nil {
			return nil, nil, err
		}
	}
	// Orphans: the store may know them (ended, their removal unfinished).
	known := map[string]*Session{}
	for _, id := range inRuntime {
		if adopted[id] != nil {
			continue
		}
		orphans = append(orphans, id)
		sess, err := s.store.Session(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		if sess != nil {
			sess.EnvLeft = true
			known[id] = sess
		}
	}
	// The line keeps its order: first created, first served.
	// The store lists newest first, ties the later saved first.
	slices.Reverse(queued)
	slices.SortStableFunc(queued, func(a, b *entry) int { return a.s.Created.Compare(b.s.Created) })

	s.mu.Lock()
	defer s.mu.Unlock()
	for id, e := range adopted {
		if s.live[id] != nil {
			continue // created while recovery ran: already queued
		}
		s.live[id] = e
		if e.s.Owner == "" {
			switch e.s.State {
			case Ready:
				s.pool[e.s.Lab] = append(s.pool[e.s.Lab], id)
			case Provisioning:
				s.filling[e.s.Lab]++
			}
		}
	}
	// Ahead of any queued while recovery ran.
	var line []string
	for _, e := range queued {
		if s.live[e.s.ID] == e {
			line = append(line, e.s.ID)
		}
	}
	s.queue = append(line, s.queue...)
	for _, id := range orphans {
		s.doomIDLocked(id, known[id], now)
	}
	s.adopted = true
	return orphans, rebuild, nil
}

// newAdopted makes the entry of a stored session: the store has the checked
// steps; memory holds every step of the lab.
func newAdopted(sess *Session, def *Definition) *entry {
	e := &entry{s: sess, changed: make(chan struct{}), passedOnce: map[string]bool{}}
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
	return e
}
