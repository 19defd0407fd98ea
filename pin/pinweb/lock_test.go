package pinweb

import (
	"html"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/pin"
)

// The lock is told as minutes to wait, then the time it ends in Italian time with the zone
// and its offset, for people who live abroad; the clock is the Service's.
func TestLockMessageSaysMinutesAndZone(t *testing.T) {
	wrong := url.Values{"login": {"L1"}, "fiscal_code": {pin.DevGiovannaFerrari}, "pin": {"WRONG123"}}
	tests := []struct {
		name  string
		start time.Time // when the wrong PIN is typed
		later time.Duration
		lang  string
		want  string
	}{
		{"in winter Italian time is CET, UTC+1", t0, 0, "it",
			"riprova tra 3 minuti (alle 10:03 ora italiana, CET, UTC+1)"},
		{"in summer Italian time is CEST, UTC+2", time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), 0, "en",
			"try again in 3 minutes (at 14:03 Italian time, CEST, UTC+2)"},
		{"a part of a minute counts as a whole one", t0, 30 * time.Second, "en",
			"Try again in 3 minutes (at 10:03 Italian time, CET, UTC+1)"},
		{"the last minute is singular", t0, 2*time.Minute + 30*time.Second, "it",
			"Riprova tra 1 minuto (alle 10:03 ora italiana, CET, UTC+1)"},
		// Locked 10:00:20-10:03:20, asked at 10:01:20: both are upper bounds.
		{"the minutes and the time each round up", t0.Add(20 * time.Second), time.Minute, "en",
			"Try again in 2 minutes (at 10:04 Italian time, CET, UTC+1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.clock.Advance(tt.start.Sub(t0))
			_, body := fx.post(t, "/pin/login", wrong, tt.lang)
			if tt.later > 0 {
				fx.clock.Advance(tt.later)
				_, body = fx.post(t, "/pin/login", wrong, tt.lang)
			}
			if !strings.Contains(html.UnescapeString(body), tt.want) {
				t.Fatalf("no %q in\n%s", tt.want, body)
			}
		})
	}
}
