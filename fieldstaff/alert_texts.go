package fieldstaff

// The bot's texts about alerts, German first, English second (as the
// other texts of linked chats, bot.go). %d is a case number.
const (
	textAlertHint = "↩️ Auf diese Nachricht antworten: Ihre Antwort geht an die Bürgerin/den Bürger, wie im Posteingang.\n" +
		"Reply to this message to answer the citizen, as in the inbox."
	textDigestHint = "↩️ Antworten Sie auf diese Nachricht mit „#Nummer Ihr Text“, um einer Person zu antworten.\n" +
		"Reply to this message with \"#number your text\" to answer one of them."
	textAlertClaimed = "Fall #%d ist jetzt Ihnen zugewiesen.\n" +
		"Case #%d is now assigned to you."
	textAlertClaimedAlready = "Fall #%d ist Ihnen schon zugewiesen.\n" +
		"Case #%d is already assigned to you."
	textAlertClaimedByOther = "Fall #%d hat schon %s übernommen; nichts wurde geändert. Umverteilen geht im Posteingang.\n" +
		"Case #%d is already assigned to %s; nothing changed. Reassign it in the inbox."
	textAlertClosed = "Fall #%d ist geschlossen.\n" +
		"Case #%d is closed."
	textReplied = "Ihre Antwort zu Fall #%d geht an die Bürgerin/den Bürger.\n" +
		"Your reply to case #%d is on its way to the citizen."
	textAlertNotYours = "Fall #%d gibt es nicht oder er gehört nicht zu Ihren Fachbereichen. Nichts wurde gesendet oder geändert.\n" +
		"Case #%d does not exist or is not one of your departments'. Nothing was sent or changed."
	textAlertInvalid = "Fall #%d ist geschlossen oder die Nachricht ist zu lang (höchstens 10.000 Zeichen). Nichts wurde gesendet oder geändert.\n" +
		"Case #%d is closed, or the message is too long (at most 10,000 characters). Nothing was sent or changed."
	textAlertBadButton = "Diese Schaltfläche ist ungültig. Nichts wurde geändert.\n" +
		"This button is not valid. Nothing changed."
	textAlertNotLinked = "Dieser Chat ist nicht (mehr) mit einem Mitarbeiterzugang verknüpft. Fall-Meldungen können hier nicht bearbeitet werden; nichts wurde gesendet oder geändert.\n" +
		"This chat is not (or no longer) linked to a staff account. Case alerts cannot be handled here; nothing was sent or changed."
	textReplyNoAlert = "Diese Antwort lässt sich keinem Fall zuordnen: Antworten Sie direkt auf eine Fall-Meldung, die der Bot Ihnen geschickt hat. Nichts wurde gesendet.\n" +
		"This reply belongs to no case: reply directly to a case alert the bot sent you. Nothing was sent."
	textReplyNotYours = "Diese Fall-Meldung ging an einen anderen Zugang. Nichts wurde gesendet.\n" +
		"This case alert was sent to another account. Nothing was sent."
	textReplyTextOnly = "Antworten an Bürgerinnen und Bürger gehen hier nur als Text; Dateien senden Sie im Posteingang. Nichts wurde gesendet.\n" +
		"Replies to citizens can only be text here; send files in the inbox. Nothing was sent."
	textReplyDigest = "Das ist eine Sammelmeldung: Beginnen Sie Ihre Antwort mit der Fallnummer aus der Liste, z. B. „#12 Ihr Text“. Nichts wurde gesendet.\n" +
		"This is a digest: start your reply with a case number from its list, e.g. \"#12 your text\". Nothing was sent."
)
