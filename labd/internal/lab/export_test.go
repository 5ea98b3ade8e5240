package lab

// RetryDoomed runs the reaper's retry of environments left behind, for tests
// that drive time by hand.
func RetryDoomed(s *Service) { s.retryDoomed() }
