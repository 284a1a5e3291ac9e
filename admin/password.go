package admin

// passwordMessages are the strength feedback texts, German first.
func passwordMessages() catalog {
	return catalog{
		"de": {
			"password.common":   "Dieses Passwort ist zu verbreitet und wird bei Angriffen als eines der ersten ausprobiert.",
			"password.personal": "Das Passwort beruht auf Ihrem Namen oder Ihrer E-Mail-Adresse und ist leicht zu erraten.",
			"password.name":     "Das Passwort beruht auf einem verbreiteten Vor- oder Nachnamen und ist leicht zu erraten.",
			"password.word":     "Ein einzelnes Wort, auch mit Ziffern oder Sonderzeichen, ist leicht zu erraten.",
			"password.keyboard": "Tastaturmuster wie „qwertz“ oder „asdf“ sind leicht zu erraten.",
			"password.repeat":   "Wiederholungen wie „aaaa“ oder „abcabc“ sind leicht zu erraten.",
			"password.sequence": "Folgen wie „1234“ oder „abcd“ sind leicht zu erraten.",
			"password.date":     "Jahreszahlen und Daten sind leicht zu erraten.",
			"password.weak":     "Das Passwort ist zu leicht zu erraten.",
			"password.hint":     "Tipp: Nehmen Sie mehrere Wörter, die nichts miteinander zu tun haben, z. B. „Kanu Lampe Wolke Pfeffer“.",
		},
		"en": {
			"password.common":   "This password is too common; attackers try it among the first.",
			"password.personal": "The password rests on your name or e-mail address and is easy to guess.",
			"password.name":     "The password rests on a common first name or surname and is easy to guess.",
			"password.word":     "A single word, even with digits or symbols, is easy to guess.",
			"password.keyboard": "Keyboard patterns such as \"qwerty\" or \"asdf\" are easy to guess.",
			"password.repeat":   "Repeats such as \"aaaa\" or \"abcabc\" are easy to guess.",
			"password.sequence": "Sequences such as \"1234\" or \"abcd\" are easy to guess.",
			"password.date":     "Years and dates are easy to guess.",
			"password.weak":     "The password is too easy to guess.",
			"password.hint":     "Tip: use several unrelated words, e.g. \"canoe lamp cloud pepper\".",
		},
	}
}
