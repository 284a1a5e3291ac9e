package routing

import "strings"

// municipalVocab is general knowledge of German municipal responsibilities:
// each line ties everyday words of citizens' reports and questions
// ("Rasen", "Schaukel", "laute Musik") to anchor terms that name a kind of
// office ("Park Spielplatz Baum"). The classifier attaches a line's words to
// the department whose own name, description and keywords match its anchors
// best, so the table is not tied to one city's department ids.
// Format: "anchors: words"; words are analysed like FAQ text.
const municipalVocab = `
Lärm Ruhestörung Parken Falschparker Ordnungsdienst: laut Musik Party feiern Krach bellen Gebell Nachtruhe Tauben füttern Ratten Ungeziefer Tier Tiere Wildtiere Fuchs Waschbär Wespen Hundekot Hundehaufen Leine zugeparkt parkt parken Parkverstoß abgeschleppt abschleppen Schrottauto Autowrack Wrack herrenlos abgestellt Wohnmobil Anhänger Feuerwerk Böller Rauch Grillen Gestank Belästigung Bettler Obdachlose Ordnungswidrigkeit Kontrolle kontrollieren Gaststättenlärm Sperrstunde
Park Spielplatz Baum Grünpatenschaft Friedhof: Rasen mähen gemäht Wiese Grünanlage Grünfläche Hecke Gebüsch Sträucher Beet Blumen Unkraut Schaukel Rutsche Wippe Sandkasten Klettergerüst Spielgerät Spielgeräte Parkbank Bank Brunnen Teich Stadtwald Wald Straßenbaum Wurzeln Ast Äste Baumkrone umgestürzt Sturmschaden Totholz Grab Grabstein Urne Beerdigung
Straße Schlagloch Straßenlaterne Gehweg Radweg: Laterne Lampe Beleuchtung dunkel flackert Ampel Fahrbahn Asphalt Belag Straßenbelag Riss Risse Wurzelaufbrüche Kanal Kanaldeckel Gully Abfluss Regenwasser Überschwemmung Pfütze Bordstein Verkehrsschild Schild Straßenschild Markierung Zebrastreifen Poller Brücke Unterführung Baustelle Straßenschaden
Müll Sperrmüll Mülltonne Abfallkalender: Tonne Tonnen geleert Leerung Abholung Müllabfuhr Müllwagen Container Glascontainer Altglas Altkleider Sack Säcke Reifen Bauschutt Ablagerung Abfall vermüllt Dreck Unrat Sperrmülltermin
Personalausweis Reisepass Meldebescheinigung Briefwahl: Ausweis Pass Foto Passbild Passfoto Fingerabdruck Unterschrift Wohnsitz Adresse Melderegister gemeldet Wahl Wahlbenachrichtigung Wahlschein Wahllokal Auskunftssperre Dokumente
Bauantrag Baugenehmigung Bebauungsplan Denkmalschutz: Statik Statiker Architekt Bauzeichnung Bauvorlage Bauunterlagen Bauaufsicht Schwarzbau Anbau Umbau Neubau Garage Zaun Mauer Dachgeschoss Grundstück Nachbargrundstück Grenzabstand Bauakte Bauplan
Hundesteuer Grundsteuer Gewerbesteuer Stadtkasse: Steuer Steuern Bescheid Steuerbescheid Abgaben Grundbesitzabgaben Mahnung Zahlung Zahlungserinnerung Säumniszuschlag Vollstreckung Kassenzeichen Rückerstattung Erstattung Lastschriftmandat abgebucht Kontoverbindung
Kita Tagesmutter Kindeswohl Unterhaltsvorschuss Jugendamt: Kind Kinder Jugendliche Baby Erziehung Familie Familien Eltern vernachlässigt Kinderschutz Misshandlung Trennung Unterhalt Sorgerecht Betreuung Hort Schulkind
Wohngeld Grundsicherung Sozialhilfe Obdachlosigkeit: Notunterkunft Unterkunft Zwangsräumung Räumung wohnungslos obdachlos Pflege Pflegeheim pflegebedürftig Heimkosten Rente Rentner Armut arm Geld Miete Mietschulden Schulden bedürftig Notlage Sozialleistungen Einkommen Behinderung
Gewerbe Gewerbeanmeldung Gaststättenerlaubnis Wochenmarkt: Firma Unternehmen Betrieb Laden Geschäft Imbiss Kiosk Spielhalle Reisegewerbe Schausteller Händler Markt Marktstand Konzession Selbstständig Gastronomie Bar Kneipe Restaurant Außengastronomie
Eheschließung Trauung Geburtsurkunde Sterbeurkunde Standesamt: Heirat Hochzeit Trauzimmer Urkunde Urkunden Ehe Scheidung Namensänderung Nachname Geburt Sterbefall Vaterschaft Lebenspartnerschaft Apostille
Zulassung Kennzeichen Fahrzeugschein Führerschein: Auto Fahrzeug Motorrad Roller Anhänger Nummernschild Zulassungsstelle Halter Fahrzeugbrief Fahrerlaubnis Führerscheinstelle Umschreibung Oldtimer Kfz
Fundbüro Fundsache Verlustanzeige: verloren gefunden liegen gelassen vergessen Schlüssel Schlüsselbund Tasche Rucksack Brille Portemonnaie Geldbörse Handy Fahrrad Regenschirm Jacke
Rathaus Beschwerde Bürgermeister Stadtrat: Mail E-Mail Mitarbeiter Mitarbeiterin unfreundlich Website Homepage Internetseite Anregung Vorschlag Idee Lob Kritik Ratssitzung Sitzung Politik Verwaltung
`

// vocabLine is one parsed line of municipalVocab.
type vocabLine struct {
	anchors, words string
}

func parseMunicipalVocab() []vocabLine {
	var out []vocabLine
	for _, line := range strings.Split(municipalVocab, "\n") {
		a, w, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		out = append(out, vocabLine{anchors: a, words: w})
	}
	return out
}
