package broker

import (
	"net/http"
	"strings"

	"golang.org/x/text/language"

	"github.com/inps/sportello/internal/web"
)

// languages the pages speak; Italian is the default.
var supportedLangs = []language.Tag{language.Italian, language.English}

var langMatcher = language.NewMatcher(supportedLangs)

// catalogue holds every user-facing message in Italian and English (key → lang → text): the
// layout's (internal/web), the broker's and the providers'. It renders the pages too.
type catalogue struct {
	ui *web.Renderer
}

func newCatalogue(extra map[string]map[string]string) *catalogue {
	return &catalogue{ui: web.New(baseMessages, extra)}
}

// T returns the message for key in lang, falling back to Italian, then to a generic message
// (never the raw key: a person must always read a sentence).
func (c *catalogue) T(lang, key string) string { return c.ui.T(lang, key) }

// Keys lists every key (for the completeness test).
func (c *catalogue) Keys() []string { return c.ui.Keys() }

func (c *catalogue) msgs() map[string]map[string]string { return c.ui.Catalogue() }

// Messages returns the broker's own catalogue (key → language → text), for the completeness
// test that walks every catalogue.
func Messages() map[string]map[string]string {
	out := make(map[string]map[string]string, len(baseMessages)+len(actForMessages))
	for k, v := range baseMessages {
		out[k] = v
	}
	for k, v := range actForMessages {
		out[k] = v
	}
	return out
}

// pickLang chooses the page language: the switch (?lang=), then the language the person chose
// with it earlier (the cookie), then the pending login's language (loginLang: the relying
// party's ui_locales, or what this list gave at /authorize), then Accept-Language, then
// Italian. The person's own choice always beats what a relying party asked.
func (b *Broker) pickLang(r *http.Request, loginLang string) string {
	if l := r.URL.Query().Get("lang"); l == "it" || l == "en" {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "it" || c.Value == "en") {
		return c.Value
	}
	for _, l := range strings.Fields(loginLang) {
		if t, err := language.Parse(l); err == nil {
			if base, _ := t.Base(); base.String() == "it" || base.String() == "en" {
				return base.String()
			}
		}
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		tags, _, err := language.ParseAcceptLanguage(al)
		if err == nil && len(tags) > 0 {
			_, idx, conf := langMatcher.Match(tags...)
			if conf != language.No {
				base, _ := supportedLangs[idx].Base()
				return base.String()
			}
		}
	}
	return "it"
}

