package x509auth

// Messages returns the texts of the reason codes for the broker's catalogue, keyed by code and
// then by language ("it", "en"). Each says what happened and what to do next.
func Messages() map[string]map[string]string {
	return map[string]map[string]string{
		ReasonMissing: {
			"it": "Il browser non ha presentato alcun certificato. Inserisci la carta nel lettore, verifica che il software della carta sia installato e riprova.",
			"en": "Your browser did not present a certificate. Insert the card in the reader, check that the card software is installed and try again.",
		},
		ReasonExpired: {
			"it": "Il certificato della carta è scaduto. Rinnova la carta presso l'ente che l'ha rilasciata oppure accedi con SPID.",
			"en": "The card's certificate has expired. Renew the card with the authority that issued it, or sign in with SPID.",
		},
		ReasonNotYetValid: {
			"it": "Il certificato della carta non è ancora valido. Controlla data e ora del computer e riprova più tardi.",
			"en": "The card's certificate is not valid yet. Check your computer's date and time and try again later.",
		},
		ReasonRevoked: {
			"it": "Il certificato della carta è stato revocato. Rivolgiti all'ente che ha rilasciato la carta oppure accedi con SPID.",
			"en": "The card's certificate has been revoked. Contact the authority that issued the card, or sign in with SPID.",
		},
		ReasonUnknownCA: {
			"it": "La carta è stata rilasciata da un'autorità non riconosciuta. Usa una CIE o una CNS valida oppure accedi con SPID.",
			"en": "The card was issued by an authority we do not recognise. Use a valid CIE or CNS card, or sign in with SPID.",
		},
		ReasonWrongPolicy: {
			"it": "Il certificato presentato non è un certificato di autenticazione CIE o CNS. Scegli il certificato di autenticazione della carta e riprova.",
			"en": "The certificate presented is not a CIE or CNS authentication certificate. Choose the card's authentication certificate and try again.",
		},
		ReasonNoClientAuth: {
			"it": "Il certificato presentato non è abilitato all'autenticazione. Scegli il certificato di autenticazione della carta e riprova.",
			"en": "The certificate presented is not enabled for authentication. Choose the card's authentication certificate and try again.",
		},
		ReasonKeyUsage: {
			"it": "Il certificato presentato non è abilitato alla firma di autenticazione. Scegli il certificato di autenticazione della carta e riprova.",
			"en": "The certificate presented may not be used for authentication signatures. Choose the card's authentication certificate and try again.",
		},
		ReasonRevocationUnavailable: {
			"it": "Non è stato possibile verificare se il certificato è stato revocato. Riprova tra qualche minuto oppure accedi con SPID.",
			"en": "We could not check whether the certificate has been revoked. Try again in a few minutes, or sign in with SPID.",
		},
		ReasonInvalidFiscalCode: {
			"it": "Il codice fiscale contenuto nel certificato non è valido. Rivolgiti all'ente che ha rilasciato la carta oppure accedi con SPID.",
			"en": "The fiscal code in the certificate is not valid. Contact the authority that issued the card, or sign in with SPID.",
		},
		ReasonNoFiscalCode: {
			"it": "Il certificato non contiene un codice fiscale. Scegli il certificato di autenticazione della carta oppure accedi con SPID.",
			"en": "The certificate carries no fiscal code. Choose the card's authentication certificate, or sign in with SPID.",
		},
		ReasonCACertificate: {
			"it": "Il certificato presentato è quello di un'autorità di certificazione, non di una carta. Scegli il certificato di autenticazione della carta e riprova.",
			"en": "The certificate presented belongs to a certification authority, not to a card. Choose the card's authentication certificate and try again.",
		},
		ReasonCertSign: {
			"it": "Il certificato presentato può firmare altri certificati, quindi non è il certificato di autenticazione di una carta. Scegli il certificato di autenticazione della carta oppure accedi con SPID.",
			"en": "The certificate presented can sign other certificates, so it is not a card's authentication certificate. Choose the card's authentication certificate, or sign in with SPID.",
		},
	}
}
