// Package fiscalcode validates the Italian codice fiscale of natural persons as the Ministry of
// Finance's decree of 23 December 1976 defines it: three letters of the surname, three of the
// name, two digits of the year, a month letter (A B C D E H L M P R S T), two digits of the day
// (plus 40 for women), four characters of the place of birth and a check letter computed on the
// first 15. Omocodia keeps colliding codes apart by replacing digits, from the right, with
// L M N P Q R S T U V (for 0-9).
package fiscalcode

import (
	"errors"
	"strings"
)

// Errors returned by Parse. They wrap ErrInvalid.
var (
	ErrInvalid = errors.New("invalid fiscal code")

	ErrLength      error = &invalidError{"invalid fiscal code: must be 16 characters"}
	ErrShape       error = &invalidError{"invalid fiscal code: malformed"}
	ErrCheckLetter error = &invalidError{"invalid fiscal code: wrong check letter"}
)

// omocodia letters stand for digits 0-9 at the numeric positions.
const omocodia = "LMNPQRSTUV"

const monthLetters = "ABCDEHLMPRST"

var oddValues = [36]int{
	// 0-9
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
	// A-Z
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
}

func index(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

// CheckLetter computes the check letter of the first 15 characters (upper case).
func CheckLetter(first15 string) (byte, error) {
	if len(first15) != 15 {
		return 0, ErrLength
	}
	sum := 0
	for i := 0; i < 15; i++ {
		idx := index(first15[i])
		if idx < 0 {
			return 0, ErrShape
		}
		if i%2 == 0 { // odd positions, 1-based
			sum += oddValues[idx]
		} else if idx < 10 {
			sum += idx
		} else {
			sum += idx - 10
		}
	}
	return byte('A' + sum%26), nil
}

// Normalize trims spaces and upper-cases s without validating it.
func Normalize(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

// Parse validates s (case-insensitive, surrounding spaces ignored) and returns it upper case.
func Parse(s string) (string, error) {
	cf := Normalize(s)
	if len(cf) != 16 {
		return "", ErrLength
	}
	for i := 0; i < 16; i++ {
		c := cf[i]
		letter := c >= 'A' && c <= 'Z'
		digit := c >= '0' && c <= '9'
		switch {
		case i < 6, i == 11, i == 15:
			if !letter {
				return "", ErrShape
			}
		case i == 8:
			if strings.IndexByte(monthLetters, c) < 0 {
				return "", ErrShape
			}
		default: // numeric positions
			if !digit && strings.IndexByte(omocodia, c) < 0 {
				return "", ErrShape
			}
		}
	}
	want, err := CheckLetter(cf[:15])
	if err != nil {
		return "", err
	}
	if cf[15] != want {
		return "", ErrCheckLetter
	}
	// The day of birth (with omocodia decoded) must be 1-31 or 41-71.
	day := decodeDigit(cf[9])*10 + decodeDigit(cf[10])
	if !(day >= 1 && day <= 31) && !(day >= 41 && day <= 71) {
		return "", ErrShape
	}
	return cf, nil
}

// Valid reports whether s is a valid fiscal code.
func Valid(s string) bool {
	_, err := Parse(s)
	return err == nil
}

// BirthDate decodes the date of birth a fiscal code carries: the last two digits of the year
// (the code does not say the century), the month (1-12) and the day (1-31; a woman's day,
// written +40, is brought back). ok is false when cf is not a valid fiscal code.
func BirthDate(cf string) (yy, month, day int, ok bool) {
	cf, err := Parse(cf)
	if err != nil {
		return 0, 0, 0, false
	}
	yy = decodeDigit(cf[6])*10 + decodeDigit(cf[7])
	month = strings.IndexByte(monthLetters, cf[8]) + 1
	day = decodeDigit(cf[9])*10 + decodeDigit(cf[10])
	if day > 40 {
		day -= 40
	}
	return yy, month, day, true
}

func decodeDigit(c byte) int {
	if c >= '0' && c <= '9' {
		return int(c - '0')
	}
	return strings.IndexByte(omocodia, c)
}

type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Unwrap() error { return ErrInvalid }
