package pinweb

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/inps/sportello/pin"
)

func TestCLI(t *testing.T) {
	fx := newFixture(t)
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := CLI(context.Background(), append([]string{"--config", "sportello.yaml"}, args...), &out, &errb, openFixture(fx))
		return code, out.String(), errb.String()
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"show prints the record without the PIN", []string{"show", pin.DevGiovannaFerrari, "--operator", "mario"}, 0, `"state": "active"`},
		{"authorise add extends the official", []string{"authorise", "add", pin.DevMarcoColombo, "--auth", "servizi_cittadino:cud", "--municipality", "Comune di Palermo", "--convenzione", "C-2"}, 0, "servizi_cittadino:cud"},
		{"authorise without a convenzione is refused", []string{"authorise", "add", pin.DevMarcoColombo, "--auth", "servizi_cittadino:cud"}, 1, "convenzione"},
		{"unlock", []string{"unlock", pin.DevGiovannaFerrari}, 0, "ok"},
		{"issue prints the envelope", []string{"issue", "--given-name", "Mario", "--family-name", "Rossi", "--id-document", "CI AB123", "--resident-abroad", pin.DevMarioRossi}, 0, "PIN DISPOSITIVO"},
		{"request by the Contact Center", []string{"request", "RCCMNL83S18D969H", "--given-name", "Manuela", "--family-name", "Rocca", "--postal", "Calle 1, Madrid", "--mobile", "+34600000000", "--resident-abroad"}, 0, "ok"},
		{"request of an official by phone is refused", []string{"request", "RSSMRA80A01H501U", "--given-name", "Mario", "--family-name", "Rossi", "--postal", "Calle 1", "--mobile", "+393330000000", "--category", "official"}, 1, "citizens only"},
		{"request without a postal address is refused", []string{"request", "RSSMRA80A01H501U", "--given-name", "Mario", "--family-name", "Rossi", "--mobile", "+393330000000", "--resident-abroad"}, 1, "postal"},
		{"revoke", []string{"revoke", pin.DevPaoloGreco, "--reason", "request"}, 0, "ok"},
		{"convert without a request is refused", []string{"convert", "approve", pin.DevGiovannaFerrari}, 1, ""},
		{"an unknown command shows the usage", []string{"frobnicate", "X"}, 2, ""},
		{"a missing fiscal code is bad usage", []string{"show"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run(tt.args...)
			if code != tt.code || !strings.Contains(out+errs, tt.contains) {
				t.Fatalf("exit %d, stdout %s, stderr %s", code, out, errs)
			}
			if strings.Contains(out, "salt") || strings.Contains(out, "A1B2C3D4") {
				t.Fatal("the CLI printed a PIN or a hash")
			}
		})
	}
}

// openFixture opens the fixture's service whatever the configuration path.
func openFixture(fx *fixture) Opener {
	return func(string) (*pin.Service, func(), error) { return fx.svc, func() {}, nil }
}
