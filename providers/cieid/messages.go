package cieid

// Messages returns every user-facing message key this package uses (key -> language ->
// text), for the broker's catalogue: the engine's keys under "cieid.", the CIE ID server's
// error codes, and the chooser entry "cieid" (the "Entra con CIE" button).
func Messages() map[string]map[string]string {
	return map[string]map[string]string{
		"cieid.unknown_request": {
			"it": "La risposta di CIE ID non corrisponde a un accesso in corso (scaduto o già usato). Ricomincia l'accesso.",
			"en": "The CIE ID response does not match a sign-in in progress (expired or already used). Please start again.",
		},
		"cieid.invalid_response": {
			"it": "Autenticazione non riuscita: la risposta di CIE ID non è valida.",
			"en": "Authentication failed: the CIE ID response is not valid.",
		},
		"cieid.level_not_reached": {
			"it": "Il livello di sicurezza usato con CIE ID non è sufficiente per questo servizio. Accedi con la carta (livello 3).",
			"en": "The security level used with CIE ID is not enough for this service. Please sign in with the card itself (level 3).",
		},
		"cieid.unavailable": {
			"it": "L'accesso con CIE ID è temporaneamente non disponibile. Riprova tra poco.",
			"en": "Signing in with CIE ID is temporarily unavailable. Please try again shortly.",
		},
		"cieid.idp_error": {
			"it": "CIE ID non ha completato l'autenticazione.",
			"en": "CIE ID did not complete the authentication.",
		},
		"cieid.nr21": {
			"it": "Tempo scaduto durante l'autenticazione con CIE ID: completala entro il tempo previsto. Ricomincia l'accesso.",
			"en": "The CIE ID authentication timed out: it must be completed in time. Please start again.",
		},
		"cieid.nr22": {
			"it": "Non hai dato il consenso all'invio dei tuoi dati al servizio: senza il consenso non puoi accedere.",
			"en": "You did not consent to sending your data to the service: without consent you cannot sign in.",
		},
		"cieid.nr23": {
			"it": "La tua Carta d'Identità Elettronica risulta scaduta o revocata. Per assistenza scrivi a cie.cittadini@interno.it.",
			"en": "Your Electronic Identity Card is expired or revoked. For help write to cie.cittadini@interno.it.",
		},
		"cieid.nr25": {
			"it": "Hai annullato l'accesso con CIE ID: nessun dato è stato inviato al servizio. Puoi riprovare, anche con un'altra credenziale, oppure tornare al servizio.",
			"en": "You cancelled the sign-in with CIE ID: no data was sent to the service. You can try again, with another credential if you wish, or go back to the service.",
		},
		"chooser.name.cieid": {
			"it": "CIE ID, Entra con CIE",
			"en": "CIE ID, sign in with CIE",
		},
		"chooser.button.cieid": {
			"it": "Entra con CIE",
			"en": "Sign in with CIE",
		},
		"chooser.who.cieid": {
			"it": "Per chi ha la Carta d'Identità Elettronica: con lo smartphone NFC o l'app CieID e il PIN della carta, senza lettore.",
			"en": "For holders of the Electronic Identity Card (CIE): with an NFC smartphone or the CieID app and the card's PIN, no card reader needed.",
		},
	}
}
