package routing

import "time"

// Flood is the flood limit of a chat: a chat that sent Limit messages
// within Window gets one notice and then no answers until it slows down.
// It keeps one chat from running into Telegram's per-chat limit, whose 429
// pauses the sending for everybody. The bot applies it to citizens' chats
// (Received.RecentIn counts their messages) and to staff chats (package
// fieldstaff counts theirs), with the same setting (bot.Config).
type Flood struct {
	Limit  int
	Window time.Duration
}

// Check tells, for a message that follows recentIn messages of its chat
// within Window, whether the chat is over the limit (the message gets no
// answer), and whether it is the message that reached the limit (the one
// answered with the notice). A Limit of 0 or less is no limit.
func (f Flood) Check(recentIn int) (over, notice bool) {
	if f.Limit <= 0 {
		return false, false
	}
	return recentIn >= f.Limit, recentIn == f.Limit
}
