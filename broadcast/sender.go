package broadcast

import "context"

// Sender delivers one post to one chat. It is implemented per channel (for
// Telegram in bot/telegram) and must classify its errors by wrapping
// ErrBlocked, ErrRejected or returning a *RateLimitError; anything else is
// treated as transient and retried with backoff.
//
// Send must be safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, chatID string, msg Message) error
}

// Message is a post as it is sent to a citizen.
type Message struct {
	PostID int64
	// Text is plain text (no markup), at most 4096 characters, or 1024 when
	// the message has a photo (then it is the caption).
	Text string
	// PhotoURL is an http(s) URL or a channel file id; or Photo holds an
	// uploaded image (PhotoName its file name). Empty: text only.
	PhotoURL  string
	Photo     []byte
	PhotoName string
	// LinkURL, when set, is shown as a link button (LinkText).
	LinkURL  string
	LinkText string
	// The "Frage dazu" button: its label and callback data ("bq:<postID>").
	QuestionText string
	QuestionData string
	// Warning posts may be shown more prominently by a channel.
	IsWarning bool
}

// HasPhoto reports whether the message carries a photo.
func (m Message) HasPhoto() bool { return m.PhotoURL != "" || len(m.Photo) > 0 }
