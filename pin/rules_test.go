package pin

import (
	"errors"
	"testing"
)

func TestNewPINRules(t *testing.T) {
	mario := Person{FiscalCode: "RSSMRA80A01H501U", GivenName: "Mario", FamilyName: "Rossi", Birthdate: "1980-01-01"}
	// Giovanna Ferrari's record has no birth date: the fiscal code gives 10 December (19)55.
	giovanna := Person{FiscalCode: "FRRGNN55T50Z600A", GivenName: "Giovanna", FamilyName: "Ferrari"}
	tests := []struct {
		name, pin string
		holder    Person
		rule      string
	}{
		{"eight letters and digits are accepted", "K7M2P9Q4", mario, ""},
		{"two identical characters in a row are accepted", "K7MM2P9Q", mario, ""},
		{"three characters in sequence are accepted", "K123P9Q4", mario, ""},
		{"nothing wraps: 7890 is no sequence", "7890K2M4", mario, ""},
		{"a year of birth of the other century is accepted when the birth date is known", "K2080P4Q", mario, ""},
		{"seven characters are refused", "K7M2P9Q", mario, RuleLength},
		{"nine characters are refused", "K7M2P9Q41", mario, RuleLength},
		{"punctuation is refused", "K7M2P9Q!", mario, RuleAlphanumeric},
		{"11111111 is refused as repeated", "11111111", mario, RuleRepeated},
		{"the same character three times in a row is refused", "K7MMM9Q4", mario, RuleRepeated},
		{"the same digit three times in a row is refused", "K7M222Q4", mario, RuleRepeated},
		{"two characters alternating are refused for variety", "12121212", mario, RuleVariety},
		{"three different characters are refused for variety", "ABCABCAB", mario, RuleVariety},
		{"four ascending digits are refused as a sequence", "K1234P9Q", mario, RuleSequence},
		{"four descending digits are refused as a sequence", "K9876P2Q", mario, RuleSequence},
		{"four ascending letters are refused as a sequence", "ABCD7K2M", mario, RuleSequence},
		{"four descending letters are refused as a sequence", "K7ZYXW2M", mario, RuleSequence},
		{"8 consecutive characters of the fiscal code are refused", "RSSMRA80", mario, RuleFiscalCode},
		{"8 consecutive characters inside the fiscal code are refused", "80A01H50", mario, RuleFiscalCode},
		{"the fiscal code's surname letters are refused", "K7RSS9Q4", mario, RuleFiscalCode},
		{"the fiscal code's name letters are refused", "K7MRA9Q4", mario, RuleFiscalCode},
		{"4 consecutive characters of the fiscal code are refused", "K7H501Q4", mario, RuleFiscalCode},
		{"the family name is refused", "ROSSI123", mario, RuleName},
		{"the given name is refused", "X1MARIO2", mario, RuleName},
		{"the birth date as ddmmyy is refused", "K0101807", mario, RuleBirthdate},
		{"the birth date as yymmdd is refused", "K8001017", mario, RuleBirthdate},
		{"the birth date as ddmmyyyy is refused", "01011980", mario, RuleBirthdate},
		{"the year of birth is refused", "K1980P4Q", mario, RuleBirthdate},
		{"the birth date from the fiscal code as ddmmyy is refused", "K101255Q", giovanna, RuleBirthdate},
		{"the birth date from the fiscal code as mmddyy is refused", "K121055Q", giovanna, RuleBirthdate},
		{"the birth date from the fiscal code as yyyymmdd is refused", "19551210", giovanna, RuleBirthdate},
		{"without a birth date both centuries of the fiscal code's year are refused", "K2055P4Q", giovanna, RuleBirthdate},
		{"without the holder only the holder-free rules apply", "RSSMRA80", Person{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckNewPIN(tt.pin, tt.holder)
			var re *RuleError
			switch {
			case tt.rule == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.rule != "" && (!errors.As(err, &re) || re.Rule != tt.rule || !errors.Is(err, ErrWeakPIN)):
				t.Fatalf("got %v, want rule %s", err, tt.rule)
			}
		})
	}
}

func TestPreviousPINs(t *testing.T) {
	t.Run("renewal refuses the same PIN", func(t *testing.T) {
		e := newEnv(t)
		e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
		_, err := e.svc.ChangePIN(ctx, cfAnna, "K7M2P9Q4", "k7m2p9q4")
		var re *RuleError
		if !errors.As(err, &re) || re.Rule != RuleSame {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a new PIN may not repeat one of the last 5", func(t *testing.T) {
		e := newEnv(t)
		e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
		chain := []string{"K7M2P9Q4", "B4N8C2V6", "Q2W3E4R5", "H4J5K6L7", "Z8X7C6V5"}
		for i := 1; i < len(chain); i++ {
			if _, err := e.svc.ChangePIN(ctx, cfAnna, chain[i-1], chain[i]); err != nil {
				t.Fatalf("change %d: %v", i, err)
			}
		}
		for _, old := range chain[:len(chain)-1] {
			_, err := e.svc.ChangePIN(ctx, cfAnna, chain[len(chain)-1], old)
			var re *RuleError
			if !errors.As(err, &re) || re.Rule != RuleRecent {
				t.Fatalf("back to %s: %v, want rule %s", old, err, RuleRecent)
			}
		}
		// A sixth PIN pushes the first out of the last 5: it may come back.
		if _, err := e.svc.ChangePIN(ctx, cfAnna, "Z8X7C6V5", "M3N4B5V6"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ChangePIN(ctx, cfAnna, "M3N4B5V6", "K7M2P9Q4"); err != nil {
			t.Fatalf("the sixth PIN back: %v", err)
		}
		rec, _ := e.svc.loadRecord(ctx, cfAnna)
		if len(rec.Previous) != 4 {
			t.Fatalf("%d previous hashes kept, want 4 (the last 5 PINs with the current one)", len(rec.Previous))
		}
	})
	t.Run("the history length is a setting", func(t *testing.T) {
		e := newEnv(t, func(c *Config) { c.PINHistory = 1 })
		e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
		if _, err := e.svc.ChangePIN(ctx, cfAnna, "K7M2P9Q4", "B4N8C2V6"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ChangePIN(ctx, cfAnna, "B4N8C2V6", "K7M2P9Q4"); err != nil {
			t.Fatalf("pin_history 1 refuses only the current PIN: %v", err)
		}
	})
}
