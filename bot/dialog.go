package bot

import "fmt"

// The dialog model: one explicit state machine (DESIGN.md, "The dialog").
// The state of a citizen's chat is derived, per message, from what is
// stored (the active case, an open confirmation, dialog_state); the event is
// what the message is (classifyIntent, the FAQ matcher); the table below
// says what the bot does and which state follows. The engine executes the
// action (dialog_flow.go); its writes are what make the next state.

// State is where the conversation stands.
type State int

const (
	// StateIdle: nothing pending; questions go to the FAQ.
	StateIdle State = iota
	// StateTopic: the bot answered an FAQ entry less than FollowUpWindow
	// ago; a short question refers to that entry.
	StateTopic
	// StateConfirm: the bot asked whether to pass a question to an office
	// (a case opens only after "yes"); ConfirmWindow long.
	StateConfirm
	// StateAskTopic: the citizen asked for staff without saying what it is
	// about; the bot asked "Worum geht es?" (AskTopicWindow long).
	StateAskTopic
	// StateCaseOpen: the citizen has an open case (waiting, assigned or
	// answered by staff).
	StateCaseOpen
	// StateCaseClosed: staff closed the citizen's case within the reopen
	// window; it reopens only on a real follow-up, after asking.
	StateCaseClosed
	// StateConfirmReopen: the bot asked whether to reopen the closed case.
	StateConfirmReopen
	numStates
)

