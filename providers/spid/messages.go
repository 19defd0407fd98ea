package spid

// Messages returns every user-facing message key this package uses (key -> language -> text),
// for the broker's catalogue.
func Messages() map[string]map[string]string {
	return map[string]map[string]string{
		"spid.choose_idp": {
			"it": "Scegli il tuo gestore di identità digitale SPID.",
			"en": "Choose your SPID digital identity provider.",
		},
		"spid.unknown_idp": {
			"it": "Il gestore di identità SPID indicato non è disponibile. Scegline un altro o riprova più tardi.",
			"en": "The SPID identity provider you chose is not available. Choose another one or try again later.",
		},
		"spid.unknown_request": {
			"it": "La risposta del gestore SPID non corrisponde a un accesso in corso (scaduto o già usato). Ricomincia l'accesso.",
			"en": "The SPID response does not match a sign-in in progress (expired or already used). Please start again.",
		},
		"spid.invalid_response": {
			"it": "Autenticazione non riuscita: la risposta del gestore SPID non è valida.",
			"en": "Authentication failed: the SPID identity provider's response is not valid.",
		},
		"spid.level_not_reached": {
			"it": "Il livello di sicurezza SPID usato non è sufficiente per questo servizio. Accedi con un livello SPID più alto.",
			"en": "The SPID security level used is not enough for this service. Please sign in with a higher SPID level.",
		},
		"spid.unavailable": {
			"it": "L'accesso con SPID è temporaneamente non disponibile. Riprova tra poco.",
			"en": "Signing in with SPID is temporarily unavailable. Please try again shortly.",
		},
		"spid.idp_error": {
			"it": "Il gestore di identità SPID non ha completato l'autenticazione.",
			"en": "The SPID identity provider did not complete the authentication.",
		},
		"spid.nr19": {
			"it": "Autenticazione non riuscita per ripetuto inserimento di credenziali errate.",
			"en": "Authentication failed: wrong credentials were entered repeatedly.",
		},
		"spid.nr20": {
			"it": "Non possiedi credenziali SPID del livello richiesto dal servizio.",
			"en": "You do not have SPID credentials of the level the service requires.",
		},
		"spid.nr21": {
			"it": "Tempo scaduto durante l'autenticazione. Ricomincia l'accesso.",
			"en": "The authentication timed out. Please start again.",
		},
		"spid.nr22": {
			"it": "Non hai dato il consenso all'invio dei dati al servizio.",
			"en": "You did not consent to sending your data to the service.",
		},
		"spid.nr23": {
			"it": "La tua identità SPID è sospesa o revocata. Contatta il tuo gestore di identità.",
			"en": "Your SPID identity is suspended or revoked. Please contact your identity provider.",
		},
		"spid.nr25": {
			"it": "Hai annullato l'accesso presso il gestore di identità SPID: nessun dato è stato inviato al servizio. Puoi riprovare, anche con un altro gestore o un'altra credenziale, oppure tornare al servizio.",
			"en": "You cancelled the sign-in at your SPID identity provider: no data was sent to the service. You can try again, with another provider or credential if you wish, or go back to the service.",
		},
		"spid.nr30": {
			"it": "Il tipo di identità SPID usato non è accettato dal servizio.",
			"en": "The type of SPID identity you used is not accepted by the service.",
		},
	}
}
