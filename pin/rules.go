package pin

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/inps/sportello/providers/fiscalcode"
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

// CheckNewPIN applies the rules for the holder's own PIN: exactly 8 letters or digits (compared
// case-insensitively), not 8 consecutive characters of the holder's fiscal code, not holding
// the holder's given or family name. newPIN must already be normalised.
func CheckNewPIN(newPIN, cf, givenName, familyName string) error {
	if len(newPIN) != PINLen {
		return &RuleError{Rule: RuleLength}
	}
	for i := 0; i < len(newPIN); i++ {
		c := newPIN[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return &RuleError{Rule: RuleAlphanumeric}
		}
	}
	if strings.Contains(strings.ToUpper(cf), newPIN) {
		return &RuleError{Rule: RuleFiscalCode}
	}
	for _, name := range []string{givenName, familyName} {
		for _, part := range strings.FieldsFunc(strings.ToUpper(name), func(r rune) bool {
			return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		}) {
			if len(part) >= 3 && strings.Contains(newPIN, part) {
				return &RuleError{Rule: RuleName}
			}
		}
	}
	return nil
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
