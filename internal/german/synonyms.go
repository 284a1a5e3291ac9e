package german

import "strings"

// defaultSynonyms is the seed vocabulary of a city's service desk: everyday
// and English words mapped to the official German terms the FAQ uses.
// Format: one mapping per line, "term = canonical". Editors add more at
// runtime; their synonyms are passed to NewIndex next to DefaultSynonyms.
const defaultSynonyms = `
# Ausweise und Meldewesen
perso = Personalausweis
persi = Personalausweis
perso-karte = Personalausweis
ausweiskarte = Personalausweis
personalausweiß = Personalausweis
kinderausweis = Kinderreisepass
reise pass = Reisepass
bürgeramt = Bürgerbüro
bürgerservice = Bürgerbüro
einwohnermeldeamt = Bürgerbüro
meldeamt = Bürgerbüro
meldestelle = Bürgerbüro
meldebestätigung = Meldebescheinigung
wohnsitzbestätigung = Meldebescheinigung
meldezettel = Meldebescheinigung
vermieterbestätigung = Wohnungsgeberbestätigung
wohnungsgeberbescheinigung = Wohnungsgeberbestätigung
einzugsbestätigung = Wohnungsgeberbestätigung
umziehen = Umzug
umgezogen = Umzug
zugezogen = Zuzug
hergezogen = Zuzug
herziehen = Zuzug
wegziehen = Wegzug
weggezogen = Wegzug
auswandern = Auswanderung
polizeiliches zeugnis = Führungszeugnis
leumundszeugnis = Führungszeugnis
wahlschein = Briefwahl
briefwahlschein = Briefwahl
angelschein = Fischereischein
angelkarte = Fischereischein
angeln = Fischereischein
# Bauen
bauerlaubnis = Baugenehmigung
baupapiere = Bauantrag
b-plan = Bebauungsplan
gartenhäuschen = Gartenhaus
gartenlaube = Gartenhaus
abreißen = Abriss
abriß = Abriss
solaranlage = Photovoltaik
pv = Photovoltaik
solar = Photovoltaik
# Ordnung, Verkehr, Parken
knöllchen = Verwarnungsgeld | Strafzettel
knolle = Verwarnungsgeld | Strafzettel
strafzettel = Verwarnungsgeld | Strafzettel
parkknolle = Verwarnungsgeld | Strafzettel
parkticket = Verwarnungsgeld | Strafzettel
bußgeld = Bußgeldbescheid
blitzer = Bußgeldbescheid
geblitzt = Bußgeldbescheid
anwohner = Bewohner | Anlieger
anlieger = Anlieger | Bewohner
anwohnerparkausweis = Bewohnerparkausweis
anwohnerparken = Bewohnerparken
parkvignette = Parkausweis
parkplakette = Parkausweis
parkverbot = Halteverbot
halteverbotsschild = Halteverbot
krach = Lärm
lärmbelästigung = Lärm
ruhestörung = Lärm
kampfhund = Listenhund
pitbull = Listenhund
staffordshire = Listenhund
bullterrier = Listenhund
rottweiler = Listenhund
welpe = Hund
hündin = Hund
gefährlicher hund = Listenhund
lagerfeuer = Brauchtumsfeuer
# Standesamt
heiratsurkunde = Eheurkunde
trauschein = Eheurkunde
hochzeit = Eheschließung
heirat = Eheschließung
heiraten = Eheschließung
standesamtlich heiraten = Trauung
totenschein = Sterbeurkunde
todesfall = Sterbefall
gestorben = Sterbefall
verstorben = Sterbefall
# Kfz
nummernschild = Kennzeichen
nummernschilder = Kennzeichen
autokennzeichen = Kennzeichen
autonummer = Kennzeichen
rosa lappen = Führerschein
grauer lappen = Führerschein
lappen = Führerschein
fahrerlaubnis = Führerschein
lappen umtauschen = Führerschein umtauschen
kfz-schein = Fahrzeugschein
zulassungsschein = Fahrzeugschein
zulassungsbescheinigung teil 1 = Fahrzeugschein
kfz-brief = Fahrzeugbrief
zulassungsbescheinigung teil 2 = Fahrzeugbrief
wagen = Auto
pkw = Auto
kfz = Fahrzeug
karre = Auto
zulassungsstelle = Zulassung
straßenverkehrsamt = Zulassung
autozulassung = Fahrzeugzulassung
stilllegen = abmelden
auto anmelden = Auto zulassen
wagen anmelden = Auto zulassen
# Abfall
gelbe tonne = Gelber Sack | Müllabfuhr
gelber beutel = Gelber Sack
gelbe beutel = Gelber Sack
plastikmüll = Verpackungsmüll
plastiktüte = Sack
mülltüte = Sack
recyclinghof = Wertstoffhof
bauhof = Wertstoffhof
müllplatz = Wertstoffhof
mülldeponie = Wertstoffhof
deponie = Wertstoffhof
sperrgut = Sperrmüll
schrank = Möbel
sofa = Möbel
couch = Möbel
bett = Möbel
betten = Möbel
tisch = Möbel
stuhl = Möbel
stühle = Möbel
matratze = Möbel
kommode = Möbel
regal = Möbel
sessel = Möbel
waschmaschine = Elektrogeräte
trockner = Elektrogeräte
spülmaschine = Elektrogeräte
geschirrspüler = Elektrogeräte
herd = Elektrogeräte
mikrowelle = Elektrogeräte
staubsauger = Elektrogeräte
computer = Elektrogeräte
laptop = Elektrogeräte
drucker = Elektrogeräte
gefriertruhe = Elektrogeräte
loswerden = entsorgen
wegwerfen = entsorgen
wegschmeißen = entsorgen
geleert = abgeholt | Abholung
leeren = abholen | Abholung
leerung = Abholung | abgeholt
äste = Grünschnitt | Baum
ast = Grünschnitt | Baum
zweige = Grünschnitt | Baum
rasenschnitt = Grünschnitt
heckenschnitt = Grünschnitt
heckenschneiden = Grünschnitt
baumschnitt = Grünschnitt
biomüll = Biotonne
papiertonne = Altpapier
blaue tonne = Altpapier
schwarze tonne = Restmülltonne
graue tonne = Restmülltonne
müllmann = Müllabfuhr
müllwagen = Müllabfuhr
müllkalender = Abfallkalender
abholtermine = Abfallkalender
gartenabfall = Gartenabfälle
laub = Gartenabfälle
sondermüll = Schadstoffe
giftmüll = Schadstoffe
elektrogerät = Elektrogeräte
elektromüll = Elektroschrott
e-schrott = Elektroschrott
christbaum = Weihnachtsbaum
tannenbaum = Weihnachtsbaum
schneeschippen = Schnee räumen
schnee schippen = Schnee räumen
streuen = Streupflicht
# Steuern und Kasse
hundemarke = Hundesteuermarke
steuermarke = Hundesteuermarke
hundesteuerbescheid = Hundesteuer
zweitwohnsitzsteuer = Zweitwohnungsteuer
zweitwohnungssteuer = Zweitwohnungsteuer
abbuchen = Lastschrift
abbuchung = Lastschrift
einzugsermächtigung = Lastschrift
abstottern = Ratenzahlung
# Soziales und Familie
mietzuschuss = Wohngeld
miete zuschuss = Wohngeld
hartz = Grundsicherung
stütze = Sozialhilfe
bürgergeld = Grundsicherung | Sozialhilfe
behindertenausweis = Schwerbehindertenausweis
sozialpass = Musterstadt-Pass
kindergarten = Kita
kindergartenplatz = Kita-Platz
kitaplatz = Kita-Platz
krippenplatz = Kita-Platz
krippe = Kita
kinderkrippe = Kita
tagesmama = Tagesmutter
tagesvater = Tagesmutter
# Gewerbe
gewerbeschein = Gewerbeanmeldung
gewerbe schein = Gewerbeanmeldung
selbständig = selbstständig
selbstständigkeit = selbstständig
laden = Geschäft | Betrieb
kneipe = Gaststätte
lokal = Gaststätte
schankerlaubnis = Gaststättenerlaubnis
marktstand = Wochenmarkt
# Grün, Friedhof
schrebergarten = Kleingarten
laubenpiepergarten = Kleingarten
parzelle = Kleingarten
baumfällung = Baum fällen
bäume = Baum
friedhofsgebühren = Grab Kosten
# Wohnungsnot, wilder Müll
obdachlos = Obdachlosigkeit | Wohnungslosigkeit
wohnungslos = Obdachlosigkeit | Wohnungslosigkeit
wohnung verloren = Obdachlosigkeit | Wohnungslosigkeit
keine wohnung = Obdachlosigkeit | Wohnungslosigkeit
zwangsräumung = Obdachlosigkeit | Wohnungslosigkeit
abgeladen = wilder Müll
illegal entsorgt = wilder Müll
müllkippe = wilder Müll
bauschutt = Müll | Bauschutt
vernachlässigt = Kindeswohl
verwahrlost = Kindeswohl
# Straßen
laterne = Straßenlaterne
straßenlampe = Straßenlaterne
bürgersteig = Gehweg
trottoir = Gehweg
einfahrt = Zufahrt
# Fundbüro
geklaut = gestohlen | Diebstahl
klauen = gestohlen | Diebstahl
entwendet = gestohlen | Diebstahl
portemonnaie = Geldbörse
portmonee = Geldbörse
geldbeutel = Geldbörse
brieftasche = Geldbörse
portemonee = Geldbörse
smartphone = Handy
mobiltelefon = Handy
# Rathaus allgemein
passbild = Foto
passbilder = Foto
passfoto = Foto
fotograf = Fotostudio
urlaub = Reise
fliegen = Reise
fliege = Reise
flug = Reise
verreisen = Reise
geboren = Geburt
mit karte zahlen = Kartenzahlung
ec-karte = Kartenzahlung
girocard = Kartenzahlung
neues auto = Neuwagen
gebrauchtes auto = Gebrauchtwagen
gebrauchtwagen = Gebrauchtwagen
umzugswagen = Möbelwagen
umzugstransporter = Möbelwagen
öffnungszeit = Öffnungszeiten
aufhaben = geöffnet
offen = geöffnet
sprechstunde = Sprechzeiten
ausbildungsplatz = Ausbildung
azubi = Ausbildung
azubis = Ausbildung
job = Jobs
gebühr = Kosten
preis = Kosten
kostet = Kosten

# Bäume und Pflanzen (Arten -> Baum)
birke = Baum
eiche = Baum
buche = Baum
linde = Baum
ahorn = Baum
kastanie = Baum
kastanienbaum = Baum
tanne = Baum
fichte = Baum
kiefer = Baum
lärche = Baum
pappel = Baum
weide = Baum
esche = Baum
walnussbaum = Baum
obstbaum = Baum
apfelbaum = Baum
kirschbaum = Baum
nadelbaum = Baum
laubbaum = Baum
# Feste und Veranstaltungen
fest = Veranstaltung
feier = Veranstaltung
sommerfest = Veranstaltung
stadtteilfest = Veranstaltung
nachbarschaftsfest = Veranstaltung
vereinsfest = Veranstaltung
flohmarkt = Veranstaltung
konzert = Veranstaltung
umzug mit musik = Veranstaltung
# Allgemeines
ämter = Amt
behörde = Amt
behördengang = Amt
verwaltung = Stadtverwaltung
bescheinigung = Bescheinigung | Nachweis
nachweis = Nachweis | Bescheinigung
beantragung = beantragen
antragstellung = beantragen
wie lange dauert = Bearbeitungszeit | dauert
bearbeitungsdauer = Bearbeitungszeit | dauert
gebühren = Kosten
teuer = Kosten
ermäßigung = ermäßigt
vergünstigung = ermäßigt
rabatt = ermäßigt
fällig = Fälligkeit
fälligkeit = Fälligkeit | fällig

# English
travel = Reise
travelling = Reise
traveling = Reise
trip = Reise
holiday = Urlaub | Reise
holidays = Urlaub | Reise
vacation = Urlaub | Reise
year = Jahr
years = Jahre
month = Monat
week = Woche
old = alt
new = neu
own = eigen
how long = dauert
take long = dauert
book = buchen
booking = buchen
pickup = Abholung
collection = Abholung
schedule = Termine
dates = Termine
date = Termin
form = Formular
forms = Formulare
online = online
office = Amt
authority = Amt
city = Stadt
town = Stadt
council = Stadt
municipality = Stadt
citizen office = Bürgerbüro
citizens office = Bürgerbüro
residents registration office = Bürgerbüro
address = Adresse
change of address = Adressänderung
new address = neue Adresse
flat = Wohnung
apartment = Wohnung
rent = Miete
landlord = Vermieter
tenant = Mieter
house = Haus
garden = Garten
shed = Gartenhaus
garage = Garage
fence = Zaun
extension = Anbau
architect = Architekt
plot = Grundstück
land = Grundstück
property = Grundstück
neighbour = Nachbar
neighbor = Nachbar
parking = Parken
park = parken
parked = parken
towed = abgeschleppt
speeding = Bußgeldbescheid
speeding ticket = Bußgeldbescheid
speed camera = Bußgeldbescheid
fine notice = Bußgeldbescheid
puppy = Hund
pet = Haustier
cat = Katze
animal = Tier
found animal = Fundtier
party = Feier
festival = Veranstaltung
bonfire = Brauchtumsfeuer
fireworks = Feuerwerk
noise complaint = Lärm
loud = Lärm
wife = Ehefrau
husband = Ehemann
partner = Partner
fiance = Verlobter
fiancee = Verlobte
civil wedding = Trauung
ceremony = Trauung
newborn = Geburt
born = geboren
father = Vater
mother = Mutter
parents = Eltern
son = Sohn
daughter = Tochter
surname = Nachname
last name = Nachname
divorce = Scheidung
church tax = Kirchensteuer
leave the church = Kirchenaustritt
motorbike = Motorrad
motorcycle = Motorrad
trailer = Anhänger
temporary plate = Kurzzeitkennzeichen
temporary number plate = Kurzzeitkennzeichen
personalised plate = Wunschkennzeichen
personalized plate = Wunschkennzeichen
custom plate = Wunschkennzeichen
sell car = Auto verkaufen
bought = gekauft
buy = kaufen
used car = Gebrauchtwagen
new car = Neuwagen
exchange = umtauschen
swap = umtauschen
foreign licence = ausländischer Führerschein
foreign license = ausländischer Führerschein
international licence = internationaler Führerschein
international license = internationaler Führerschein
rent a car = Auto mieten
hire a car = Auto mieten
bin collection = Müllabfuhr
collection day = Abfallkalender
collection days = Abfallkalender
collection calendar = Abfallkalender
waste calendar = Abfallkalender
bins = Mülltonne
wheelie bin = Mülltonne
recycling = Wertstoffe
recycling bag = Gelber Sack
paper = Altpapier
glass = Altglas
organic waste = Biotonne
compost = Biotonne
garden waste = Grünschnitt
green waste = Grünschnitt
hazardous waste = Schadstoffe
paint = Farbe | Schadstoffe
batteries = Batterien
fridge = Kühlschrank
freezer = Gefriertruhe
washing machine = Elektrogeräte
mattress = Möbel
wardrobe = Möbel
dispose = entsorgen
disposal = entsorgen
get rid of = entsorgen
throw away = entsorgen
snow clearing = Winterdienst
clear snow = Schnee räumen
grit = Streupflicht
pavement = Gehweg
sidewalk = Gehweg
road = Straße
street = Straße
streets = Straßen
closed = gesperrt
closure = Sperrung
construction site = Baustelle
dropped kerb = Bordsteinabsenkung
dropped curb = Bordsteinabsenkung
kerb = Bordstein
curb = Bordstein
playground = Spielplatz
allotment garden = Kleingarten
burial = Bestattung
funeral = Bestattung
urn = Urne
pension = Rente
retired = Rentner
pensioner = Rentner
unemployed = arbeitslos
low income = geringes Einkommen
income = Einkommen
benefits = Sozialleistungen
social welfare = Sozialhilfe
homeless = Obdachlosigkeit | Wohnungslosigkeit
discount = ermäßigt
reduced = ermäßigt
swimming pool = Schwimmbad
child care = Kita
childcare = Kita
school trip = Klassenfahrt
school = Schule
holiday care = Ferienbetreuung
maintenance = Unterhalt
alimony = Unterhalt
joint custody = gemeinsames Sorgerecht
self-employed = selbstständig
freelance = selbstständig
freelancer = selbstständig
company = Firma
shop = Geschäft
store = Geschäft
bar = Gaststätte
pub = Gaststätte
cafe = Gaststätte
market = Wochenmarkt
deregister business = Gewerbe abmelden
tax office = Steueramt
tax notice = Steuerbescheid
tax assessment = Steuerbescheid
due = fällig
due date = Fälligkeit
defer = Stundung
deferral = Stundung
in instalments = Ratenzahlung
in installments = Ratenzahlung
reminder = Mahnung
found something = gefunden
key = Schlüssel
bag = Tasche
bike = Fahrrad
bicycle = Fahrrad
auction = Versteigerung
lost item = Fundsache
lost items = Fundsachen
work for the city = Stellenangebote
internship = Praktikum
complaint = Beschwerde
mayor = Bürgermeister
translate = übersetzen
english = Englisch
signature = Unterschrift
copy = Kopie
copies = Kopien
photo = Foto
photos = Foto
biometric photo = Foto
pin = PIN
forgot = vergessen
forgotten = vergessen
expired = abgelaufen
expires = abgelaufen
valid = gültig
temporary = vorläufig
urgent = dringend
emergency = dringend
express = Express
id card = Personalausweis
identity card = Personalausweis
german id = Personalausweis
id = Personalausweis
passport = Reisepass
child passport = Kinderreisepass
children passport = Kinderreisepass
lost = verloren
lose = verloren
stolen = gestohlen
pick up = abholen
collect = abholen
register address = Wohnsitz anmelden
registration of address = Wohnsitz anmelden
register residence = Wohnsitz anmelden
registration certificate = Meldebescheinigung
proof of address = Meldebescheinigung
proof of residence = Meldebescheinigung
residence certificate = Meldebescheinigung
landlord confirmation = Wohnungsgeberbestätigung
deregister = abmelden
move = Umzug
moving = Umzug
moved = Umzug
abroad = Ausland
move abroad = Wegzug Ausland
moving abroad = Wegzug Ausland
certificate of good conduct = Führungszeugnis
criminal record certificate = Führungszeugnis
police clearance = Führungszeugnis
background check = Führungszeugnis
certified copy = beglaubigte Kopie
certify = beglaubigen
postal vote = Briefwahl
absentee ballot = Briefwahl
vote = wählen
election = Wahl
fishing licence = Fischereischein
fishing license = Fischereischein
building permit = Baugenehmigung
building permission = Baugenehmigung
planning permission = Baugenehmigung
build = bauen
demolish = abreißen
demolition = Abriss
development plan = Bebauungsplan
zoning plan = Bebauungsplan
solar panels = Photovoltaik
house number = Hausnummer
residents parking = Bewohnerparkausweis
resident parking permit = Bewohnerparkausweis
parking permit = Parkausweis
disabled parking = Behindertenparkausweis
parking ticket = Verwarnungsgeld
parking fine = Verwarnungsgeld
ticket = Verwarnungsgeld
fine = Bußgeldbescheid
appeal = Einspruch
objection = Einspruch
street party = Straßenfest
event = Veranstaltung
noise = Lärm
quiet hours = Ruhezeiten
dog = Hund
dogs = Hund
leash = Leine
marriage = Eheschließung
marry = heiraten
married = heiraten
get married = heiraten
wedding = Hochzeit
registry office = Standesamt
register office = Standesamt
birth certificate = Geburtsurkunde
marriage certificate = Eheurkunde
death certificate = Sterbeurkunde
birth = Geburt
baby = Baby
died = gestorben
death = Sterbefall
name change = Namensänderung
change name = Namen ändern
leave church = Kirchenaustritt
paternity = Vaterschaft
custody = Sorgerecht
car registration = Fahrzeugzulassung
register car = Fahrzeug zulassen
register vehicle = Fahrzeug zulassen
car = Auto
vehicle = Fahrzeug
deregister car = Auto abmelden
license plate = Kennzeichen
licence plate = Kennzeichen
number plate = Kennzeichen
driving licence = Führerschein
driving license = Führerschein
driver's license = Führerschein
international driving permit = internationaler Führerschein
bulky waste = Sperrmüll
bulky rubbish = Sperrmüll
furniture = Möbel
recycling centre = Wertstoffhof
recycling center = Wertstoffhof
garbage collection = Müllabfuhr
waste collection = Müllabfuhr
rubbish collection = Müllabfuhr
bin = Mülltonne
trash = Müll
garbage = Müll
rubbish = Müll
waste = Müll
yellow bag = Gelber Sack
electronics = Elektrogeräte
christmas tree = Weihnachtsbaum
snow = Schnee
dog tax = Hundesteuer
tax = Steuer
taxes = Steuern
property tax = Grundsteuer
trade tax = Gewerbesteuer
second home tax = Zweitwohnungsteuer
direct debit = Lastschrift
instalments = Ratenzahlung
installments = Ratenzahlung
pay = bezahlen
payment = bezahlen
housing benefit = Wohngeld
rent subsidy = Wohngeld
social housing = Wohnberechtigungsschein
basic income support = Grundsicherung
welfare = Sozialhilfe
disability card = Schwerbehindertenausweis
disabled = Schwerbehinderung
daycare = Kita
day care = Kita
nursery = Kita
childminder = Tagesmutter
parental allowance = Elterngeld
child support = Unterhaltsvorschuss
child = Kind
children = Kinder
kid = Kind
kids = Kinder
trade licence = Gewerbeanmeldung
trade license = Gewerbeanmeldung
business license = Gewerbeanmeldung
register business = Gewerbe anmelden
register a business = Gewerbe anmelden
start business = Gewerbe anmelden
business = Gewerbe
close business = Gewerbe abmelden
restaurant licence = Gaststättenerlaubnis
market stall = Wochenmarkt Stand
tree = Baum
cut down tree = Baum fällen
allotment = Kleingarten
cemetery = Friedhof
grave = Grab
street light = Straßenlaterne
pothole = Schlagloch
road works = Baustellen
roadworks = Baustellen
lost and found = Fundbüro
lost property = Fundbüro
wallet = Geldbörse
keys = Schlüssel
phone = Handy
found = gefunden
opening hours = Öffnungszeiten
open = geöffnet
town hall = Rathaus
city hall = Rathaus
appointment = Termin
book appointment = Termin buchen
cancel = absagen
contact = Kontakt
phone number = Telefonnummer
data protection = Datenschutz
privacy = Datenschutz
wheelchair = Rollstuhl
accessible = barrierefrei
online services = Online-Dienste
jobs = Stellenangebote
vacancies = Stellenangebote
apprenticeship = Ausbildung
fee = Kosten
fees = Kosten
cost = Kosten
costs = Kosten
how much = Kosten
apply = beantragen
application = Antrag
renew = verlängern
extend = verlängern
documents = Unterlagen
register = anmelden
registration = Anmeldung
certificate = Bescheinigung
permit = Genehmigung
`

