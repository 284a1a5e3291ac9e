package telegram

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"citybot/internal/tgfake"
	"citybot/routing"
	"citybot/staff"
)

// TestDialogs plays the scripted conversations of testdata/dialogs/*.txt
// through the real service and the fake Bot API, as citizens would write.
// `go test -run TestDialogs -v ./bot/telegram/` prints each transcript.
//
// Script format: a dialog starts with "## title"; then, one per line:
//
//	> text             the citizen writes text ("> [photo]", "> [photo] caption", "> [location]")
//	! label            the citizen presses the button whose label contains label (latest message first)
//	< ~text            the bot's next message contains text
//	< ^text            ... starts with text
//	< =text            ... is text
//	< -text            ... does not contain text
//	< *                ... is any message
//	& ~text            the same message again (also &^ &= &-)
//	-                  the bot says nothing more (for now)
//	= case DEPT STATUS the citizen's latest case: department id and status ("open": not closed)
//	= no case          the citizen has no case
//	= case has ~text   the latest case's transcript has a message containing text
//	= case lacks ~text ... has none
//	@ lang en          the citizen's Telegram language from now on
//	@ staff reply text staff of the case's department reply
//	@ staff close      staff close the case
//	@ age 10m          the dialog's context is that much older (timeouts)
//
// Lines starting with "#" (not "##") are comments. \n in a text is a line
// break.
func TestDialogs(t *testing.T) {
	files, err := filepath.Glob("testdata/dialogs/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dialogs: %v", err)
	}
	var dialogs []dialog
	for _, f := range files {
		ds, err := parseDialogs(f)
		if err != nil {
			t.Fatal(err)
		}
		dialogs = append(dialogs, ds...)
	}
	if len(dialogs) < 40 {
		t.Errorf("only %d dialogs", len(dialogs))
	}
	e := newHandoffEnv(t)
	e.start(e.cfg)
	var staffMu sync.Mutex
	viewers := map[string]staff.Principal{}
	viewer := func(dept string) staff.Principal {
		staffMu.Lock()
		defer staffMu.Unlock()
		if v, ok := viewers[dept]; ok {
			return v
		}
		v := e.staff(dept+"@example.org", dept)
		viewers[dept] = v
		return v
	}
	t.Run("scripts", func(t *testing.T) {
		for i, d := range dialogs {
			chat := int64(90000 + i)
			t.Run(d.name, func(t *testing.T) {
				t.Parallel()
				p := &player{t: t, e: e, chat: chat, viewer: viewer, user: e.fake.DefaultUser(chat)}
				p.play(d)
			})
		}
	})
}

type dialog struct {
	name  string
	file  string
	lines []scriptLine
}

type scriptLine struct {
	no   int
	text string
}

func parseDialogs(path string) ([]dialog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []dialog
	sc := bufio.NewScanner(f)
	no := 0
	for sc.Scan() {
		no++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || (strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "##")):
			continue
		case strings.HasPrefix(line, "## "):
			out = append(out, dialog{name: strings.TrimSpace(line[3:]), file: filepath.Base(path)})
		case len(out) == 0:
			return nil, fmt.Errorf("%s:%d: line before the first dialog", path, no)
		default:
			d := &out[len(out)-1]
			d.lines = append(d.lines, scriptLine{no: no, text: line})
		}
	}
	return out, sc.Err()
}

// player plays one dialog in its own chat.
type player struct {
	t      *testing.T
	e      *handoffEnv
	chat   int64
	user   models.User
	viewer func(dept string) staff.Principal
	seen   int // bot messages consumed
	log    strings.Builder
}

func (p *player) logf(format string, args ...any) {
	fmt.Fprintf(&p.log, format+"\n", args...)
}

func (p *player) play(d dialog) {
	t := p.t
	defer func() { t.Logf("%s (%s):\n%s", d.name, d.file, p.log.String()) }()
	for _, l := range d.lines {
		where := fmt.Sprintf("%s:%d", d.file, l.no)
		op, arg, _ := strings.Cut(l.text, " ")
		arg = strings.ReplaceAll(strings.TrimSpace(arg), `\n`, "\n")
		switch op {
		case ">":
			p.send(arg)
		case "!":
			p.press(where, arg)
		case "<":
			p.expect(where, arg, true)
		case "&":
			p.expect(where, arg, false)
		case "-":
			p.quiet(where)
		case "=":
			p.checkCase(where, arg)
		case "@":
			p.do(where, arg)
		default:
			t.Fatalf("%s: unknown line %q", where, l.text)
		}
		if t.Failed() {
			return
		}
	}
	p.quiet(d.file + ":end")
}

