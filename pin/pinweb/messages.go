package pinweb

import "github.com/inps/sportello/broker/ui"

// catalogue holds every text of the pages, keyed by message key, in Italian and English.
var catalogue = ui.Pairs{
	"pin.name":                  {"PIN INPS", "INPS PIN"},
	"pin.description":           {"Solo per i residenti all'estero: codice fiscale e PIN rilasciato dall'INPS.", "Only for people living abroad: fiscal code and PIN issued by INPS."},
	"hint.fiscal_code":          {"16 caratteri, ad esempio RSSMRA80A01H501U.", "16 characters, for example RSSMRA80A01H501U."},
	"hint.pin":                  {"Il PIN di 8 caratteri (16 al primo accesso), lettere e cifre.", "Your 8-character PIN (16 at first access), letters and digits."},
	"form.links":                {"Altri servizi PIN", "Other PIN services"},
	"lang.other":                {"English", "Italiano"},
	"field.fiscal_code":         {"Codice fiscale", "Fiscal code"},
	"field.pin":                 {"PIN", "PIN"},
	"field.current_pin":         {"PIN attuale (8 o 16 caratteri)", "Current PIN (8 or 16 characters)"},
	"field.new_pin":             {"Nuovo PIN (8 lettere o cifre)", "New PIN (8 letters or digits)"},
	"field.new_pin2":            {"Ripeta il nuovo PIN", "Repeat the new PIN"},
	"field.given_name":          {"Nome", "Given name"},
	"field.family_name":         {"Cognome", "Family name"},
	"field.birthdate":           {"Data di nascita (AAAA-MM-GG)", "Date of birth (YYYY-MM-DD)"},
	"field.birth_place":         {"Luogo di nascita", "Place of birth"},
	"field.residence":           {"Indirizzo di residenza (per la seconda parte del PIN)", "Address of residence (for the second half of the PIN)"},
	"field.country":             {"Paese di residenza", "Country of residence"},
	"field.resident_abroad":     {"Risiedo all'estero", "I live abroad"},
	"field.italian_id_document": {"Ho un documento d'identità italiano", "I have an Italian identity document"},
	"field.mobile":              {"Cellulare", "Mobile phone"},
	"field.email":               {"E-mail", "E-mail"},
	"field.pec":                 {"PEC", "PEC (certified e-mail)"},
	"field.hc_number":           {"Numero della tessera sanitaria", "Health card number"},
	"field.hc_expiry":           {"Scadenza della tessera sanitaria (AAAA-MM-GG)", "Health card expiry (YYYY-MM-DD)"},
	"field.validity":            {"Validità", "Validity"},
	"field.document":            {"Modulo firmato e documento d'identità (un file PDF, JPEG o PNG, massimo 1 MB)", "Signed form and identity document (one PDF, JPEG or PNG file, at most 1 MB)"},
	"validity.1d":               {"un giorno", "one day"},
	"validity.1w":               {"una settimana", "one week"},
	"validity.1m":               {"un mese", "one month"},
	"validity.3m":               {"tre mesi", "three months"},

	"login.title":  {"Accedi con il PIN INPS", "Log in with the INPS PIN"},
	"login.intro":  {"Inserisca il codice fiscale e il PIN.", "Enter your fiscal code and PIN."},
	"login.submit": {"Accedi", "Log in"},
	"login.links":  {"Altre operazioni sul PIN", "Other PIN operations"},

	"first.title":   {"Primo accesso: scelga il suo PIN", "First access: choose your PIN"},
	"first.intro":   {"Il PIN di 16 caratteri vale solo per il primo accesso. Scelga un PIN di 8 lettere o cifre, che non contenga il suo nome né 8 caratteri consecutivi del codice fiscale.", "The 16-character PIN only works for the first access. Choose a PIN of 8 letters or digits, not containing your name nor 8 consecutive characters of your fiscal code."},
	"renew.title":   {"PIN scaduto: scelga un nuovo PIN", "PIN expired: choose a new PIN"},
	"renew.intro":   {"Il suo PIN è scaduto. Scelga un nuovo PIN di 8 lettere o cifre: darà accesso agli stessi servizi.", "Your PIN has expired. Choose a new PIN of 8 letters or digits: it gives access to the same services."},
	"change.submit": {"Salva il nuovo PIN", "Save the new PIN"},
	"change.done":   {"Il nuovo PIN è attivo.", "Your new PIN is active."},

	"activate.title":  {"Attiva il PIN", "Activate your PIN"},
	"activate.intro":  {"Attivi il PIN entro 90 giorni dal rilascio con i dati della tessera sanitaria.", "Activate the PIN within 90 days of issue with your health card data."},
	"activate.submit": {"Attiva", "Activate"},
	"activate.done":   {"Il PIN è attivo. Al primo accesso sceglierà il suo PIN di 8 caratteri.", "Your PIN is active. At first access you will choose your 8-character PIN."},

	"request.title":  {"Richiedi il PIN", "Request a PIN"},
	"request.intro":  {"Il PIN è rilasciato solo ai residenti all'estero privi di un documento d'identità italiano. La prima parte arriva per SMS o e-mail, la seconda per posta.", "The PIN is issued only to residents abroad without an Italian identity document. The first half arrives by SMS or e-mail, the second by post."},
	"request.submit": {"Invia la richiesta", "Send the request"},
	"request.done":   {"La richiesta è stata presa in carico: riceverà la prima parte del PIN sul cellulare o per e-mail e la seconda parte per posta.", "Your request was accepted: you will receive the first half of the PIN on your mobile or by e-mail and the second half by post."},

	"lost.title":     {"PIN smarrito", "Lost PIN"},
	"lost.intro":     {"Inserisca il codice fiscale e almeno due dei tre contatti registrati.", "Enter your fiscal code and at least two of your three registered contacts."},
	"lost.submit":    {"Invia", "Send"},
	"lost.done":      {"Se i dati corrispondono a un PIN, riceverà per e-mail o PEC un collegamento per ripristinarlo.", "If the data match a PIN, you will receive by e-mail or PEC a link to restore it."},
	"recover.title":  {"Ripristino del PIN", "Restore your PIN"},
	"recover.intro":  {"Confermi per ricevere un nuovo PIN: i primi 8 caratteri per SMS, gli altri 8 per e-mail.", "Confirm to receive a new PIN: the first 8 characters by SMS, the other 8 by e-mail."},
	"recover.submit": {"Conferma", "Confirm"},
	"recover.done":   {"Il nuovo PIN è stato inviato. Al primo accesso sceglierà il suo PIN di 8 caratteri.", "Your new PIN was sent. At first access you will choose your 8-character PIN."},

	"revoke.title":  {"Revoca il PIN", "Revoke your PIN"},
	"revoke.intro":  {"Senza i contatti registrati può revocare il PIN con i dati della tessera sanitaria, oppure rivolgersi a una sede INPS.", "Without your registered contacts you can revoke the PIN with your health card data, or go to an INPS office."},
	"revoke.submit": {"Revoca", "Revoke"},
	"revoke.done":   {"Se i dati corrispondono a un PIN, il PIN è stato revocato.", "If the data match a PIN, the PIN has been revoked."},

	"phone.title":  {"PIN telefonico", "Phone PIN"},
	"phone.intro":  {"Il PIN telefonico permette agli operatori del Contact Center di identificarla. Un nuovo PIN annulla il precedente. Non vale per l'accesso al sito.", "The phone PIN lets Contact Center operators identify you. A new PIN cancels the previous one. It does not work for logging in to the site."},
	"phone.submit": {"Genera", "Generate"},
	"phone.done":   {"Il suo PIN telefonico è {pin}, valido fino al {until}. Lo annoti: non sarà mostrato di nuovo.", "Your phone PIN is {pin}, valid until {until}. Write it down: it will not be shown again."},
	"phone.login":  {"Per generare il PIN telefonico acceda con SPID, CIE o CNS.", "To generate a phone PIN, log in with SPID, CIE or CNS."},

	"convert.title":  {"Richiedi il PIN dispositivo", "Request a PIN dispositivo"},
	"convert.intro":  {"Il PIN dispositivo serve per presentare domande. Carichi il modulo firmato con la copia del documento d'identità; un operatore INPS verificherà la richiesta.", "A PIN dispositivo is needed to submit applications. Upload the signed form with a copy of your identity document; an INPS operator will check the request."},
	"convert.submit": {"Invia la richiesta", "Send the request"},
	"convert.done":   {"Richiesta ricevuta. Le comunicheremo l'esito per e-mail o SMS.", "Request received. We will tell you the outcome by e-mail or SMS."},

	"err.wrong_pin":          {"Codice fiscale o PIN errati. Per sicurezza l'accesso è bloccato fino alle {until} (ora italiana).", "Wrong fiscal code or PIN. For your security, access is locked until {until} (Italian time)."},
	"err.locked":             {"Troppi tentativi errati: l'accesso è bloccato fino alle {until} (ora italiana). Riprovi dopo quell'ora.", "Too many wrong attempts: access is locked until {until} (Italian time). Try again after that time."},
	"err.busy":               {"È in corso un altro tentativo di accesso con questo codice fiscale. Riprovi tra qualche secondo.", "Another login attempt with this fiscal code is in progress. Try again in a few seconds."},
	"err.invalid_input":      {"Dati non validi: controlli il codice fiscale e gli altri campi.", "Invalid data: check the fiscal code and the other fields."},
	"err.activation_expired": {"Il PIN non è stato attivato entro 90 giorni ed è scaduto: ne richieda uno nuovo.", "The PIN was not activated within 90 days and has expired: request a new one."},
	"err.not_active":         {"Il PIN non è ancora attivo: attenda la telefonata di conferma dell'INPS.", "The PIN is not active yet: wait for the INPS confirmation call."},
	"err.revoked":            {"Il PIN è stato revocato. Ne richieda uno nuovo o si rivolga a una sede INPS.", "The PIN has been revoked. Request a new one or go to an INPS office."},
	"err.disabled":           {"L'accesso con PIN non è più disponibile per lei: usi SPID, CIE o CNS.", "PIN login is no longer available to you: use SPID, CIE or CNS."},
	"err.not_eligible":       {"Il PIN è rilasciato solo ai residenti all'estero privi di un documento d'identità italiano: usi SPID, CIE o CNS.", "The PIN is issued only to residents abroad without an Italian identity document: use SPID, CIE or CNS."},
	"err.has_pin":            {"Per questo codice fiscale esiste già un PIN. Se l'ha smarrito usi la procedura PIN smarrito.", "A PIN already exists for this fiscal code. If you lost it, use the lost PIN procedure."},
	"err.rule.length":        {"Il nuovo PIN deve avere esattamente 8 caratteri.", "The new PIN must have exactly 8 characters."},
	"err.rule.alphanumeric":  {"Il nuovo PIN può contenere solo lettere e cifre.", "The new PIN may hold only letters and digits."},
	"err.rule.fiscal_code":   {"Il nuovo PIN non può contenere 8 caratteri consecutivi del codice fiscale.", "The new PIN may not hold 8 consecutive characters of your fiscal code."},
	"err.rule.name":          {"Il nuovo PIN non può contenere il suo nome o cognome.", "The new PIN may not hold your given or family name."},
	"err.rule.same_as_old":   {"Il nuovo PIN deve essere diverso dal precedente.", "The new PIN must differ from the previous one."},
	"err.rule.mismatch":      {"I due nuovi PIN non coincidono.", "The two new PINs differ."},
	"err.document":           {"Documento non accettato: serve un solo file PDF, JPEG o PNG di al massimo 1 MB.", "Document refused: one PDF, JPEG or PNG file of at most 1 MB is needed."},
	"err.page_not_found":     {"Questa pagina non esiste. Scelga una delle voci qui sotto.", "This page does not exist. Choose one of the items below."},
	"err.bad_state":          {"Operazione non possibile nello stato attuale del PIN.", "This operation is not possible in the PIN's current state."},
	"err.recovery":           {"Il collegamento non è valido o è scaduto: ripeta la procedura PIN smarrito.", "The link is invalid or expired: repeat the lost PIN procedure."},
	"err.needs_strong_login": {"Serve un accesso con SPID, CIE o CNS.", "A SPID, CIE or CNS login is needed."},
	"err.login_expired":      {"La richiesta di accesso è scaduta: torni al servizio e riprovi.", "The login request has expired: go back to the service and try again."},
	"err.csrf":               {"Il modulo è scaduto: lo ricarichi e riprovi.", "The form has expired: reload it and try again."},
	"err.unavailable":        {"Servizio momentaneamente non disponibile: riprovi più tardi.", "Service temporarily unavailable: try again later."},
}

// Messages returns the catalogue: key → language ("it", "en") → text. Placeholders are
// written {name}.
func Messages() map[string]map[string]string { return catalogue.Messages("") }

// text returns the message key in lang with its placeholders filled.
func text(lang, key string, args map[string]string) string { return catalogue.Text(lang, key, args) }
