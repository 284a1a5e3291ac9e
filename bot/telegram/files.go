package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	tgbot "github.com/go-telegram/bot"

	"citybot/routing"
)

// MaxFileSize is the largest file bots may download from Telegram (20 MB).
const MaxFileSize = 20 << 20

// Errors of OpenFile.
var (
	// ErrFileTooLarge: the file is larger than MaxFileSize.
	ErrFileTooLarge = errors.New("telegram: file larger than 20 MB")
	// ErrFileNotFound: Telegram does not know the file (any more), or it
	// is of another channel.
	ErrFileNotFound = fmt.Errorf("telegram: file not found: %w", routing.ErrNotFound)
)

// fileTimeout bounds getFile and the start of the download.
const fileTimeout = 30 * time.Second

// OpenFile returns the content of a citizen's file (a Telegram file_id), for
// the staff inbox's media proxy (admin.Files). The download URL contains the
// bot token: it is never logged, and errors are redacted. The caller closes
// the reader; reading fails with ErrFileTooLarge past MaxFileSize.
func (s *Service) OpenFile(ctx context.Context, channel, fileID string) (io.ReadCloser, error) {
	// A field report's photos are files of the reporter's Telegram chat.
	if channel != routing.ChannelTelegram && channel != routing.ChannelFieldStaff || fileID == "" {
		return nil, ErrFileNotFound
	}
	gctx, cancel := context.WithTimeout(ctx, fileTimeout)
	defer cancel()
	f, err := s.api.GetFile(gctx, &tgbot.GetFileParams{FileID: fileID})
	switch {
	case errors.Is(err, tgbot.ErrorBadRequest):
		return nil, ErrFileNotFound
	case err != nil:
		return nil, fmt.Errorf("get file: %w", redact(err, s.cfg.Token))
	case f == nil || f.FilePath == "":
		return nil, ErrFileNotFound
	case f.FileSize > MaxFileSize:
		return nil, ErrFileTooLarge
	}
	// The timer bounds the wait for the response header; the body streams
	// as long as the caller's ctx lives, until Close.
	dctx, stop := context.WithCancel(ctx)
	timer := time.AfterFunc(fileTimeout, stop)
	req, err := http.NewRequestWithContext(dctx, http.MethodGet, s.api.FileDownloadLink(f), nil)
	if err != nil {
		stop()
		return nil, fmt.Errorf("download file: %w", redact(err, s.cfg.Token))
	}
	resp, err := s.http.Do(req)
	timer.Stop()
	if err != nil {
		stop()
		return nil, fmt.Errorf("download file: %w", redact(err, s.cfg.Token))
	}
	fail := func(err error) (io.ReadCloser, error) {
		resp.Body.Close()
		stop()
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fail(ErrFileNotFound)
	case resp.StatusCode != http.StatusOK:
		return fail(fmt.Errorf("download file: HTTP status %d", resp.StatusCode))
	case resp.ContentLength > MaxFileSize:
		return fail(ErrFileTooLarge)
	}
	return &limitedBody{rc: resp.Body, left: MaxFileSize, stop: stop}, nil
}

// limitedBody reads at most left bytes and fails beyond.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
	stop context.CancelFunc
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, ErrFileTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n + int(b.left), ErrFileTooLarge
	}
	return n, err
}

func (b *limitedBody) Close() error {
	err := b.rc.Close()
	b.stop()
	return err
}