var baseMessages = map[string]map[string]string{
	"logout.confirm":            {"it": "Vuoi uscire dai servizi online INPS?", "en": "Do you want to sign out of the INPS online services?"},
	"logout.confirm_title":      {"it": "Uscita dai servizi online", "en": "Signing out"},
	"logout.submit":             {"it": "Esci", "en": "Sign out"},
	"login.already_finished":    {"it": "Questa procedura di accesso è già stata completata. Torna al servizio e ricomincia.", "en": "This sign-in has already been completed. Go back to the service and start again."},
	"chooser.title":             {"it": "Accedi ai servizi online INPS", "en": "Sign in to INPS online services"},
	"chooser.service":           {"it": "Stai accedendo a:", "en": "You are signing in to:"},
	"chooser.intro":             {"it": "Scegli come vuoi identificarti.", "en": "Choose how you want to identify yourself."},
	"chooser.level":             {"it": "Il servizio richiede almeno il livello di sicurezza %s.", "en": "The service requires at least security level %s."},
	"chooser.hidden":            {"it": "Credenziali non disponibili per questo accesso", "en": "Credentials not available for this sign-in"},
	"chooser.no_options":        {"it": "nessun gestore di identità è raggiungibile in questo momento. Riprova tra qualche minuto o usa un'altra credenziale.", "en": "no identity provider can be reached right now. Try again in a few minutes or use another credential."},
	"chooser.none":              {"it": "Nessuna credenziale configurata raggiunge il livello richiesto dal servizio.", "en": "No configured credential reaches the level the service requires."},
	"chooser.hidden_why":        {"it": "arriva al massimo a %s, il servizio richiede %s.", "en": "reaches at most %s, the service requires %s."},
	"chooser.enter":             {"it": "Entra con %s", "en": "Sign in with %s"},
	"chooser.name.spid":         {"it": "SPID, Sistema Pubblico di Identità Digitale", "en": "SPID, the Public Digital Identity System"},
	"chooser.name.cie":          {"it": "CIE, Carta d'Identità Elettronica", "en": "CIE, Electronic Identity Card"},
	"chooser.name.cns":          {"it": "CNS, Carta Nazionale dei Servizi", "en": "CNS, National Services Card"},
	"chooser.name.pin":          {"it": "PIN INPS", "en": "INPS PIN"},
	"chooser.button.spid":       {"it": "Entra con SPID", "en": "Sign in with SPID"},
	"chooser.button.cie":        {"it": "Entra con CIE", "en": "Sign in with CIE"},
	"chooser.button.cns":        {"it": "Entra con CNS", "en": "Sign in with CNS"},
	"chooser.button.pin":        {"it": "Entra con il PIN INPS", "en": "Sign in with the INPS PIN"},
	"chooser.spid_more":         {"it": "Maggiori informazioni su SPID", "en": "More information on SPID"},
	"chooser.spid_none":         {"it": "Non hai SPID?", "en": "No SPID yet?"},
	"chooser.spid_idps":         {"it": "Gestori di identità SPID", "en": "SPID identity providers"},
	"chooser.who.spid":          {"it": "Per tutti i cittadini con un'identità digitale SPID.", "en": "For everyone with a SPID digital identity."},
	"chooser.who.cie":           {"it": "Per chi ha la Carta d'Identità Elettronica, un lettore di carte e il PIN della carta.", "en": "For holders of the Electronic Identity Card (CIE) with a card reader and the card's PIN."},
	"chooser.who.cns":           {"it": "Per chi ha la Carta Nazionale dei Servizi (ad esempio la tessera sanitaria attivata), un lettore e il PIN della carta.", "en": "For holders of the National Services Card (CNS, for example an activated health card) with a card reader and the card's PIN."},
	"chooser.who.pin":           {"it": "Solo per i residenti all'estero senza SPID, CIE o CNS.", "en": "Only for people living abroad without SPID, CIE or CNS."},
	"session.idle":              {"it": "Per la tua sicurezza la sessione è stata chiusa dopo %d minuti di inattività: accedi di nuovo.", "en": "For your security your session was closed after %d minutes without activity: please sign in again."},
	"error.title":               {"it": "Accesso non riuscito", "en": "Sign-in failed"},
	"broker.error":              {"it": "Si è verificato un errore imprevisto. Riprova più tardi; se il problema persiste contatta l'assistenza indicando il codice di riferimento.", "en": "An unexpected error occurred. Please try again later; if the problem persists, contact the help desk quoting the reference code."},
	"broker.unavailable":        {"it": "Il servizio è temporaneamente non disponibile. Riprova tra poco.", "en": "The service is temporarily unavailable. Please try again shortly."},
	"oauth.bad_request":         {"it": "La richiesta del servizio non è valida. Torna al sito del servizio e riprova.", "en": "The service's request is not valid. Go back to the site you came from and try again."},
	"oauth.unknown_client":      {"it": "Il servizio che ha richiesto l'accesso non è registrato. Contatta il gestore del servizio.", "en": "The service that asked for the sign-in is not registered. Contact the service's operator."},
	"oauth.bad_redirect_uri":    {"it": "L'indirizzo di ritorno indicato dal servizio non è registrato: per sicurezza l'accesso è stato interrotto. Contatta il gestore del servizio.", "en": "The return address given by the service is not registered: the sign-in was stopped for your safety. Contact the service's operator."},
	"oauth.repeated_param":      {"it": "La richiesta del servizio contiene lo stesso parametro più volte: per sicurezza l'accesso è stato interrotto. Contatta il gestore del servizio.", "en": "The service's request gives the same parameter more than once: the sign-in was stopped for your safety. Contact the service's operator."},
	"oauth.request_uri":         {"it": "La richiesta del servizio è scaduta, è già stata usata o non è valida. Torna al sito del servizio e riprova.", "en": "The service's request has expired, was already used or is not valid. Go back to the site you came from and try again."},
	"oauth.request_object":      {"it": "La richiesta firmata del servizio non è valida: per sicurezza l'accesso è stato interrotto. Contatta il gestore del servizio.", "en": "The service's signed request is not valid: the sign-in was stopped for your safety. Contact the service's operator."},
	"login.expired":             {"it": "La procedura di accesso è scaduta o è già stata completata. Torna al servizio e ricomincia.", "en": "The sign-in has expired or was already completed. Go back to the service and start again."},
	"login.other_browser":       {"it": "Questa procedura di accesso è stata avviata in un altro browser. Ricomincia dal servizio in questo browser.", "en": "This sign-in was started in another browser. Start again from the service in this browser."},
	"login.switched_off":        {"it": "Questo modo di accesso è stato sospeso temporaneamente per motivi di sicurezza. Scegline un altro, o riprova più tardi.", "en": "This way of signing in has been suspended for security reasons. Choose another one, or try again later."},
	"oauth.client_switched_off": {"it": "Il servizio da cui arrivi è stato sospeso temporaneamente per motivi di sicurezza: non è possibile accedervi ora.", "en": "The service you came from has been suspended for security reasons: you cannot sign in to it now."},
	"login.unknown_idp":         {"it": "Il gestore dell'identità indicato non è disponibile. Scegline un altro.", "en": "The identity provider given is not available. Choose another one."},
	"login.level_not_reached":   {"it": "La credenziale usata non raggiunge il livello di sicurezza richiesto dal servizio. Accedi con una credenziale di livello superiore (ad esempio SPID livello 2 o 3, CIE o CNS).", "en": "The credential used does not reach the security level the service requires. Sign in with a stronger credential (for example SPID level 2 or 3, CIE or CNS)."},
	"login.level_not_available": {"it": "Questa credenziale non può raggiungere il livello di sicurezza richiesto dal servizio. Scegline un'altra.", "en": "This credential cannot reach the security level the service requires. Choose another one."},
	"login.cancelled":           {"it": "Hai annullato l'accesso: nessun dato è stato inviato al servizio.", "en": "You cancelled the sign-in: no data was sent to the service."},
	"login.cancelled_title":     {"it": "Accesso annullato", "en": "Sign-in cancelled"},
	"login.denied":              {"it": "L'accesso è stato negato. Controlla le credenziali e riprova.", "en": "Access was denied. Check your credentials and try again."},
	"login.rejected":            {"it": "La credenziale presentata non è stata accettata. Riprova o usa un'altra credenziale.", "en": "The credential presented was not accepted. Try again or use another credential."},
	"login.locked":              {"it": "L'accesso è temporaneamente bloccato dopo tentativi errati. Riprova più tardi.", "en": "Sign-in is temporarily locked after wrong attempts. Try again later."},
	"cert.missing":              {"it": "Il browser non ha presentato alcun certificato. Inserisci la carta nel lettore, controlla che il software della carta sia installato e riprova.", "en": "The browser presented no certificate. Insert the card in the reader, check that the card software is installed, and try again."},
	"logout.bad_request":        {"it": "La richiesta di uscita non è valida.", "en": "The sign-out request is not valid."},
	"logout.title":              {"it": "Uscita completata", "en": "You have signed out"},
	"logout.cancel":             {"it": "Annulla", "en": "Cancel"},
	"logout.cancelled_title":    {"it": "Uscita annullata", "en": "Sign-out cancelled"},
	"logout.cancelled":          {"it": "La sessione dei servizi online INPS resta aperta. Puoi tornare al servizio che stavi usando o chiudere questa finestra.", "en": "Your session of the INPS online services stays open. You can go back to the service you were using or close this window."},
	"logout.again":              {"it": "Accedi di nuovo", "en": "Sign in again"},
	"signin.title":              {"it": "Accesso ai servizi online INPS", "en": "Signing in to the INPS online services"},
	"signin.done":               {"it": "Accesso effettuato. Da qui puoi gestire le tue deleghe o generare il PIN telefonico.", "en": "You are signed in. From here you can manage your delegations or generate a phone PIN."},
	"signin.not_done":           {"it": "L'accesso non è stato completato.", "en": "The sign-in was not completed."},
	"signin.again":              {"it": "Accedi", "en": "Sign in"},
	"signin.links":              {"it": "Servizi disponibili", "en": "Available services"},
	"signin.deleghe":            {"it": "Le mie deleghe", "en": "My delegations"},
	"signin.phone":              {"it": "PIN telefonico", "en": "Phone PIN"},
	"logout.done":               {"it": "Hai chiuso la sessione dei servizi online INPS. Puoi chiudere questa finestra.", "en": "You have signed out of the online services. You can close this window."},
}
