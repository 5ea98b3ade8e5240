package lab

// Capacity and the line: admission, queued sessions and their estimates.

import (
	"context"
	"slices"
	"time"
)

// usedLocked counts the environments that exist or are being made: live
// sessions that are not queued, pools, and ended sessions whose environment
// is still being removed.
func (s *Service) usedLocked() int {
	n := len(s.doomed)
	for _, e := range s.live {
		if e.s.State != Queued {
			n++
		}
	}
	return n
}

func (s *Service) usageLocked() Usage {
	u := Usage{Environments: s.usedLocked(), ByLab: map[string]int{}}
	for _, e := range s.live {
		if e.s.State != Queued {
			u.ByLab[e.s.Lab]++
		}
		if def, ok := s.catalog.Lab(e.s.Lab); ok && e.s.State == Provisioning {
			u.Starting = append(u.Starting, def)
		}
	}
	for _, d := range s.doomed {
		if d.s != nil {
			u.ByLab[d.s.Lab]++
		}
	}
	now := s.cfg.Now()
	for _, labID := range s.poolLabsLocked() {
		u.Reserved += s.reservedGapLocked(labID, now)
	}
	return u
}

// admitLocked asks the admission whether one more environment of def may start.
func (s *Service) admitLocked(def *Definition) bool {
	return s.cfg.Admission.Admit(def, s.usageLocked())
}

// admitQueue starts queued sessions, first in line first, while the
// admission lets them.
func (s *Service) admitQueue() {
	type job struct {
		e   *entry
		def *Definition
	}
	var jobs []job
	now := s.cfg.Now()
	s.mu.Lock()
	if !s.adopted || s.closed {
		s.mu.Unlock()
		return
	}
	start := func(e *entry, def *Definition) {
		e.s.State, e.s.Activity, e.s.Expires = Provisioning, now, now.Add(def.TimeLimit.D())
		jobs = append(jobs, job{e, def})
	}
	// Trainees holding a class's reserved place go first: that capacity is
	// theirs, not the line's.
	var line []string
	for _, id := range s.queue {
		e := s.live[id]
		if e == nil || e.s.State != Queued {
			continue
		}
		if def, ok := s.catalog.Lab(e.s.Lab); ok && e.s.Reservation != "" && s.usedLocked() < s.cfg.MaxSessions {
			start(e, def)
			continue
		}
		line = append(line, id)
	}
	// Then the line, first come first served, while the admission lets it.
	for len(line) > 0 {
		e := s.live[line[0]]
		def, ok := s.catalog.Lab(e.s.Lab)
		if !ok || e.s.Reservation != "" || !s.admitLocked(def) {
			break
		}
		line = line[1:]
		start(e, def)
	}
	s.queue = line
	// Everyone behind moved up a place.
	for _, id := range s.queue {
		if e := s.live[id]; e != nil {
			s.notifyLocked(e)
		}
	}
	snaps := make([]*Session, len(jobs))
	for i, j := range jobs {
		snaps[i] = snapshot(j.e.s)
		s.notifyLocked(j.e)
	}
	s.mu.Unlock()
	for i, j := range jobs {
		s.save(snaps[i])
		s.log.Info("queued session starts", "session", snaps[i].ID, "lab", j.def.ID, "owner", snaps[i].Owner,
			"waited", now.Sub(snaps[i].Created).Round(time.Second))
		s.startProvision(j.e, j.def, false)
	}
}