// DefaultSynonyms returns the built-in synonym table: colloquial German and
// English words a city's service desk hears, mapped to the official terms.
func DefaultSynonyms() []Synonym {
	var out []Synonym
	for _, line := range strings.Split(defaultSynonyms, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		term, canon, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		out = append(out, Synonym{Term: strings.TrimSpace(term), Canonical: strings.TrimSpace(canon)})
	}
	return out
}

// synPattern is one compiled synonym term.
type synPattern struct {
	toks  []Token
	canon [][]string // per canonical word, its alternatives (folded)
}

// synTable matches synonym terms in token sequences.
type synTable struct {
	byFirst map[string][]int // German or English stem of the first content token -> patterns
	pats    []synPattern
	single  map[string][]string // stem of a one-word term -> canonical stems (typo correction)
}

func compileSynonyms(syns []Synonym) *synTable {
	st := &synTable{byFirst: map[string][]int{}, single: map[string][]string{}}
	for _, s := range syns {
		toks := tokenize(s.Term)
		// drop leading/trailing stopwords, keep inner ones
		for len(toks) > 0 && toks[0].Stop {
			toks = toks[1:]
		}
		for len(toks) > 0 && toks[len(toks)-1].Stop {
			toks = toks[:len(toks)-1]
		}
		if len(toks) == 0 {
			// a term made of stopwords only ("id") is matched literally
			toks = tokenize(s.Term)
			if len(toks) == 0 {
				continue
			}
		}
		// Canonical: alternatives separated by "|"; word i of every
		// alternative joins group i ("Strafzettel | Verwarnungsgeld").
		var canon [][]string
		for _, alt := range strings.Split(s.Canonical, "|") {
			for wi, w := range Tokens(alt) {
				if wi >= len(canon) {
					canon = append(canon, nil)
				}
				canon[wi] = append(canon[wi], w)
			}
		}
		if len(canon) == 0 {
			continue
		}
		idx := len(st.pats)
		st.pats = append(st.pats, synPattern{toks: toks, canon: canon})
		st.byFirst[toks[0].Stem] = append(st.byFirst[toks[0].Stem], idx)
		if toks[0].En != toks[0].Stem {
			st.byFirst[toks[0].En] = append(st.byFirst[toks[0].En], idx)
		}
		if len(toks) == 1 && len(canon) == 1 {
			for _, c := range canon[0] {
				st.single[toks[0].Stem] = append(st.single[toks[0].Stem], StemGerman(c))
			}
		}
	}
	return st
}

