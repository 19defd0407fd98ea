package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

// fuzzTrail is a valid signed trail of 8 events with checkpoints every 3, built once.
func fuzzTrail(f *testing.F) (lines []string, pub ed25519.PublicKey) {
	var buf bytes.Buffer
	key := testKey(f, 1)
	w := NewWriter(&buf)
	w.key, w.every, w.now = key, 3, func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }
	for i := 0; i < 8; i++ {
		if err := w.Audit(context.Background(), event(i)); err != nil {
			f.Fatal(err)
		}
	}
	lines = strings.SplitAfter(buf.String(), "\n")
	return lines[:len(lines)-1], key.Public().(ed25519.PublicKey)
}

// FuzzVerify puts a hostile line into a valid trail (inserted, or in place of a line): Verify
// must never panic and must always report tampering.
func FuzzVerify(f *testing.F) {
	lines, pub := fuzzTrail(f)
	for i, l := range lines {
		f.Add(strings.TrimSuffix(l, "\n"), uint8(i), false)
		f.Add(strings.Replace(l, `"n":`, `"n":1`, 1), uint8(i), true)
	}
	f.Add(`{"seq":1,"prev":"`+Genesis+`","hash":"`+Genesis+`"}`, uint8(0), true)
	f.Add("", uint8(3), false)
	f.Add(`{"seq":18446744073709551615,"time":"x","type":"audit.checkpoint","fields":{"alg":"Ed25519","sig":"AAAA"},"prev":"`+Genesis+`","hash":"`+Genesis+`"}`, uint8(11), false)
	f.Fuzz(func(t *testing.T, hostile string, pos uint8, replace bool) {
		trail := append([]string{}, lines...)
		i := int(pos) % (len(trail) + 1)
		switch {
		case replace && i < len(trail):
			if hostile+"\n" == trail[i] {
				return // not a change
			}
			trail[i] = hostile + "\n"
		default:
			trail = append(trail[:i], append([]string{hostile + "\n"}, trail[i:]...)...)
		}
		rep := Report{SignaturesChecked: true}
		v := &verifier{rep: &rep, pub: pub}
		err := v.stream("trail", strings.NewReader(strings.Join(trail, "")))
		if !errors.Is(err, ErrTampered) {
			t.Fatalf("hostile line %q at %d (replace %v) not reported: %v", hostile, i, replace, err)
		}
		if rep.Bad == nil || rep.Bad.Line < 1 {
			t.Fatalf("no bad line named: %+v", rep)
		}
	})
}
