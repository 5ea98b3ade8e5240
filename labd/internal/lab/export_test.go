package lab

// RetryDoomed runs the reaper's retry of environments left behind, for tests
// that drive time by hand.
func RetryDoomed(s *Service) { s.retryDoomed(true) }

// Waiters reports whether someone waits on the session's next change.
func Waiters(s *Service, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.live[id]
	return e != nil && e.waiters > 0
}
