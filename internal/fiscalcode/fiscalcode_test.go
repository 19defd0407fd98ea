package fiscalcode

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		err  error
	}{
		{"DOMAIN test vector 1", "RSSMRA80A01H501U", "RSSMRA80A01H501U", nil},
		{"DOMAIN test vector 2", "RCCMNL83S18D969H", "RCCMNL83S18D969H", nil},
		{"DOMAIN test vector 3 (woman, day+40)", "CNTCHR83T41D969D", "CNTCHR83T41D969D", nil},
		{"dev person Laura Bianchi", "BNCLRA85M41F205C", "BNCLRA85M41F205C", nil},
		{"dev person Giuseppe Verdi", "VRDGPP40C15L219U", "VRDGPP40C15L219U", nil},
		{"dev person Giovanna Ferrari", "FRRGNN55T50Z600A", "FRRGNN55T50Z600A", nil},
		{"dev person Marco Colombo", "CLMMRC70B10G273W", "CLMMRC70B10G273W", nil},
		{"lower case and spaces accepted", "  rssmra80a01h501u ", "RSSMRA80A01H501U", nil},
		{"omocodia letters in numeric positions", omocode("RSSMRA80A01H501"), omocode("RSSMRA80A01H501"), nil},
		{"wrong check letter refused", "RSSMRA80A01H501A", "", ErrCheckLetter},
		{"too short refused", "RSSMRA80A01H501", "", ErrLength},
		{"too long refused", "RSSMRA80A01H501UX", "", ErrLength},
		{"digit in surname refused", "R5SMRA80A01H501U", "", ErrShape},
		{"bad month letter refused", "RSSMRA80F01H501U", "", ErrShape},
		{"non-omocodia letter in year refused", "RSSMRA8KA01H501U", "", ErrShape},
		{"day 32 refused", withCheck("RSSMRA80A32H501"), "", ErrShape},
		{"non-ASCII refused", "RSSMRA80A01H501Ü", "", ErrLength},
		{"empty refused", "", "", ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("Parse(%q) error = %v, want %v wrapping ErrInvalid", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Parse(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestBirthDate(t *testing.T) {
	tests := []struct {
		name           string
		cf             string
		yy, month, day int
		ok             bool
	}{
		{"a man's date is read as written", "RSSMRA80A01H501U", 80, 1, 1, true},
		{"a woman's day loses its 40", "CNTCHR83T41D969D", 83, 12, 1, true},
		{"December 10th of a woman born in 1955", "FRRGNN55T50Z600A", 55, 12, 10, true},
		{"omocodia letters are decoded", omocode("RSSMRA80A01H501"), 80, 1, 1, true},
		{"an invalid code has no date", "RSSMRA80A01H501A", 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yy, m, d, ok := BirthDate(tt.cf)
			if yy != tt.yy || m != tt.month || d != tt.day || ok != tt.ok {
				t.Fatalf("BirthDate(%q) = %d %d %d %v, want %d %d %d %v", tt.cf, yy, m, d, ok, tt.yy, tt.month, tt.day, tt.ok)
			}
		})
	}
}

// withCheck appends the right check letter.
func withCheck(first15 string) string {
	c, err := CheckLetter(first15)
	if err != nil {
		panic(err)
	}
	return first15 + string(c)
}

// omocode replaces the last digit of the serial with its omocodia letter and recomputes the
// check letter.
func omocode(first15 string) string {
	b := []byte(first15)
	b[14] = omocodia[b[14]-'0']
	return withCheck(string(b))
}

func FuzzFiscalCode(f *testing.F) {
	for _, s := range []string{"RSSMRA80A01H501U", "rssmra80a01h501u", "RSSMRA80A01H50RU", "", "TINIT-RSSMRA80A01H501U", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cf, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(cf) != 16 || !Valid(cf) {
			t.Fatalf("accepted %q as %q, which does not re-validate", s, cf)
		}
	})
}
