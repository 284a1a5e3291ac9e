package telegram

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"citybot/internal/tgfake"
	"citybot/routing"
)

func TestOpenFile(t *testing.T) {
	e := newEnv(t)
	s, err := NewService(e.db, e.m, testLogger(t), e.config())
	must(t, err)
	ctx := context.Background()

	data := []byte("%PDF-1.4 Bauzeichnung")
	f := e.fake.RegisterFile("zeichnung.pdf", data)
	rc, err := s.OpenFile(ctx, routing.ChannelTelegram, f.FileID)
	must(t, err)
	got, err := io.ReadAll(rc)
	must(t, err)
	must(t, rc.Close())
	if !bytes.Equal(got, data) {
		t.Errorf("content = %q", got)
	}

	for name, tc := range map[string]struct{ channel, id string }{
		"unknown file":  {routing.ChannelTelegram, "nope"},
		"other channel": {routing.ChannelWeb, f.FileID},
		"empty id":      {routing.ChannelTelegram, ""},
	} {
		if _, err := s.OpenFile(ctx, tc.channel, tc.id); !errors.Is(err, ErrFileNotFound) || !errors.Is(err, routing.ErrNotFound) {
			t.Errorf("%s: err = %v", name, err)
		}
	}

	big := e.fake.RegisterFile("big.bin", make([]byte, MaxFileSize+1))
	if _, err := s.OpenFile(ctx, routing.ChannelTelegram, big.FileID); !errors.Is(err, ErrFileTooLarge) {
		t.Errorf("big file: err = %v", err)
	}

	// Errors never carry the token (the download URL contains it).
	e.fake.FailNext("getFile", 1, tgfake.ServerError())
	_, err = s.OpenFile(ctx, routing.ChannelTelegram, f.FileID)
	if err == nil || strings.Contains(err.Error(), e.fake.Token()) {
		t.Errorf("5xx: err = %v", err)
	}
	e.fake.Close()
	_, err = s.OpenFile(ctx, routing.ChannelTelegram, f.FileID)
	if err == nil || strings.Contains(err.Error(), e.fake.Token()) || strings.Contains(err.Error(), strings.Split(e.fake.Token(), ":")[1]) {
		t.Errorf("network error: err = %v", err)
	}
}

func TestLimitedBody(t *testing.T) {
	b := &limitedBody{rc: io.NopCloser(strings.NewReader("0123456789")), left: 4, stop: func() {}}
	got, err := io.ReadAll(b)
	if !errors.Is(err, ErrFileTooLarge) || string(got) != "0123" {
		t.Errorf("got %q, %v", got, err)
	}
	b = &limitedBody{rc: io.NopCloser(strings.NewReader("0123")), left: 4, stop: func() {}}
	if got, err := io.ReadAll(b); err != nil || string(got) != "0123" {
		t.Errorf("exact: got %q, %v", got, err)
	}
}
