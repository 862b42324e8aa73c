"""English for the pages, whose source language is German.

Templates and routes write German (`_("Anmelden")`); this table gives the
English. A missing entry shows the German text, and a test checks that
every text the templates use has its English here.
"""

from __future__ import annotations

STATUS_DE = {
    "open": "offen",
    "offered": "angefragt",
    "assigned": "besetzt",
    "completed": "erledigt",
    "cancelled": "storniert",
    "unfilled": "nicht besetzt",
    "pending": "wartet",
    "accepted": "angenommen",
    "declined": "abgelehnt",
    "expired": "abgelaufen",
    "withdrawn": "zurückgezogen",
    "returned": "zurückgegeben",
    "revoked": "zurückgenommen",
    "sending": "wird gesendet",
    "sent": "gesendet",
    "delivered": "zugestellt",
    "failed": "fehlgeschlagen",
    "logged": "nur protokolliert",
}

MODE_DE = {"in_person": "vor Ort", "phone": "Telefon", "video": "Video"}
LEVEL_DE = {"native": "Muttersprache", "fluent": "fließend", "basic": "Grundkenntnisse"}
#: The parts of a candidate's score (matching.rank), as the coordinator reads them.
SCORE_PART_DE = {
    "continuity": "Kontinuität",
    "gender": "Geschlecht",
    "level": "Sprachniveau",
    "travel": "Anfahrt",
    "load": "wenig Einsätze zuletzt",
}
TRAVEL_DE = {"car": "Auto", "bike": "Fahrrad", "foot": "zu Fuß", "transit": "Bus und Bahn"}

