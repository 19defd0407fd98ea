package pin

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/inps/sportello/internal/fiscalcode"
)

// Lengths of the PINs.
const (
	// InitialLen is the length of the PIN INPS sends (two halves of 8).
	InitialLen = 16
	// PINLen is the length of the PIN the holder chooses at first access.
	PINLen = 8
	// maxInput bounds what is even looked at: longer input is refused before any work.
	maxInput = 64
)

// NormalizePIN turns what a person typed into the canonical PIN: spaces and dashes (people copy
// the two halves with a separator) are dropped and letters upper-cased, since PINs compare
// case-insensitively. Anything but ASCII letters and digits, or a length other than 8 or 16
// after clean-up, is refused.
func NormalizePIN(s string) (string, error) {
	if len(s) > maxInput {
		return "", fmt.Errorf("%w: PIN too long", ErrInvalidInput)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-' || c == '\t':
			continue
		case c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b.WriteByte(c)
		default:
			return "", fmt.Errorf("%w: PIN holds a character that is not a letter or digit", ErrInvalidInput)
		}
	}
	out := b.String()
	if len(out) != PINLen && len(out) != InitialLen {
		return "", fmt.Errorf("%w: PIN must have 8 or 16 characters", ErrInvalidInput)
	}
	return out, nil
}

// ParseCredentials validates and normalises a login's fiscal code and PIN.
func ParseCredentials(cf, pin string) (string, string, error) {
	if len(cf) > maxInput {
		return "", "", fmt.Errorf("%w: fiscal code too long", ErrInvalidInput)
	}
	code, err := fiscalcode.Parse(cf)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	p, err := NormalizePIN(pin)
	if err != nil {
		return "", "", err
	}
	return code, p, nil
}

// ParseFiscalCode validates a fiscal code given as input.
func ParseFiscalCode(cf string) (string, error) {
	if len(cf) > maxInput {
		return "", fmt.Errorf("%w: fiscal code too long", ErrInvalidInput)
	}
	code, err := fiscalcode.Parse(cf)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	return code, nil
}

// CheckNewPIN applies the rules for the holder's own PIN to newPIN (already normalised), in
// the order the pages list them, and names the first rule broken in a *RuleError:
//   - exactly 8 letters or digits (compared case-insensitively);
//   - no character 3 or more times in a row, and at least 4 different characters;
//   - no 4 or more characters in ascending or descending order (1234, 4321, ABCD, DCBA);
//   - no part of the fiscal code: neither the three letters of the surname or of the given
//     name it starts with, nor 4 or more of its consecutive characters;
//   - neither the given nor the family name (any word of 3 or more letters);
//   - not the date of birth in a common form (ddmmyy, yymmdd, mmddyy, ddmmyyyy, yyyymmdd,
//     mmddyyyy, or the year yyyy), from holder.Birthdate or, without it, the fiscal code.
//
// Fields of holder left empty skip the rules that need them; the rules about the holder's
// previous PINs need their hashes and run in the Service (RuleSame, RuleRecent).
func CheckNewPIN(newPIN string, holder Person) error {
	if len(newPIN) != PINLen {
		return &RuleError{Rule: RuleLength}
	}
	for i := 0; i < len(newPIN); i++ {
		if !isAlnum(newPIN[i]) {
			return &RuleError{Rule: RuleAlphanumeric}
		}
	}
	if hasRun(newPIN) {
		return &RuleError{Rule: RuleRepeated}
	}
	if distinct(newPIN) < minDistinct {
		return &RuleError{Rule: RuleVariety}
	}
	if hasSequence(newPIN) {
		return &RuleError{Rule: RuleSequence}
	}
	cf := strings.ToUpper(holder.FiscalCode)
	if containsFiscalCodePart(newPIN, cf) {
		return &RuleError{Rule: RuleFiscalCode}
	}
	for _, name := range []string{holder.GivenName, holder.FamilyName} {
		for _, part := range strings.FieldsFunc(strings.ToUpper(name), func(r rune) bool {
			return r > 127 || !isAlnum(byte(r))
		}) {
			if len(part) >= 3 && strings.Contains(newPIN, part) {
				return &RuleError{Rule: RuleName}
			}
		}
	}
	for _, d := range birthDateForms(holder.Birthdate, cf) {
		if strings.Contains(newPIN, d) {
			return &RuleError{Rule: RuleBirthdate}
		}
	}
	return nil
}