var stateNames = [...]string{"idle", "topic", "confirm", "ask_topic", "case_open", "case_closed", "confirm_reopen"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Event is what a citizen's message is.
type Event int

const (
	EvGreeting     Event = iota // "Hallo", "Moin", "ich hätte eine Frage"
	EvThanks                    // "Danke", "ok", "super"
	EvGoodbye                   // "Tschüss"
	EvBot                       // "Bist du ein Bot?"
	EvCapabilities              // "Was kannst du?", "Do you speak English?"
	EvInsult                    // abuse without a request
	EvEmpty                     // "?", "hmm", fillers only
	EvImpatience                // "Hallo? Antwort?", "wie lange dauert das noch"
	EvYes                       // "ja", "ja bitte"
	EvNo                        // "nein danke"
	EvHuman                     // "a person, please" (nothing about what)
	EvStaffRequest              // "a person, please, about my building permit"; /mitarbeiter TEXT
	EvFAQ                       // the FAQ answers (or suggests entries)
	EvVague                     // a detail without a topic: "und was kostet das?", "bis wann?"
	EvQuestion                  // a question or report the FAQ cannot answer
	EvMedia                     // photo, file, location, voice, sticker
	numEvents
)

var eventNames = [...]string{"greeting", "thanks", "goodbye", "bot", "capabilities", "insult", "empty", "impatience",
	"yes", "no", "human", "staff_request", "faq", "vague", "question", "media"}

func (e Event) String() string {
	if e >= 0 && int(e) < len(eventNames) {
		return eventNames[e]
	}
	return fmt.Sprintf("Event(%d)", int(e))
}

// Action is what the bot does with a message.
type Action int

const (
	ActReply         Action = iota // the event's short reply (greeting, thanks, bot, capabilities, calm reply to abuse, ...)
	ActAnswer                      // answer from the FAQ (or offer candidates)
	ActAnswerNote                  // answer from the FAQ and note question and answer in the open case
	ActFollowUp                    // answer the detail from the last topic
	ActAskDetail                   // "Worum geht es genau?" (a detail without a topic)
	ActAskConfirm                  // restate the question, propose the office, ask (buttons) before opening a case
	ActExtendConfirm               // add the message to the pending question and ask again
	ActRemindConfirm               // ask the pending question again
	ActOpenCase                    // open the pending case (typed "ja")
	ActDecline                     // drop the pending question / request
	ActAskTopic                    // "Worum geht es?" after a request for staff
	ActAddToCase                   // add the message to the open case, confirm briefly ("an das Tiefbauamt weitergegeben")
	ActExpectation                 // where the case is and when to expect a reply
	ActAskReopen                   // ask before reopening a closed case
	ActExtendReopen                // add the message to the pending reopen and ask again
	ActReopen                      // reopen the closed case with the pending messages (typed "ja")
	ActClosedInfo                  // the case was closed; how to go on
	ActMedia                       // a file without a case: what the bot can do with it
	numActions
)

var actionNames = [...]string{"reply", "answer", "answer_note", "follow_up", "ask_detail", "ask_confirm", "extend_confirm",
	"remind_confirm", "open_case", "decline", "ask_topic", "add_to_case", "expectation", "ask_reopen", "extend_reopen",
	"reopen", "closed_info", "media"}

func (a Action) String() string {
	if a >= 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Step is a transition: what to do and the state that follows.
type Step struct {
	Do   Action
	Next State
}

func (s Step) String() string { return s.Do.String() + ">" + s.Next.String() }

// transitions is the dialog: state x event -> step. Every pair is listed
// (TestTransitions checks it); buttons and commands are described in
// DESIGN.md and handled outside the table (they name their target).
var transitions = [numStates][numEvents]Step{
	StateIdle: {
		EvGreeting: {ActReply, StateIdle}, EvThanks: {ActReply, StateIdle}, EvGoodbye: {ActReply, StateIdle},
		EvBot: {ActReply, StateIdle}, EvCapabilities: {ActReply, StateIdle}, EvInsult: {ActReply, StateIdle},
		EvEmpty: {ActReply, StateIdle}, EvImpatience: {ActReply, StateIdle}, EvYes: {ActReply, StateIdle}, EvNo: {ActReply, StateIdle},
		EvHuman: {ActAskTopic, StateAskTopic}, EvStaffRequest: {ActAskConfirm, StateConfirm},
		EvFAQ: {ActAnswer, StateTopic}, EvVague: {ActAskDetail, StateIdle}, EvQuestion: {ActAskConfirm, StateConfirm},
		EvMedia: {ActMedia, StateIdle},
	},
	StateTopic: {
		EvGreeting: {ActReply, StateTopic}, EvThanks: {ActReply, StateTopic}, EvGoodbye: {ActReply, StateIdle},
		EvBot: {ActReply, StateTopic}, EvCapabilities: {ActReply, StateTopic}, EvInsult: {ActReply, StateTopic},
		EvEmpty: {ActReply, StateTopic}, EvImpatience: {ActFollowUp, StateTopic}, EvYes: {ActReply, StateTopic}, EvNo: {ActReply, StateTopic},
		// "a person, please" right after an answer is about that topic
		EvHuman: {ActAskConfirm, StateConfirm}, EvStaffRequest: {ActAskConfirm, StateConfirm},
		EvFAQ: {ActAnswer, StateTopic}, EvVague: {ActFollowUp, StateTopic}, EvQuestion: {ActAskConfirm, StateConfirm},
		EvMedia: {ActMedia, StateTopic},
	},
	StateConfirm: {
		EvGreeting: {ActReply, StateConfirm}, EvThanks: {ActReply, StateConfirm}, EvGoodbye: {ActDecline, StateIdle},
		EvBot: {ActReply, StateConfirm}, EvCapabilities: {ActReply, StateConfirm}, EvInsult: {ActReply, StateConfirm},
		EvEmpty: {ActRemindConfirm, StateConfirm}, EvImpatience: {ActRemindConfirm, StateConfirm},
		EvYes: {ActOpenCase, StateCaseOpen}, EvNo: {ActDecline, StateIdle},
		EvHuman: {ActOpenCase, StateCaseOpen}, EvStaffRequest: {ActExtendConfirm, StateConfirm},
		EvFAQ: {ActAnswer, StateTopic}, EvVague: {ActExtendConfirm, StateConfirm}, EvQuestion: {ActExtendConfirm, StateConfirm},
		EvMedia: {ActRemindConfirm, StateConfirm},
	},
	StateAskTopic: {
		EvGreeting: {ActAskTopic, StateAskTopic}, EvThanks: {ActReply, StateAskTopic}, EvGoodbye: {ActDecline, StateIdle},
		EvBot: {ActReply, StateAskTopic}, EvCapabilities: {ActReply, StateAskTopic}, EvInsult: {ActReply, StateAskTopic},
		EvEmpty: {ActAskTopic, StateAskTopic}, EvImpatience: {ActAskTopic, StateAskTopic},
		EvYes: {ActAskTopic, StateAskTopic}, EvNo: {ActDecline, StateIdle},
		EvHuman: {ActAskTopic, StateAskTopic}, EvStaffRequest: {ActAskConfirm, StateConfirm},
		// the citizen asked for a person: what they name next goes to
		// the confirmation, even when the FAQ knows the topic
		EvFAQ: {ActAskConfirm, StateConfirm}, EvVague: {ActAskConfirm, StateConfirm}, EvQuestion: {ActAskConfirm, StateConfirm},
		EvMedia: {ActAskTopic, StateAskTopic},
	},
	StateCaseOpen: {
		// acknowledged without touching the case
		EvGreeting: {ActReply, StateCaseOpen}, EvThanks: {ActReply, StateCaseOpen}, EvGoodbye: {ActReply, StateCaseOpen},
		EvBot: {ActReply, StateCaseOpen}, EvCapabilities: {ActReply, StateCaseOpen}, EvInsult: {ActReply, StateCaseOpen},
		EvYes: {ActReply, StateCaseOpen}, EvNo: {ActReply, StateCaseOpen},
		// "Hallo? Antwort?": the expected reply time again
		EvEmpty: {ActExpectation, StateCaseOpen}, EvImpatience: {ActExpectation, StateCaseOpen}, EvHuman: {ActExpectation, StateCaseOpen},
		// still answered by the FAQ, and noted in the case
		EvFAQ:          {ActAnswerNote, StateCaseOpen},
		EvStaffRequest: {ActAddToCase, StateCaseOpen}, EvVague: {ActAddToCase, StateCaseOpen}, EvQuestion: {ActAddToCase, StateCaseOpen},
		EvMedia: {ActAddToCase, StateCaseOpen},
	},
	StateCaseClosed: {
		EvGreeting: {ActReply, StateCaseClosed}, EvThanks: {ActReply, StateCaseClosed}, EvGoodbye: {ActReply, StateCaseClosed},
		EvBot: {ActReply, StateCaseClosed}, EvCapabilities: {ActReply, StateCaseClosed}, EvInsult: {ActReply, StateCaseClosed},
		EvYes: {ActReply, StateCaseClosed}, EvNo: {ActReply, StateCaseClosed},
		EvEmpty: {ActClosedInfo, StateCaseClosed}, EvImpatience: {ActClosedInfo, StateCaseClosed},
		EvHuman: {ActAskReopen, StateConfirmReopen}, EvStaffRequest: {ActAskReopen, StateConfirmReopen},
		EvFAQ: {ActAnswer, StateTopic}, EvVague: {ActAskReopen, StateConfirmReopen}, EvQuestion: {ActAskReopen, StateConfirmReopen},
		EvMedia: {ActAskReopen, StateConfirmReopen},
	},
	StateConfirmReopen: {
		EvGreeting: {ActReply, StateConfirmReopen}, EvThanks: {ActReply, StateConfirmReopen}, EvGoodbye: {ActDecline, StateCaseClosed},
		EvBot: {ActReply, StateConfirmReopen}, EvCapabilities: {ActReply, StateConfirmReopen}, EvInsult: {ActReply, StateConfirmReopen},
		EvEmpty: {ActRemindConfirm, StateConfirmReopen}, EvImpatience: {ActRemindConfirm, StateConfirmReopen},
		EvYes: {ActReopen, StateCaseOpen}, EvNo: {ActDecline, StateCaseClosed},
		EvHuman: {ActReopen, StateCaseOpen}, EvStaffRequest: {ActExtendReopen, StateConfirmReopen},
		EvFAQ: {ActAnswer, StateTopic}, EvVague: {ActExtendReopen, StateConfirmReopen}, EvQuestion: {ActExtendReopen, StateConfirmReopen},
		EvMedia: {ActExtendReopen, StateConfirmReopen},
	},
}

// Transition returns the step for event in state.
func Transition(s State, e Event) Step {
	if s < 0 || s >= numStates || e < 0 || e >= numEvents {
		return Step{ActReply, StateIdle}
	}
	return transitions[s][e]
}
