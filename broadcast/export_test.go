package broadcast

// SimulateCrashOnStop makes s leave its claimed deliveries behind on
// shutdown, as a killed process would (no release).
func SimulateCrashOnStop(s *Service) { s.crashOnStop = true }