func tokEq(p, q Token) bool {
	if p.Surf == q.Surf || p.Stem == q.Stem {
		return true
	}
	return len(p.En) >= 3 && p.En == q.En && !p.Stop && !q.Stop
}

// match tries the longest synonym pattern starting at toks[i]. Stopwords in
// the message may be skipped between pattern words ("register my car"
// matches "register car"). It returns the end index (exclusive).
//
// A one-word term that is also a stopword ("bin", "will", "also") only
// matches in an English message (english): "ich bin" is no bin.
func (st *synTable) match(toks []Token, i int, english bool) (int, [][]string, bool) {
	t := toks[i]
	cands := st.byFirst[t.Stem]
	if t.En != t.Stem {
		cands = append(cands[:len(cands):len(cands)], st.byFirst[t.En]...)
	}
	bestEnd, bestLen := -1, 0
	var bestCanon [][]string
	for _, pi := range cands {
		p := st.pats[pi]
		if !tokEq(p.toks[0], t) || (len(p.toks) == 1 && t.Stop && !english) {
			continue
		}
		k := i + 1
		ok := true
		for _, pt := range p.toks[1:] {
			skipped := 0
			for k < len(toks) && !tokEq(pt, toks[k]) && toks[k].Stop && skipped < 2 && toks[k].Clause == t.Clause {
				k++
				skipped++
			}
			if k >= len(toks) || !tokEq(pt, toks[k]) || toks[k].Clause != t.Clause {
				ok = false
				break
			}
			k++
		}
		if ok && len(p.toks) > bestLen {
			bestEnd, bestLen, bestCanon = k, len(p.toks), p.canon
		}
	}
	if bestEnd < 0 {
		return 0, nil, false
	}
	return bestEnd, bestCanon, true
}
