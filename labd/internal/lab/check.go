package lab

// Step checks and fault injection.

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"
)

// Check runs a step's check and records the result; its messages are in
// Chinese.
func (s *Service) Check(ctx context.Context, a Actor, id, stepID string) (StepResult, error) {
	return s.CheckIn(ctx, a, id, stepID, LangZh)
}

// CheckIn runs a step's check with its messages in lang (LangZh or LangEn):
// the check reads LAB_LANG, and so are labd's own messages about a check
// that could not run.
func (s *Service) CheckIn(ctx context.Context, a Actor, id, stepID, lang string) (StepResult, error) {
	if lang != LangEn {
		lang = LangZh
	}
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
		Env: []string{"LAB_LANG=" + lang},
	})
	r := StepResult{Step: stepID, Checked: s.cfg.Now(), Duration: res.Duration}
	node, limit := step.Check.Node, step.Check.Timeout.String()
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return StepResult{}, ctx.Err()
		}
		r.Output = checkMessage(lang, causeOf(err), node, limit, err)
		r.Detail = err.Error()
	case res.TimedOut:
		// Out of processes, a check may hang instead of failing.
		r.Output = checkMessage(lang, cmp.Or(res.Cause, causeTimeout), node, limit, nil)
		r.Detail = string(res.Output)
	default:
		r.Passed = res.ExitCode == 0
		r.Detail = string(res.Output)
		r.Output = failLines(r.Detail)
		// A check that failed for a reason in the node (out of processes or
		// memory) may have printed nothing, or not what it meant to.
		if !r.Passed && res.Cause != "" {
			r.Output = strings.TrimLeft(r.Output+"\n"+checkMessage(lang, res.Cause, node, limit, nil), "\n")
		}
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
