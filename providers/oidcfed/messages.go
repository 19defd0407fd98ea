package oidcfed

// Messages returns the user-facing messages of this package (key → language → text).
func Messages() map[string]map[string]string {
	return map[string]map[string]string{
		"oidcfed.no_op": {
			"it": "Il gestore di identità scelto non è al momento disponibile nella federazione.",
			"en": "The identity provider chosen is not available in the federation at the moment.",
		},
		"oidcfed.denied": {
			"it": "Il gestore di identità non ha autenticato la persona.",
			"en": "The identity provider did not authenticate the person.",
		},
	}
}