// Thresholds of the new-PIN rules.
const (
	// maxRun is the longest run of one character allowed.
	maxRun = 2
	// minDistinct is how many different characters a new PIN needs.
	minDistinct = 4
	// seqLen is the shortest ascending or descending sequence refused.
	seqLen = 4
	// cfWindow is the shortest run of consecutive fiscal-code characters refused.
	cfWindow = 4
)

func isAlnum(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

// hasRun reports a character repeated more than maxRun times in a row.
func hasRun(p string) bool {
	run := 1
	for i := 1; i < len(p); i++ {
		if p[i] == p[i-1] {
			run++
			if run > maxRun {
				return true
			}
		} else {
			run = 1
		}
	}
	return false
}

func distinct(p string) int {
	var seen [256]bool
	n := 0
	for i := 0; i < len(p); i++ {
		if !seen[p[i]] {
			seen[p[i]] = true
			n++
		}
	}
	return n
}

// hasSequence reports seqLen or more consecutive characters that climb or fall by one within
// the digits or within the letters (7890 and YZ12 are not sequences: nothing wraps).
func hasSequence(p string) bool {
	sameClass := func(a, b byte) bool { return (a <= '9') == (b <= '9') }
	up, down := 1, 1
	for i := 1; i < len(p); i++ {
		a, b := p[i-1], p[i]
		if sameClass(a, b) && b == a+1 {
			up++
		} else {
			up = 1
		}
		if sameClass(a, b) && b+1 == a {
			down++
		} else {
			down = 1
		}
		if up >= seqLen || down >= seqLen {
			return true
		}
	}
	return false
}

// containsFiscalCodePart reports the surname or name triple of cf, or cfWindow consecutive
// characters of it, inside p.
func containsFiscalCodePart(p, cf string) bool {
	if len(cf) >= 6 && (strings.Contains(p, cf[0:3]) || strings.Contains(p, cf[3:6])) {
		return true
	}
	for i := 0; i+cfWindow <= len(cf); i++ {
		if strings.Contains(p, cf[i:i+cfWindow]) {
			return true
		}
	}
	return false
}

// birthDateForms lists the common ways to write the holder's date of birth: from birthdate
// (YYYY-MM-DD) when it parses, otherwise from the fiscal code, whose year has no century
// (both 19yy and 20yy are then refused as a year).
func birthDateForms(birthdate, cf string) []string {
	var years []int
	var month, day int
	if t, err := time.Parse(time.DateOnly, strings.TrimSpace(birthdate)); err == nil {
		years, month, day = []int{t.Year()}, int(t.Month()), t.Day()
	} else if yy, m, d, ok := fiscalcode.BirthDate(cf); ok {
		years, month, day = []int{1900 + yy, 2000 + yy}, m, d
	} else {
		return nil
	}
	dd, mm := fmt.Sprintf("%02d", day), fmt.Sprintf("%02d", month)
	var out []string
	for _, y := range years {
		yyyy := fmt.Sprintf("%04d", y)
		yy := yyyy[2:]
		out = append(out, dd+mm+yy, yy+mm+dd, mm+dd+yy, dd+mm+yyyy, yyyy+mm+dd, mm+dd+yyyy, yyyy)
	}
	return out
}

// generateInitial draws a 16-character PIN over 0-9A-F.
func generateInitial(r io.Reader) (string, error) {
	b := make([]byte, InitialLen/2)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("pin: random: %w", err)
	}
	return strings.ToUpper(hex.EncodeToString(b)), nil
}

// generateDigits draws n decimal digits without modulo bias.
func generateDigits(r io.Reader, n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, 1)
	for len(out) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("pin: random: %w", err)
		}
		if buf[0] >= 250 {
			continue
		}
		out = append(out, '0'+buf[0]%10)
	}
	return string(out), nil
}
