package lab

// Adoption of a previous labd's sessions after a restart.

import (
	"context"
	"errors"
	"sync"
)

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
