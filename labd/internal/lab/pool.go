package lab

// Warm pools and class reservations.

import (
	"context"
	"slices"
	"time"
)

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
	if !s.adopted {
		// Recovery fills the pools once it knows what the last labd left.
		s.mu.Unlock()
		return
	}
	for _, labID := range s.poolLabsLocked() {
		want := s.poolWantLocked(labID, now)
		def, ok := s.catalog.Lab(labID)
		if !ok || now.Before(s.poolWait[labID]) {
			continue
		}
		// While people wait in line, only reserved environments are made:
		// a spare one would take capacity from the line.
		if len(s.queue) > 0 {
			want = min(want, s.reservedUnclaimedLocked(labID, now))
		}
		for len(s.pool[labID])+s.filling[labID] < want && s.usedLocked() < s.cfg.MaxSessions && s.hostAdmitsLocked(def) {
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
		s.startProvision(j.e, j.def, false)
	}
}

// Reservation grows a lab's warm pool for a while: a class reserves an
// environment per trainee for its time window, so they start instantly.
type Reservation struct {
	Key         string // who reserves, e.g. a class id
	Lab         string
	Size        int // environments held, one per trainee; 0 cancels
	From, Until time.Time
	// Holds says whether a user is one of the reservation's trainees: they
	// take its environments ahead of the line. Nil: everyone is.
	Holds func(ctx context.Context, user string) bool
}

func (r Reservation) open(now time.Time) bool { return !now.Before(r.From) && now.Before(r.Until) }

// Reserve records r, replacing the key's earlier reservation of the lab.
// The pool grows now if r's window is open, and shrinks after it closes.
func (s *Service) Reserve(r Reservation) error {
	if _, ok := s.catalog.Lab(r.Lab); !ok {
		return Errorf(ENotFound, "no lab %q", r.Lab)
	}
	if r.Size < 0 || !r.Until.After(r.From) {
		return Errorf(EInvalid, "a reservation needs a size ≥ 0 and a window that ends after it starts")
	}
	if r.Holds == nil {
		r.Holds = func(context.Context, string) bool { return true }
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

// Release drops every reservation of key (a class ended early): its pools
// shrink now, their unclaimed environments are removed, and sessions its
// trainees claimed keep running.
func (s *Service) Release(key string) {
	s.mu.Lock()
	for k := range s.reserved {
		if k[0] == key {
			delete(s.reserved, k)
		}
	}
	s.mu.Unlock()
	s.shrinkPools()
	s.admitQueue()
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

// poolWantLocked is a lab's pool size at now: configured plus what open
// reservations hold for trainees who have not started yet.
func (s *Service) poolWantLocked(labID string, now time.Time) int {
	return s.cfg.WarmPool[labID] + s.reservedUnclaimedLocked(labID, now)
}
