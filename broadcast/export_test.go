package broadcast

import "context"

// SimulateCrashOnStop makes s leave its claimed deliveries behind on
// shutdown, as a killed process would (no release).
func SimulateCrashOnStop(s *Service) { s.crashOnStop = true }

// FetchFeed fetches f as the poller does, with the Feed as read before.
func FetchFeed(ctx context.Context, s *Service, f Feed) error { return s.fetchFeed(ctx, f, nil) }
