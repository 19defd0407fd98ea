package web

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// DateLayout is how the pages show a day: gg/mm/aaaa, as Italians write it.
const DateLayout = "02/01/2006"

// ErrDate is returned by ParseDate for anything that is not a real calendar day written
// gg/mm/aaaa (or aaaa-mm-gg).
var ErrDate = errors.New("ui: not a date written gg/mm/aaaa")

// Years ParseDate accepts: nobody the broker serves was born before 1900, and no card or
// delegation runs past 2999 (a five-digit year is a typing mistake).
const (
	minYear = 1900
	maxYear = 2999
)

// ParseDate reads a day typed by a person: gg/mm/aaaa (day and month may have one digit, the
// separator may be "/", "." or "-"), or the ISO form aaaa-mm-gg that older pages and browsers'
// date pickers send. The year has four digits (01/02/20 is ambiguous and refused) and the day
// must exist (31/02/2020 is refused). The result is that day at 00:00 UTC.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) < 8 || len(s) > 10 {
		return time.Time{}, fmt.Errorf("%w: %d characters", ErrDate, len(s))
	}
	parts, sep := splitDate(s)
	if parts == nil {
		return time.Time{}, ErrDate
	}
	var d, m, y int
	var ok bool
	switch {
	case len(parts[0]) == 4 && sep == '-': // aaaa-mm-gg
		if len(parts[1]) != 2 || len(parts[2]) != 2 {
			return time.Time{}, ErrDate
		}
		y, m, d, ok = number(parts[0]), number(parts[1]), number(parts[2]), true
	case len(parts[2]) == 4 && len(parts[0]) <= 2 && len(parts[1]) <= 2: // gg/mm/aaaa
		d, m, y, ok = number(parts[0]), number(parts[1]), number(parts[2]), true
	}
	if !ok || d < 1 || m < 1 || m > 12 || y < minYear || y > maxYear {
		return time.Time{}, ErrDate
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != m { // 31/02 became 03/03: no such day
		return time.Time{}, fmt.Errorf("%w: no day %d in month %d of %d", ErrDate, d, m, y)
	}
	return t, nil
}

// splitDate cuts s into three runs of ASCII digits joined by one and the same separator.
func splitDate(s string) ([]string, byte) {
	var sep byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			continue
		}
		if c != '/' && c != '.' && c != '-' {
			return nil, 0
		}
		if sep == 0 {
			sep = c
		} else if c != sep {
			return nil, 0
		}
	}
	if sep == 0 {
		return nil, 0
	}
	parts := strings.Split(s, string(sep))
	if len(parts) != 3 {
		return nil, 0
	}
	for _, p := range parts {
		if p == "" {
			return nil, 0
		}
	}
	return parts, sep
}

// number is the value of a run of at most four ASCII digits (splitDate checked them).
func number(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// FormatDate shows a day as gg/mm/aaaa.
func FormatDate(t time.Time) string { return t.Format(DateLayout) }

// ISODate turns a day typed by a person (see ParseDate) into aaaa-mm-gg, the form the domain
// packages store.
func ISODate(s string) (string, error) {
	t, err := ParseDate(s)
	if err != nil {
		return "", err
	}
	return t.Format(time.DateOnly), nil
}
