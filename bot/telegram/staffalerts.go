package telegram

import (
	"context"

	"github.com/jmoiron/sqlx"

	"citybot/bot/telegram/tgupdate"
	"citybot/fieldstaff"
	"citybot/routing"
)

// StaffAlerts is the part of the field staff domain that answers replies
// to case alerts and their buttons (fieldstaff.(*Store).HandleAlert). When
// Config.StaffChats implements it, the dispatcher asks it first.
type StaffAlerts interface {
	HandleAlert(ctx context.Context, tx *sqlx.Tx, in fieldstaff.AlertInput) (fieldstaff.Reply, error)
}

// staffAlert asks StaffAlerts about an update, in its transaction.
func (s *Service) staffAlert(ctx context.Context, tx *sqlx.Tx, inc tgupdate.Incoming, r *fieldstaff.Reply) (handled bool, err error) {
	a, ok := s.cfg.StaffChats.(StaffAlerts)
	if !ok {
		return false, nil
	}
	in := fieldstaff.AlertInput{ChatID: inc.ChatID, Text: inc.In.Text, ReplyTo: inc.ReplyTo, ReplyToBot: inc.ReplyToBot, ReplyToText: inc.ReplyToText,
		Media: inc.In.Media != nil || (inc.In.Kind != routing.KindText && inc.In.Kind != routing.KindButton)}
	if inc.In.Kind == routing.KindButton {
		in.Data = inc.In.Data
	}
	*r, err = a.HandleAlert(ctx, tx, in)
	if err != nil {
		return false, err
	}
	return r.Handled, nil
}
