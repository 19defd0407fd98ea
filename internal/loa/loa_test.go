package loa

import "testing"

func TestLevelsAndURIsMapBothWays(t *testing.T) {
	for i, acr := range All() {
		if LevelOf(acr) != i+1 || ACRForLevel(i+1) != acr {
			t.Errorf("%s: level %d, back %q", acr, LevelOf(acr), ACRForLevel(i+1))
		}
	}
}

func TestAnythingElseHasNoLevel(t *testing.T) {
	for _, acr := range []string{"", "SpidL2", "https://www.spid.gov.it/SpidL4", "https://www.spid.gov.it/spidl2",
		"https://www.spid.gov.it/SpidL2 ", "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"} {
		if l := LevelOf(acr); l != 0 {
			t.Errorf("%q: level %d, want 0", acr, l)
		}
	}
	for _, l := range []int{-1, 0, 4} {
		if acr := ACRForLevel(l); acr != "" {
			t.Errorf("level %d: %q, want none", l, acr)
		}
	}
}