// reservationFor returns the key of an open reservation of labID that holds
// owner (a trainee of the class), or "".
func (s *Service) reservationFor(ctx context.Context, owner, labID string, now time.Time) string {
	var open []Reservation
	s.mu.Lock()
	for k, r := range s.reserved {
		if k[1] == labID && r.Holds != nil && r.open(now) {
			open = append(open, r)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(open, func(a, b Reservation) int { return a.From.Compare(b.From) })
	for _, r := range open {
		if r.Holds(ctx, owner) {
			return r.Key
		}
	}
	return ""
}

// claimLocked hands owner a ready pool environment of labID, if one is free
// for them: a trainee of an open reservation (key) may take any; others only
// those beyond what reservations hold back.
func (s *Service) claimLocked(labID, owner, key string, now time.Time) *entry {
	ids := s.pool[labID]
	if len(ids) == 0 {
		return nil
	}
	member := key != "" && s.unclaimedLocked(key, labID) > 0
	if !member && len(ids) <= s.reservedUnclaimedLocked(labID, now) {
		return nil
	}
	def, _ := s.catalog.Lab(labID)
	id := ids[0]
	s.pool[labID] = ids[1:]
	e := s.live[id]
	e.s.Owner = owner
	e.s.Created, e.s.Ready, e.s.Activity = now, now, now
	e.s.Expires = now.Add(def.TimeLimit.D())
	if member {
		e.s.Reservation = key
	}
	return e
}

// unclaimedLocked is how many environments the reservation key of labID
// still holds for trainees who have not started one.
func (s *Service) unclaimedLocked(key, labID string) int {
	r, ok := s.reserved[[2]string{key, labID}]
	if !ok {
		return 0
	}
	n := r.Size
	for _, e := range s.live {
		if e.s.Reservation == key && e.s.Lab == labID && e.s.Owner != "" {
			n--
		}
	}
	return max(n, 0)
}

// reservedUnclaimedLocked sums unclaimedLocked over labID's open reservations.
func (s *Service) reservedUnclaimedLocked(labID string, now time.Time) int {
	n := 0
	for k, r := range s.reserved {
		if k[1] == labID && r.open(now) {
			n += s.unclaimedLocked(k[0], labID)
		}
	}
	return n
}

// reservedGapLocked is how many reserved environments of labID are not made
// yet: capacity held back from the line.
func (s *Service) reservedGapLocked(labID string, now time.Time) int {
	have := len(s.pool[labID]) + s.filling[labID]
	want := s.poolWantLocked(labID, now)
	return max(0, min(s.reservedUnclaimedLocked(labID, now), want-have))
}

// provEstimateLocked is how long labID takes to provision: the last
// measured time, 30s before any.
func (s *Service) provEstimateLocked(labID string) time.Duration {
	if d, ok := s.provTime[labID]; ok {
		return d
	}
	return 30 * time.Second
}

// endEstimateLocked is when e is expected to end by itself: at its time
// limit, or earlier at its idle timeout if nobody works in it from now on.
func (s *Service) endEstimateLocked(e *entry, now time.Time) time.Time {
	def, ok := s.catalog.Lab(e.s.Lab)
	if !ok {
		return now
	}
	idleFrom := e.s.Activity
	if e.s.State == Provisioning {
		idleFrom = now.Add(s.provEstimateLocked(e.s.Lab))
	}
	t := idleFrom.Add(def.IdleTimeout.D())
	if !e.s.Expires.IsZero() && e.s.Expires.Before(t) {
		t = e.s.Expires
	}
	if t.Before(now) {
		return now
	}
	return t
}

// placeLocked is e's place in line and an estimate of when it will be ready:
// the environments in use are expected to free up at their time limits or
// idle timeouts (ended ones still being removed at their next retry); the
// first ones freed go to class reservations not yet made, then to those
// ahead in line; then e provisions.
func (s *Service) placeLocked(e *entry, now time.Time) *Place {
	pos := slices.Index(s.queue, e.s.ID) + 1
	if pos == 0 {
		pos = 1
	}
	p := &Place{Position: pos}
	if !s.adopted {
		return p // what holds capacity is not known yet
	}
	var frees []time.Time
	for _, x := range s.live {
		if x.s.Owner != "" && x.s.State != Queued {
			frees = append(frees, s.endEstimateLocked(x, now))
		}
	}
	for _, d := range s.doomed {
		frees = append(frees, d.next)
	}
	if len(frees) == 0 {
		return p
	}
	slices.SortFunc(frees, func(a, b time.Time) int { return a.Compare(b) })
	u := s.usageLocked()
	idle := max(0, s.cfg.MaxSessions-u.Environments-u.Reserved) // free now
	k := u.Reserved + pos - 1 - idle
	def, _ := s.catalog.Lab(e.s.Lab)
	var at time.Time
	switch {
	case k < 0:
		at = now
	case k < len(frees):
		at = frees[k]
	default:
		// Further back than the sessions in use: each round of them lasts
		// about a lab's time limit.
		at = frees[k%len(frees)].Add(time.Duration(k/len(frees)) * def.TimeLimit.D())
	}
	p.Estimate = max(at.Sub(now), 0) + s.provEstimateLocked(e.s.Lab)
	return p
}
