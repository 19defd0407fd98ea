package web

// Messages returns the texts of the layout and of the built-in pages: key → language → text.
// The broker adds its own and the providers' catalogues on top (see New).
func Messages() map[string]map[string]string {
	out := make(map[string]map[string]string, len(layoutMessages))
	for k, v := range layoutMessages {
		out[k] = map[string]string{"it": v[0], "en": v[1]}
	}
	return out
}

var layoutMessages = map[string][2]string{
	"page.org":               {"Istituto Nazionale della Previdenza Sociale", "Italian National Social Security Institute"},
	"page.org_short":         {"INPS", "INPS"},
	"page.service":           {"Accesso ai servizi online", "Sign-in to the online services"},
	"page.footer":            {"Per assistenza chiama il Contact Center: 803 164 da rete fissa (gratuito), 06 164 164 da cellulare o dall'estero.", "For help call the Contact Center: 803 164 from an Italian landline (free), +39 06 164 164 from a mobile phone or from abroad."},
	"page.skip":              {"Vai al contenuto", "Skip to content"},
	"page.lang_switch":       {"English", "Italiano"},
	"error.what":             {"Che cosa è successo", "What happened"},
	"error.next":             {"Che cosa puoi fare", "What you can do"},
	"error.retry":            {"Riprova, anche con un'altra credenziale", "Try again, with another credential if you wish"},
	"error.back":             {"Torna al servizio", "Go back to the service"},
	"error.helpdesk":         {"Se il problema continua, contatta il Contact Center indicando il codice di riferimento qui sotto.", "If the problem persists, contact the Contact Center quoting the reference code below."},
	"error.reference":        {"Codice di riferimento per l'assistenza", "Reference code for the help desk"},
	"postform.title":         {"Passaggio al gestore dell'identità digitale", "On to your digital identity provider"},
	"postform.intro":         {"Stai per passare al gestore della tua identità digitale. Se la pagina non cambia da sola, premi il pulsante.", "You are going on to your digital identity provider. If the page does not change by itself, press the button."},
	"postform.continue":      {"Prosegui", "Continue"},
	"form.links":             {"Altri servizi PIN", "Other PIN services"},
	"status.not_found.title": {"Pagina non trovata", "Page not found"},
	"status.not_found":       {"L'indirizzo aperto non corrisponde a nessuna pagina dei servizi online INPS. Controlla di averlo scritto bene oppure torna al sito del servizio e ricomincia da lì.", "The address you opened is not a page of the INPS online services. Check that it is written correctly, or go back to the service's site and start again from there."},
	"status.method.title":    {"Richiesta non valida", "Request not valid"},
	"status.method":          {"Questa pagina non accetta la richiesta inviata (ad esempio un modulo inviato due volte o da un'altra pagina). Torna indietro e ricarica la pagina.", "This page does not accept the request sent (for example a form sent twice or from another page). Go back and reload the page."},
	"form.required":          {"(obbligatorio)", "(required)"},
	"form.optional":          {"(facoltativo)", "(optional)"},
	"form.error_prefix":      {"Errore:", "Error:"},
}
