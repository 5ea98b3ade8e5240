package lab

// Entering steps: a step's on_enter actions run once per session, and its
// foreground commands are handed to the lab page once, to type.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// EnteredStore keeps which steps of a session have been entered, so that a
// restarted labd neither runs their on_enter again nor retypes their
// foreground. A Store may implement it; without it, memory alone keeps them.
type EnteredStore interface {
	// SaveEntered records that step ran its on_enter; opened, that the
	// page has also had its foreground.
	SaveEntered(ctx context.Context, session, step string, opened bool) error
	// Entered returns the session's entered steps: step -> opened.
	Entered(ctx context.Context, session string) (map[string]bool, error)
	// ClearEntered forgets them (a new environment).
	ClearEntered(ctx context.Context, session string) error
}

// labOpened is the key of the lab-level foreground in an entry's entered map.
const labOpened = ""

// Entered is what entering a step gives the page to type: the lab's and
// the step's foreground, each only the first time (else nil).
type Entered struct {
	Lab, Step *Foreground
}

// enterFirst runs the first step's on_enter while the session is being
// provisioned, and starts the environment's record of entered steps.
func (s *Service) enterFirst(ctx context.Context, e *entry, def *Definition) error {
	s.mu.Lock()
	id := e.s.ID
	e.entered = map[string]bool{}
	s.mu.Unlock()
	es, _ := s.store.(EnteredStore)
	if es != nil {
		if err := es.ClearEntered(ctx, id); err != nil {
			return fmt.Errorf("clear entered steps: %w", err)
		}
	}
	if len(def.Steps) == 0 {
		return nil
	}
	first := def.Steps[0]
	if err := s.runActions(ctx, id, "on_enter of "+first.ID, first.OnEnter); err != nil {
		return err
	}
	s.mu.Lock()
	e.entered[first.ID] = false
	s.mu.Unlock()
	if es != nil {
		if err := es.SaveEntered(ctx, id, first.ID, false); err != nil {
			return fmt.Errorf("save entered step: %w", err)
		}
	}
	return nil
}

// Enter is the trainee opening a step on the lab page: its on_enter runs,
// once per session (the first step's already ran when the session became
// ready), and the foregrounds not yet typed are returned.
func (s *Service) Enter(ctx context.Context, a Actor, id, stepID string) (Entered, error) {
	e, sess, err := s.visible(ctx, a, id)
	if err != nil {
		return Entered{}, err
	}
	// The trainee's own, or an admin's: a lecturer watching does not move
	// a trainee on.
	if !a.SeeAll && sess.Owner != a.User {
		return Entered{}, Errorf(ENotFound, "no lab session %q", id)
	}
	def, ok := s.catalog.Lab(sess.Lab)
	if !ok {
		return Entered{}, Errorf(EConflict, "the lab %q of this session is no longer offered", sess.Lab)
	}
	step, ok := def.Step(stepID)
	if !ok {
		return Entered{}, Errorf(ENotFound, "lab %q has no step %q", def.ID, stepID)
	}
	if e == nil || sess.State != Ready {
		return Entered{}, stateError(sess, "enter a step")
	}
	s.Touch(id)
	if err := s.loadEntered(ctx, e); err != nil {
		return Entered{}, err
	}

	// Marked before running, so that a second request does not run it again.
	s.mu.Lock()
	if e.s.State != Ready || e.entered == nil {
		s.mu.Unlock()
		return Entered{}, stateError(e.s, "enter a step")
	}
	opened, ran := e.entered[stepID]
	labNew := false
	if _, done := e.entered[labOpened]; !done {
		labNew = true
		e.entered[labOpened] = true
	}
	e.entered[stepID] = true
	s.mu.Unlock()

	var out Entered
	if !ran {
		if err := s.runActions(ctx, id, "on_enter of "+stepID, step.OnEnter); err != nil {
			// Not entered after all: the next request tries again.
			s.mu.Lock()
			delete(e.entered, stepID)
			if labNew {
				delete(e.entered, labOpened)
			}
			s.mu.Unlock()
			return Entered{}, err
		}
		s.log.Info("step entered", "session", id, "step", stepID, "on_enter", len(step.OnEnter))
	}
	if es, ok := s.store.(EnteredStore); ok {
		if !opened || !ran {
			if err := es.SaveEntered(ctx, id, stepID, true); err != nil {
				return Entered{}, fmt.Errorf("save entered step: %w", err)
			}
		}
		if labNew {
			if err := es.SaveEntered(ctx, id, labOpened, true); err != nil {
				return Entered{}, fmt.Errorf("save entered step: %w", err)
			}
		}
	}
	if !opened && step.Foreground.Body != "" {
		f := step.Foreground
		out.Step = &f
	}
	if labNew && def.Foreground.Body != "" {
		f := def.Foreground
		out.Lab = &f
	}
	return out, nil
}

// loadEntered reads an adopted session's entered steps from the store.
func (s *Service) loadEntered(ctx context.Context, e *entry) error {
	s.mu.Lock()
	loaded, id := e.entered != nil, e.s.ID
	s.mu.Unlock()
	if loaded {
		return nil
	}
	m := map[string]bool{}
	if es, ok := s.store.(EnteredStore); ok {
		var err error
		if m, err = es.Entered(ctx, id); err != nil {
			return fmt.Errorf("read entered steps: %w", err)
		}
	}
	s.mu.Lock()
	if e.entered == nil {
		e.entered = m
	}
	s.mu.Unlock()
	return nil
}

// runActions runs on_enter actions in order; one on several nodes runs on
// them at once.
func (s *Service) runActions(ctx context.Context, id, what string, actions []Script) error {
	for _, act := range actions {
		targets := act.Targets()
		errs := make([]error, len(targets))
		var wg sync.WaitGroup
		for i, node := range targets {
			wg.Go(func() {
				cctx, cancel := context.WithTimeout(ctx, act.Timeout.D()+10*time.Second)
				defer cancel()
				res, err := s.rt.Exec(cctx, id, node, Command{Script: act.Body, Timeout: act.Timeout.D(), MaxOutput: 64 << 10})
				switch {
				case err != nil:
					errs[i] = fmt.Errorf("%s on %s: %w", what, node, err)
				case res.TimedOut:
					errs[i] = fmt.Errorf("%s on %s did not finish within %s", what, node, act.Timeout)
				case res.ExitCode != 0:
					errs[i] = fmt.Errorf("%s on %s failed with exit code %d: %s",
						what, node, res.ExitCode, lastLines(string(res.Output), 5))
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
