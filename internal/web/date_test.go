package web

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseDateAcceptsItalianAndISODays(t *testing.T) {
	tests := []struct{ in, want string }{
		{"31/12/2026", "2026-12-31"},
		{"1/2/1980", "1980-02-01"},
		{"01.02.1980", "1980-02-01"},
		{"01-02-1980", "1980-02-01"},
		{" 29/02/2024 ", "2024-02-29"},
		{"2030-12-31", "2030-12-31"},
		{"1900-01-01", "1900-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ISODate(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("ISODate(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseDateRefusesWhatIsNotADay(t *testing.T) {
	for _, in := range []string{
		"31/02/2020", // no such day
		"29/02/2023", // not a leap year
		"00/00/0000", "00/01/2000", "01/00/2000", "32/01/2000", "01/13/2000",
		"1/1/20",      // a two-digit year is ambiguous
		"01/02/20200", // a five-digit year is a typo
		"01/02/1899", "01/01/3000",
		"2020/12/31", "2020-1-31", "12-2020-31", "31/12-2026", "31//2026", "/12/2026",
		"", "          ", "oggi", "31 12 2026", "３１/１２/２０２６", "+1/12/2026", "-1/12/2026",
		"31/12/2026\x00", "2026-12-31T00:00:00Z", strings.Repeat("1/", 40),
	} {
		t.Run(in, func(t *testing.T) {
			if d, err := ParseDate(in); !errors.Is(err, ErrDate) {
				t.Fatalf("ParseDate(%q) = %v, %v; want ErrDate", in, d, err)
			}
		})
	}
}

func TestFormatDateIsItalian(t *testing.T) {
	if got := FormatDate(time.Date(2026, 3, 7, 15, 4, 0, 0, time.UTC)); got != "07/03/2026" {
		t.Fatalf("FormatDate = %q", got)
	}
}

// FuzzParseDate: any input is either refused with ErrDate or is a real day that formats back
// to itself and parses again to the same day.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"31/12/2026", "1/2/1980", "2030-12-31", "31/02/2020", "00/00/0000", "1/1/20", "01.02.1980", "９/９/９９９９"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			if !errors.Is(err, ErrDate) {
				t.Fatalf("%q: error %v is not ErrDate", s, err)
			}
			return
		}
		if d.Hour() != 0 || d.Location() != time.UTC || d.Year() < minYear || d.Year() > maxYear {
			t.Fatalf("%q: %v", s, d)
		}
		again, err := ParseDate(FormatDate(d))
		if err != nil || !again.Equal(d) {
			t.Fatalf("%q: %v does not round-trip (%v, %v)", s, d, again, err)
		}
	})
}
