package eidas

// Messages returns every user-facing message key this package uses (key -> language ->
// text): the engine's keys under "eidas.", the node's error codes (SPID's), and the chooser
// entry "eidas" ("Login with eIDAS").
func Messages() map[string]map[string]string {
	m := map[string]map[string]string{
		"eidas.unknown_request": {
			"it": "La risposta del nodo eIDAS non corrisponde a un accesso in corso (scaduto o già usato). Ricomincia l'accesso.",
			"en": "The eIDAS node's response does not match a sign-in in progress (expired or already used). Please start again.",
		},
		"eidas.invalid_response": {
			"it": "Autenticazione non riuscita: la risposta del nodo eIDAS non è valida.",
			"en": "Authentication failed: the eIDAS node's response is not valid.",
		},
		"eidas.level_not_reached": {
			"it": "Il livello di garanzia dell'identità digitale usata non è sufficiente per questo servizio: serve almeno il livello \"significativo\" (substantial).",
			"en": "The level of assurance of the digital identity you used is not enough for this service: at least \"substantial\" is required.",
		},
		"eidas.unavailable": {
			"it": "L'accesso con eIDAS è temporaneamente non disponibile. Riprova tra poco.",
			"en": "Signing in with eIDAS is temporarily unavailable. Please try again shortly.",
		},
		"eidas.idp_error": {
			"it": "Il nodo eIDAS non ha completato l'autenticazione.",
			"en": "The eIDAS node did not complete the authentication.",
		},
		"eidas.nr19": {
			"it": "Autenticazione non riuscita per ripetuto inserimento di credenziali errate.",
			"en": "Authentication failed: wrong credentials were entered repeatedly.",
		},
		"eidas.nr20": {
			"it": "La tua identità digitale non ha il livello di garanzia richiesto dal servizio.",
			"en": "Your digital identity does not have the level of assurance the service requires.",
		},
		"eidas.nr21": {
			"it": "Tempo scaduto durante l'autenticazione. Ricomincia l'accesso.",
			"en": "The authentication timed out. Please start again.",
		},
		"eidas.nr22": {
			"it": "Non hai dato il consenso all'invio dei dati al servizio.",
			"en": "You did not consent to sending your data to the service.",
		},
		"eidas.nr23": {
			"it": "La tua identità digitale è sospesa o revocata. Contatta chi te l'ha rilasciata.",
			"en": "Your digital identity is suspended or revoked. Please contact its issuer.",
		},
		"eidas.nr25": {
			"it": "Hai annullato l'accesso con eIDAS: nessun dato è stato inviato al servizio. Puoi riprovare, anche con un'altra credenziale, oppure tornare al servizio.",
			"en": "You cancelled the sign-in with eIDAS: no data was sent to the service. You can try again, with another credential if you wish, or go back to the service.",
		},
		"eidas.nr30": {
			"it": "Il tipo di identità digitale usato non è accettato dal servizio.",
			"en": "The type of digital identity you used is not accepted by the service.",
		},
		"chooser.name.eidas": {
			"it": "eIDAS, identità digitale europea",
			"en": "eIDAS, European digital identity",
		},
		"chooser.button.eidas": {
			"it": "Login with eIDAS",
			"en": "Login with eIDAS",
		},
		"chooser.who.eidas": {
			"it": "Per i cittadini di un altro Paese dell'Unione europea con l'identità digitale del proprio Paese.",
			"en": "For citizens of another European Union country with their own country's digital identity.",
		},
	}
	return m
}