func (p *player) send(text string) {
	switch {
	case text == "[location]":
		p.logf("  citizen: [location]")
		p.e.fake.PushLocation(p.chat, 51.51, 7.46)
	case strings.HasPrefix(text, "[photo]"):
		caption := strings.TrimSpace(strings.TrimPrefix(text, "[photo]"))
		p.logf("  citizen: [photo] %s", caption)
		p.e.fake.PushPhoto(p.chat, caption)
	default:
		p.logf("  citizen: %s", text)
		p.e.fake.PushTextFrom(p.user, p.chat, text)
	}
}

func (p *player) press(where, label string) {
	sent := p.e.fake.SentTo(p.chat)
	for i := len(sent) - 1; i >= 0; i-- {
		m, ok := p.e.fake.Message(p.chat, sent[i].MessageID)
		if !ok || m.ReplyMarkup == nil {
			continue
		}
		for _, row := range m.ReplyMarkup.InlineKeyboard {
			for _, b := range row {
				if strings.Contains(b.Text, label) && b.CallbackData != "" {
					p.logf("  citizen: [presses „%s“]", b.Text)
					p.e.fake.PushCallbackFrom(p.user, p.chat, m.MessageID, b.CallbackData)
					return
				}
			}
		}
	}
	p.t.Fatalf("%s: no button %q in the chat", where, label)
}

func (p *player) next(where string) tgfake.SentMessage {
	got := p.e.fake.WaitSentTo(p.t, p.chat, p.seen+1, 20*time.Second)
	m := got[p.seen]
	p.seen++
	line := "  bot:     " + strings.ReplaceAll(m.PlainText, "\n", "\n           ")
	if m.ReplyMarkup != nil {
		var labels []string
		for _, row := range m.ReplyMarkup.InlineKeyboard {
			for _, b := range row {
				labels = append(labels, "["+b.Text+"]")
			}
		}
		line += "\n           " + strings.Join(labels, " ")
	}
	p.logf("%s", line)
	return m
}

func (p *player) expect(where, arg string, next bool) {
	var m tgfake.SentMessage
	if next {
		m = p.next(where)
	} else if p.seen == 0 {
		p.t.Fatalf("%s: no message yet", where)
	} else {
		m = p.e.fake.SentTo(p.chat)[p.seen-1]
	}
	if arg == "*" {
		return
	}
	if len(arg) < 2 {
		p.t.Fatalf("%s: bad expectation %q", where, arg)
	}
	kind, want := arg[0], strings.TrimSpace(arg[1:])
	got := m.PlainText
	ok := false
	switch kind {
	case '~':
		ok = strings.Contains(got, want)
	case '^':
		ok = strings.HasPrefix(got, want)
	case '=':
		ok = got == want
	case '-':
		ok = !strings.Contains(got, want)
	default:
		p.t.Fatalf("%s: bad expectation %q", where, arg)
	}
	if !ok {
		p.t.Errorf("%s: bot said %q; want %c %q", where, got, kind, want)
	}
}

// quiet checks that the bot said nothing beyond what was expected.
func (p *player) quiet(where string) {
	time.Sleep(400 * time.Millisecond)
	if sent := p.e.fake.SentTo(p.chat); len(sent) > p.seen {
		for _, m := range sent[p.seen:] {
			p.logf("  bot:     %s   <- unexpected", strings.ReplaceAll(m.PlainText, "\n", " "))
		}
		p.t.Errorf("%s: %d unexpected bot messages", where, len(sent)-p.seen)
		p.seen = len(sent)
	}
}

type dialogCase struct {
	ID     int64  `db:"id"`
	Dept   string `db:"department_id"`
	Status string `db:"status"`
}

