package loa

// Levels of assurance, as they appear in the acr claim and in acr_values.
const (
	SpidL1 = "https://www.spid.gov.it/SpidL1"
	SpidL2 = "https://www.spid.gov.it/SpidL2"
	SpidL3 = "https://www.spid.gov.it/SpidL3"
)

// All lists the level URIs from the lowest to the highest (a new slice each call).
func All() []string { return []string{SpidL1, SpidL2, SpidL3} }

// Comparisons of the level reached with the level asked (SAML's AuthnContext Comparison).
const (
	// Minimum: the level reached must be at least the level asked (the default).
	Minimum = "minimum"
	// Exact: the level reached must be the level asked.
	Exact = "exact"
)

// LevelOf returns 1, 2 or 3 for a SpidLx URI and 0 for anything else.
func LevelOf(acr string) int {
	switch acr {
	case SpidL1:
		return 1
	case SpidL2:
		return 2
	case SpidL3:
		return 3
	}
	return 0
}

// ACRForLevel returns the SpidLx URI for level 1..3 and "" otherwise.
func ACRForLevel(level int) string {
	switch level {
	case 1:
		return SpidL1
	case 2:
		return SpidL2
	case 3:
		return SpidL3
	}
	return ""
}
