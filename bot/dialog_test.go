package bot

import (
	"strings"
	"testing"
)

// TestTransitions checks every state x event pair of the dialog against
// the model written down in DESIGN.md ("The dialog"). Each row lists, for
// one state, "event:action>next" for all events; a pair missing here or a
// changed transition fails.
func TestTransitions(t *testing.T) {
	want := map[State]string{
		StateIdle: `greeting:reply>idle thanks:reply>idle goodbye:reply>idle bot:reply>idle capabilities:reply>idle
			insult:reply>idle empty:reply>idle impatience:reply>idle yes:reply>idle no:reply>idle
			human:ask_topic>ask_topic staff_request:ask_confirm>confirm faq:answer>topic vague:ask_detail>idle
			question:ask_confirm>confirm media:media>idle`,
		StateTopic: `greeting:reply>topic thanks:reply>topic goodbye:reply>idle bot:reply>topic capabilities:reply>topic
			insult:reply>topic empty:reply>topic impatience:follow_up>topic yes:reply>topic no:reply>topic
			human:ask_confirm>confirm staff_request:ask_confirm>confirm faq:answer>topic vague:follow_up>topic
			question:ask_confirm>confirm media:media>topic`,
		StateConfirm: `greeting:reply>confirm thanks:reply>confirm goodbye:decline>idle bot:reply>confirm capabilities:reply>confirm
			insult:reply>confirm empty:remind_confirm>confirm impatience:remind_confirm>confirm yes:open_case>case_open no:decline>idle
			human:open_case>case_open staff_request:extend_confirm>confirm faq:answer>topic vague:extend_confirm>confirm
			question:extend_confirm>confirm media:remind_confirm>confirm`,
		StateAskTopic: `greeting:ask_topic>ask_topic thanks:reply>ask_topic goodbye:decline>idle bot:reply>ask_topic capabilities:reply>ask_topic
			insult:reply>ask_topic empty:ask_topic>ask_topic impatience:ask_topic>ask_topic yes:ask_topic>ask_topic no:decline>idle
			human:ask_topic>ask_topic staff_request:ask_confirm>confirm faq:ask_confirm>confirm vague:ask_confirm>confirm
			question:ask_confirm>confirm media:ask_topic>ask_topic`,
		StateCaseOpen: `greeting:reply>case_open thanks:reply>case_open goodbye:reply>case_open bot:reply>case_open capabilities:reply>case_open
			insult:reply>case_open empty:expectation>case_open impatience:expectation>case_open yes:reply>case_open no:reply>case_open
			human:expectation>case_open staff_request:add_to_case>case_open faq:answer_note>case_open vague:add_to_case>case_open
			question:add_to_case>case_open media:add_to_case>case_open`,
		StateCaseClosed: `greeting:reply>case_closed thanks:reply>case_closed goodbye:reply>case_closed bot:reply>case_closed capabilities:reply>case_closed
			insult:reply>case_closed empty:closed_info>case_closed impatience:closed_info>case_closed yes:reply>case_closed no:reply>case_closed
			human:ask_reopen>confirm_reopen staff_request:ask_reopen>confirm_reopen faq:answer>topic vague:ask_reopen>confirm_reopen
			question:ask_reopen>confirm_reopen media:ask_reopen>confirm_reopen`,
		StateConfirmReopen: `greeting:reply>confirm_reopen thanks:reply>confirm_reopen goodbye:decline>case_closed bot:reply>confirm_reopen
			capabilities:reply>confirm_reopen insult:reply>confirm_reopen empty:remind_confirm>confirm_reopen
			impatience:remind_confirm>confirm_reopen yes:reopen>case_open no:decline>case_closed human:reopen>case_open
			staff_request:extend_reopen>confirm_reopen faq:answer>topic vague:extend_reopen>confirm_reopen
			question:extend_reopen>confirm_reopen media:extend_reopen>confirm_reopen`,
	}
	if len(want) != int(numStates) {
		t.Fatalf("the test covers %d states, the dialog has %d", len(want), numStates)
	}
	for s := State(0); s < numStates; s++ {
		row := map[string]string{}
		for _, f := range strings.Fields(want[s]) {
			ev, step, ok := strings.Cut(f, ":")
			if !ok {
				t.Fatalf("%v: bad field %q", s, f)
			}
			row[ev] = step
		}
		if len(row) != int(numEvents) {
			t.Errorf("%v: the test lists %d events, the dialog has %d", s, len(row), numEvents)
		}
		for e := Event(0); e < numEvents; e++ {
			t.Run(s.String()+"/"+e.String(), func(t *testing.T) {
				got := Transition(s, e).String()
				if got != row[e.String()] {
					t.Errorf("%v x %v = %s, want %s", s, e, got, row[e.String()])
				}
			})
		}
	}
	// Nothing that is not a request ever opens or reopens a case.
	for s := State(0); s < numStates; s++ {
		for _, e := range []Event{EvGreeting, EvThanks, EvGoodbye, EvBot, EvCapabilities, EvInsult, EvEmpty, EvImpatience, EvFAQ, EvVague, EvQuestion, EvMedia, EvStaffRequest} {
			if a := Transition(s, e).Do; a == ActOpenCase || a == ActReopen {
				t.Errorf("%v x %v opens a case without a yes", s, e)
			}
		}
	}
}

func TestTransitionOutOfRange(t *testing.T) {
	if got := Transition(State(-1), EvGreeting); got.Do != ActReply || got.Next != StateIdle {
		t.Errorf("out of range = %v", got)
	}
	if got := Transition(StateIdle, Event(99)); got.Do != ActReply {
		t.Errorf("out of range = %v", got)
	}
}