func (p *player) latestCase() (dialogCase, bool) {
	var cs []dialogCase
	if err := p.e.db.Select(&cs, `SELECT c.id, c.department_id, c.status FROM cases c JOIN citizens ci ON ci.id = c.citizen_id
		WHERE ci.external_id = $1 ORDER BY c.id DESC LIMIT 1`, fmt.Sprint(p.chat)); err != nil {
		p.t.Fatal(err)
	}
	if len(cs) == 0 {
		return dialogCase{}, false
	}
	return cs[0], true
}

// settle waits until the chat's updates are handled (the bot's replies to
// them are queued), so that database checks see their effects.
func (p *player) settle() {
	waitFor(p.t, "updates handled", func() bool {
		return p.e.count(`SELECT count(*) FROM telegram_updates WHERE chat_id = $1 AND status NOT IN ('done', 'failed')`, p.chat) == 0
	})
}

func (p *player) checkCase(where, arg string) {
	p.settle()
	c, ok := p.latestCase()
	f := strings.Fields(arg)
	switch {
	case arg == "no case":
		if ok {
			p.t.Errorf("%s: a case was opened: %+v", where, c)
		}
		p.logf("  (no case)")
	case len(f) >= 3 && f[0] == "case" && (f[1] == "has" || f[1] == "lacks"):
		if !ok {
			p.t.Fatalf("%s: no case", where)
		}
		want := strings.TrimPrefix(strings.Join(f[2:], " "), "~")
		has := false
		for _, s := range p.e.caseTexts(c.ID) {
			if strings.Contains(s, want) {
				has = true
			}
		}
		if has != (f[1] == "has") {
			p.t.Errorf("%s: case transcript %s %q: %q", where, f[1], want, p.e.caseTexts(c.ID))
		}
	case len(f) == 3 && f[0] == "case":
		if !ok {
			p.t.Fatalf("%s: no case, want %s", where, arg)
		}
		p.logf("  (case #%d: %s, %s)", c.ID, c.Dept, c.Status)
		if f[1] != "*" && c.Dept != f[1] {
			p.t.Errorf("%s: case department %s, want %s", where, c.Dept, f[1])
		}
		if st := f[2]; !(st == c.Status || (st == "open" && c.Status != routing.CaseClosed)) {
			p.t.Errorf("%s: case status %s, want %s", where, c.Status, st)
		}
	default:
		p.t.Fatalf("%s: bad case check %q", where, arg)
	}
}

func (p *player) do(where, arg string) {
	ctx := context.Background()
	verb, rest, _ := strings.Cut(arg, " ")
	switch verb {
	case "lang":
		p.user.LanguageCode = rest
	case "staff":
		p.settle()
		c, ok := p.latestCase()
		if !ok {
			p.t.Fatalf("%s: no case for staff", where)
		}
		v := p.viewer(c.Dept)
		act, text, _ := strings.Cut(rest, " ")
		switch act {
		case "reply":
			p.logf("  (staff of %s reply)", c.Dept)
			if _, err := p.e.cases.Reply(ctx, v, c.ID, text, nil); err != nil {
				p.t.Fatal(err)
			}
		case "close":
			p.logf("  (staff of %s close the case)", c.Dept)
			if err := p.e.cases.Close(ctx, v, c.ID); err != nil {
				p.t.Fatal(err)
			}
		default:
			p.t.Fatalf("%s: bad staff action %q", where, rest)
		}
	case "age":
		d, err := time.ParseDuration(rest)
		if err != nil {
			p.t.Fatalf("%s: %v", where, err)
		}
		p.settle()
		p.logf("  (%s later)", rest)
		if _, err := p.e.db.Exec(`
			UPDATE dialog_state SET topic_at = topic_at - make_interval(secs => $2), ask_topic_at = ask_topic_at - make_interval(secs => $2)
			WHERE citizen_id = (SELECT id FROM citizens WHERE external_id = $1)`, fmt.Sprint(p.chat), d.Seconds()); err != nil {
			p.t.Fatal(err)
		}
		if _, err := p.e.db.Exec(`
			UPDATE bot_choices SET created_at = created_at - make_interval(secs => $2)
			WHERE citizen_id = (SELECT id FROM citizens WHERE external_id = $1)`, fmt.Sprint(p.chat), d.Seconds()); err != nil {
			p.t.Fatal(err)
		}
	default:
		p.t.Fatalf("%s: bad action %q", where, arg)
	}
}
