// Command echobot is the yardstick of BenchmarkBinary: a bare
// go-telegram/bot bot that answers every text message with its text, with
// the library's defaults, no database and no matching. It long-polls, or
// with ECHOBOT_WEBHOOK_ADDR serves the webhook at /telegram/webhook there.
//
//	ECHOBOT_TOKEN, ECHOBOT_API_URL: the bot's token and Bot API server
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "echobot:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	echo := func(ctx context.Context, b *tgbot.Bot, u *models.Update) {
		if u.Message == nil {
			return
		}
		if _, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: u.Message.Chat.ID, Text: u.Message.Text}); err != nil {
			fmt.Fprintln(os.Stderr, "echobot: send:", err)
		}
	}
	b, err := tgbot.New(os.Getenv("ECHOBOT_TOKEN"),
		tgbot.WithServerURL(os.Getenv("ECHOBOT_API_URL")),
		tgbot.WithSkipGetMe(),
		tgbot.WithDefaultHandler(echo),
		tgbot.WithWebhookSecretToken(os.Getenv("ECHOBOT_WEBHOOK_SECRET")),
	)
	if err != nil {
		return err
	}
	addr := os.Getenv("ECHOBOT_WEBHOOK_ADDR")
	if addr == "" {
		fmt.Println("polling")
		b.Start(ctx)
		return nil
	}
	if _, err := b.SetWebhook(ctx, &tgbot.SetWebhookParams{URL: "http://" + addr + "/telegram/webhook", SecretToken: os.Getenv("ECHOBOT_WEBHOOK_SECRET")}); err != nil {
		return err
	}
	srv := &http.Server{Addr: addr, Handler: b.WebhookHandler()}
	go b.StartWebhook(ctx)
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	fmt.Println("webhook")
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