EN: dict[str, str] = {
    "Zum Inhalt springen": "Skip to content",
    "Hauptnavigation": "Main navigation",
    "Übersicht": "Overview",
    "Pool": "Pool",
    "Planung": "Planning",
    "Statistik": "Statistics",
    "Nachrichten": "Messages",
    "Neue Anfrage": "New request",
    "Anfragen": "Requests",
    "Abmelden": "Sign out",
    "Sprachmittlung anfragen": "Request a language mediator",
    (
        "Wir fragen passende Sprachmittler*innen sofort per SMS an. Sie sehen den Stand in "
        "Ihrer Liste."
    ): ("We ask suitable mediators by SMS at once. You see the progress in your list."),
    "Bitte prüfen Sie diese Angaben:": "Please check these fields:",
    "Was und wann": "What and when",
    "Sprache": "Language",
    "Sprache suchen, z. B. Tigrinya": "Search a language, e.g. Tigrinya",
    "Tippen Sie die ersten Buchstaben und wählen Sie aus der Liste.": (
        "Type the first letters and pick from the list."
    ),
    "Datum": "Date",
    "Beginn": "Start",
    "Dauer": "Duration",
    "Wie und wo": "How and where",
    "Art des Termins": "Kind of appointment",
    "Ort (nur bei Terminen vor Ort)": "Place (in person only)",
    "– bitte wählen –": "– please choose –",
    "Andere Adresse (unten eingeben)": "Other address (enter below)",
    "Andere Adresse": "Other address",
    "Breite (lat)": "Latitude",
    "Länge (lon)": "Longitude",
    (
        "Koordinaten z. B. aus einer Karten-App (rechte Maustaste auf den Ort). Sie bestimmen "
        "die Anfahrt."
    ): ("Coordinates e.g. from a map app (right-click the spot). They decide the travel."),
    "Details": "Details",
    "freiwillig": "optional",
    "Fachgebiet": "Subject",
    "– keines –": "– none –",
    "Geschlecht der Sprachmittlung": "Mediator's gender",
    "Aktenzeichen / Kundennummer": "File or client reference",
    "Kein Name. Damit dieselbe Person wieder kommt, wenn möglich.": (
        "No name. So that the same mediator comes again if possible."
    ),
    "Ansprechperson vor Ort": "Contact on site",
    "z. B. Frau Peters, Raum 1": "e.g. Ms Peters, room 1",
    "Telefon für Rückfragen": "Phone for questions",
    "Hinweise für die Sprachmittlung": "Notes for the mediator",
    "Ohne Namen oder andere persönliche Daten; z. B. „Elterngespräch, Klasse 7“.": (
        'No names or other personal data; e.g. "parents\' meeting, year 7".'
    ),
    "Dringend: alle passenden Personen gleichzeitig anfragen": (
        "Urgent: ask every suitable mediator at once"
    ),
    "Wer zuerst zusagt, übernimmt den Termin.": "The first to accept takes the appointment.",
    "Anfrage senden": "Send request",
    "Abbrechen": "Cancel",
    "vor Ort": "in person",
    "Telefon": "Phone",
    "Video": "Video",
    "egal": "no preference",
    "Frau bevorzugt": "a woman preferred",
    "nur eine Frau": "a woman only",
    "Mann bevorzugt": "a man preferred",
    "nur ein Mann": "a man only",
    "Alle Anfragen": "All requests",
    "Anfragen meiner Organisation": "My organisation's requests",
    "Anfrage Nr. %(n)s ist gespeichert. Wir fragen jetzt passende Sprachmittler*innen an.": (
        "Request no. %(n)s is saved. We are asking suitable mediators now."
    ),
    "Anfrage Nr. %(n)s ist storniert.": "Request no. %(n)s is cancelled.",
    "Zeitraum": "Period",
    "Heute und kommende": "Today and upcoming",
    "Vergangene 14 Tage": "Past 14 days",
    "Keine anstehenden Anfragen.": "No upcoming requests.",
    "Jetzt eine Anfrage stellen": "File a request now",
    "Keine Anfragen in den letzten 14 Tagen.": "No requests in the past 14 days.",
    "Anfragen mit Stand": "Requests with their status",
    "Nr.": "No.",
    "Wann": "When",
    "Wo": "Where",
    "Organisation": "Organisation",
    "Stand": "Status",
    "Aktionen": "Actions",
    "Anfrage Nr. %(n)s wirklich stornieren?": "Really cancel request no. %(n)s?",
    "Stornieren": "Cancel request",
    "Anfrage": "Request",
    "Keine Daten im Zeitraum.": "No data in this period.",
    "nur heute": "today only",
    "heute und %(n)s Tage": "today and %(n)s days",
    "Anzeigen": "Show",
    "nicht besetzt": "unfilled",
    "gefährdet": "at risk",
    "in Vermittlung": "being dispatched",
    "besetzt": "assigned",
    "Braucht Ihre Aufmerksamkeit": "Needs your attention",
    "Noch nicht bestätigt:": "Not reconfirmed yet:",
    "Niemand hat zugesagt.": "Nobody accepted.",
    "Öffnen": "Open",
    "Heute": "Today",
    "Keine Termine.": "No appointments.",
    "%(n)s angefragt": "%(n)s asked",
    "%(n)s abgelehnt": "%(n)s declined",
    "pausiert": "paused",
    "Fortsetzen": "Resume",
    "Pausieren": "Pause",
    "Die Verfügbarkeit ist gespeichert.": "The availability is saved.",
    "Angaben": "Details",
    "Sprachen": "Languages",
    "E-Mail": "Email",
    "Unterwegs": "Travels by",
    "bis": "to",
    "Stunden pro Woche": "Hours per week",
    "Fachgebiete": "Subjects",
    "Wöchentliche Verfügbarkeit": "Weekly availability",
    (
        "Leere Zeilen werden nicht gespeichert; um eine Zeit zu löschen, leeren Sie Beginn und "
        "Ende."
    ): ("Empty rows are not saved; to remove a slot, clear its start and end."),
    "Bitte prüfen Sie die markierten Zeilen.": "Please check the marked rows.",
    "Tag": "Day",
    "von": "from",
    "Verfügbarkeit speichern": "Save availability",
    "Montag": "Monday",
    "Dienstag": "Tuesday",
    "Mittwoch": "Wednesday",
    "Donnerstag": "Thursday",
    "Freitag": "Friday",
    "Samstag": "Saturday",
    "Sonntag": "Sunday",
    "Jede SMS und E-Mail, die neueste zuerst, mit dem Stand der Zustellung.": (
        "Every SMS and email, newest first, with its delivery status."
    ),
    "alle": "all",
    "Filtern": "Filter",
    "Noch keine Nachrichten.": "No messages yet.",
    "Erstellt": "Created",
    "Kanal": "Channel",
    "Art": "Kind",
    "An": "To",
    "Text": "Text",
    "Seiten": "Pages",
    "neuere": "newer",
    "Seite": "Page",
    "ältere": "older",
    "Planung für einen Zeitraum": "Planning for a period",
    (
        "Der Optimierer schlägt für alle offenen und nicht besetzten Anfragen eines Zeitraums "
        "die beste Gesamtverteilung vor. Es wird nichts verändert, bis Sie einzelne Vorschläge "
        "zuweisen."
    ): (
        "The optimiser proposes the best overall plan for every open and unfilled request of a "
        "period. Nothing changes until you assign a proposal."
    ),
    "Ab": "From",
    "Tage": "Days",
    "Vorschlag berechnen": "Compute a proposal",
    "In diesem Zeitraum gibt es keine offenen Anfragen.": (
        "There are no open requests in this period."
    ),
    "Anfragen besetzbar": "requests can be filled",
    "Priorität erreicht / bestmöglich": "priority reached / best possible",
    "Lösung": "solution",
    "Vorschlag": "Proposal",
    "Zuweisen": "Assign",
    "Ohne Vorschlag": "Without a proposal",
    "Der Pool": "The pool",
    "Personen": "people",
    "Name oder Telefon": "Name or phone",
    "alle Sprachen": "all languages",
    "Niemand passt zu diesem Filter.": "Nobody matches this filter.",
    "Name": "Name",
    "Verfügbar": "Available",
    "keine Zeiten": "no times",
    "verfügbar": "available",
    "Mo": "Mon",
    "Di": "Tue",
    "Mi": "Wed",
    "Do": "Thu",
    "Fr": "Fri",
    "Sa": "Sat",
    "So": "Sun",
    "Zugewiesen. Die Sprachmittlung und die anfragende Stelle werden benachrichtigt.": (
        "Assigned. The mediator and the requesting office are told."
    ),
    "Die Zuweisung ist aufgehoben; die Anfrage wird neu vermittelt.": (
        "The assignment is cancelled; the request is dispatched again."
    ),
    "Ort": "Place",
    "Geschlecht": "Gender",
    "Frau": "woman",
    "Mann": "man",
    "divers": "diverse",
    "erforderlich": "required",
    "bevorzugt": "preferred",
    "Aktenzeichen": "Reference",
    "Ansprechperson": "Contact",
    "Hinweise": "Notes",
    "Eingegangen": "Received",
    "Dringend": "Urgent",
    "an alle gleichzeitig": "to everyone at once",
    "Zuweisung": "Assignment",
    "über ein Angebot": "through an offer",
    "von der Koordination zugewiesen": "assigned by the coordinator",
    "Bestätigt am": "Reconfirmed on",
    "Noch nicht erneut bestätigt.": "Not reconfirmed yet.",
    "Zuweisung wirklich aufheben? Die Anfrage wird neu vermittelt.": (
        "Really cancel this assignment? The request is dispatched again."
    ),
    "Zuweisung aufheben und neu vermitteln": "Cancel the assignment and dispatch again",
    "Noch niemand.": "Nobody yet.",
    "Angebote": "Offers",
    "Noch keine Angebote verschickt.": "No offers sent yet.",
    "Welle": "Wave",
    "Sprachmittlung": "Mediator",
    "Gesendet": "Sent",
    "Gültig bis": "Valid until",
    "Antwort": "Answer",
    "Mögliche Sprachmittler*innen": "Possible mediators",
    (
        "Nach Eignung sortiert: Sprache, Anfahrt, Kontinuität, gerechte Verteilung. Direkt "
        "zuweisen überspringt die Wellen; die Person und die anfragende Stelle werden "
        "benachrichtigt."
    ): (
        "Ranked by fit: language, travel, continuity, a fair share of work. Assigning directly "
        "skips the waves; the mediator and the requesting office are told."
    ),
    "Niemand erfüllt alle Bedingungen. Die Gründe stehen unten.": (
        "Nobody meets every condition. The reasons are below."
    ),
    "Eignung": "Fit",
    "Anfahrt": "Travel",
    "Bewertung im Einzelnen": "Score in detail",
    "Direkt zuweisen": "Assign directly",
    "Nicht in Frage: %(n)s Personen, die die Sprache sprechen": (
        "Not possible: %(n)s people who speak the language"
    ),
    "Warum nicht": "Why not",
    "Weitere %(n)s Personen im Pool sprechen diese Sprache nicht.": (
        "%(n)s more people in the pool do not speak this language."
    ),
    "Von": "From",
    "Bis": "To",
    "Einsätze als CSV herunterladen": "Download assignments as CSV",
    "besetzt (Quote)": "filled (rate)",
    "bis zur Zusage (Median)": "to an accept (median)",
    "Besetzungsquote je Woche": "Fill rate by week",
    "Zeit bis zur Zusage je Woche (Median)": "Time to fill by week (median)",
    "Besetzungsquote je Sprache": "Fill rate by language",
    "Zeit bis zur Zusage je Sprache (Median)": "Time to fill by language (median)",
    "Ungedeckter Bedarf je Sprache (Stunden nicht besetzter Anfragen)": (
        "Unmet demand by language (hours of unfilled requests)"
    ),
    "Zahlen im Einzelnen": "The figures in detail",
    "Je Sprache": "By language",
    "Quote": "Rate",
    "Median": "Median",
    "Je Organisation": "By organisation",
    "Nach Stand": "By status",
    "Fehler": "Error",
    "Das Formular ist abgelaufen": "This form has expired",
    (
        "Aus Sicherheitsgründen nehmen wir nur Formulare an, die gerade von Sprachpool geladen "
        "wurden. Bitte gehen Sie zurück, laden Sie die Seite neu und senden Sie das Formular "
        "noch einmal."
    ): (
        "For your safety we only accept forms that Sprachpool has just shown. Please go back, "
        "reload the page and send the form again."
    ),
    "Dieser Link gilt nicht mehr": "This link no longer works",
    (
        "Er wurde schon benutzt, ist abgelaufen oder unvollständig. Bitte nehmen Sie den Link "
        "aus Ihrer neuesten Nachricht oder fragen Sie die Koordination."
    ): (
        "It was used already, has expired or is incomplete. Please use the link in your newest "
        "message or ask the coordinator."
    ),
    "Kein Zugriff": "No access",
    "Diese Seite ist für Ihre Rolle nicht freigegeben.": "This page is not open to your role.",
    "Nicht gefunden": "Not found",
    (
        "Unter dieser Adresse gibt es nichts. Vielleicht wurde der Eintrag gelöscht oder gehört "
        "zu einer anderen Organisation."
    ): (
        "There is nothing at this address. Perhaps the entry was deleted or belongs to another "
        "organisation."
    ),
    "Das geht gerade nicht": "That is not possible right now",
    "Nicht erlaubt": "Not allowed",
    "Diese Aktion ist hier nicht vorgesehen.": "This action is not available here.",
    "Etwas ist schiefgegangen": "Something went wrong",
    (
        "Der Fehler liegt bei uns und wurde protokolliert. Bitte versuchen Sie es gleich noch "
        "einmal."
    ): ("The fault is ours and has been logged. Please try again in a moment."),
    "Ungültige Eingabe": "Invalid input",
    "Die Adresse oder das Formular enthält Werte, die wir nicht verstehen.": (
        "The address or the form holds values we do not understand."
    ),
    "Zur Startseite": "To the start page",
    "Anmelden": "Sign in",
    "Für Mitarbeitende von Behörden, Schulen und Kliniken und für die Koordination.": (
        "For staff of public offices, schools and clinics, and for the coordinator."
    ),
    "E-Mail-Adresse oder Passwort stimmen nicht.": (
        "The email address or the password is not right."
    ),
    "Zu viele Fehlversuche: Dieses Konto ist vorübergehend gesperrt.": (
        "Too many failed attempts: this account is locked for a while."
    ),
    "Bitte versuchen Sie es in %(n)s Minuten wieder.": "Please try again in %(n)s minutes.",
    "E-Mail-Adresse": "Email address",
    "Passwort": "Password",
    "Kein Passwort? Die Koordination schickt Ihnen einen Anmelde-Link.": (
        "No password? The coordinator sends you a sign-in link."
    ),
    "Mit Link anmelden": "Sign in with a link",
    (
        "Dieser Link gilt nur einmal. Sie können jetzt auch ein Passwort festlegen, dann "
        "brauchen Sie beim nächsten Mal keinen Link."
    ): (
        "This link works once. You can also set a password now, so that you need no link next time."
    ),
    "Ein Passwort braucht mindestens 10 Zeichen.": "A password needs at least 10 characters.",
    "Neues Passwort (freiwillig, mindestens 10 Zeichen)": (
        "New password (optional, at least 10 characters)"
    ),
    "Jetzt anmelden": "Sign in now",
    (
        "Niemand gefunden. Vorschlag: als Telefon- oder Video-Termin neu anfragen, sonst einen "
        "professionellen Dolmetschdienst beauftragen."
    ): (
        "Nobody found. Suggestion: request it again by phone or video, otherwise book a "
        "professional interpreting service."
    ),
    "Niemand gefunden. Vorschlag: einen professionellen Dolmetschdienst beauftragen.": (
        "Nobody found. Suggestion: book a professional interpreting service."
    ),
    "Wird gerade vermittelt …": "Being dispatched …",
    "Storniert": "Cancelled",
    "Adresse mit Koordinaten": "Address with coordinates",
    "Meine Einsätze": "My jobs",
    "Hallo": "Hello",
    "Sie sind pausiert. Sie bekommen keine neuen Anfragen, bis Sie fortsetzen.": (
        "You are paused. You get no new offers until you resume."
    ),
    "Willkommen zurück! Sie bekommen wieder Anfragen.": "Welcome back! You get offers again.",
    "Ihre nächsten Einsätze": "Your next jobs",
    "Melden Sie sich bei:": "Report to:",
    "Fragen Sie nach:": "Ask for:",
    "Zurzeit haben Sie keine Einsätze.": "You have no jobs at the moment.",
    "Pause": "Pause",
    "Sie sind gerade pausiert und bekommen keine Anfragen.": "You are paused and get no offers.",
    "Wieder Anfragen bekommen": "Get offers again",
    (
        "Keine Zeit in den nächsten Wochen? Pausieren Sie, dann fragen wir Sie nicht. Zugesagte "
        "Einsätze bleiben."
    ): ("No time in the coming weeks? Pause, and we will not ask you. Jobs you accepted stay."),
    "Fragen? Rufen Sie die Koordination an.": "Questions? Call the coordinator.",
    "Bitte eine Sprache aus der Liste wählen.": "Please pick a language from the list.",
    "Bitte ein gültiges Datum angeben.": "Please give a valid date.",
    "Bitte eine Uhrzeit angeben, z. B. 09:30.": "Please give a time, e.g. 09:30.",
    "Bitte eine Dauer aus der Liste wählen.": "Please pick a duration from the list.",
    "Bitte wählen: vor Ort, Telefon oder Video.": "Please choose: in person, phone or video.",
    "Bitte einen Ort aus der Liste wählen oder eine Adresse angeben.": (
        "Please pick a place from the list or give an address."
    ),
    "Bitte die Adresse angeben.": "Please give the address.",
    "Bitte die geografische Breite angeben, z. B. 51.7553.": (
        "Please give the latitude, e.g. 51.7553."
    ),
    "Bitte die geografische Länge angeben, z. B. 8.0403.": (
        "Please give the longitude, e.g. 8.0403."
    ),
    "Nur Buchstaben, Ziffern und . _ / - (bitte keine Namen).": (
        "Letters, digits and . _ / - only (no names, please)."
    ),
    "Bitte im internationalen Format, z. B. +49 2521 29-0.": (
        "Please use the international format, e.g. +49 2521 29-0."
    ),
    "Bitte einen Schwerpunkt aus der Liste wählen.": "Please pick a subject from the list.",
    "Bitte eine Angabe aus der Liste wählen.": "Please pick an option from the list.",
    "Dieser Termin liegt in der Vergangenheit.": "This appointment is in the past.",
    "Dieser Termin liegt zu weit in der Zukunft.": "This appointment is too far ahead.",
    "Eine Anfrage dauert höchstens 8 Stunden; längere bitte aufteilen.": (
        "A request lasts at most 8 hours; please split longer ones."
    ),
    "Diesen Ort gibt es nicht (mehr); bitte einen anderen wählen.": (
        "This place does not exist (any more); please pick another."
    ),
    "offen": "open",
    "angefragt": "offered",
    "erledigt": "completed",
    "storniert": "cancelled",
    "wartet": "pending",
    "angenommen": "accepted",
    "abgelehnt": "declined",
    "abgelaufen": "expired",
    "zurückgezogen": "withdrawn",
    "zurückgegeben": "given back",
    "zurückgenommen": "taken back",
    "wird gesendet": "sending",
    "gesendet": "sent",
    "zugestellt": "delivered",
    "fehlgeschlagen": "failed",
    "nur protokolliert": "logged only",
    "KW": "Wk",
    "Kontinuität": "continuity",
    "Sprachniveau": "language level",
    "wenig Einsätze zuletzt": "few jobs lately",
    "Muttersprache": "native",
    "fließend": "fluent",
    "Grundkenntnisse": "basic",
    "Auto": "car",
    "Fahrrad": "bike",
    "zu Fuß": "on foot",
    "Bus und Bahn": "public transport",
}


def translate(text: str, lang: str) -> str:
    if lang != "en":
        return text
    return EN.get(text, text)
