package providers_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inps/sportello/providers"
)

const pkiDir = "../testdata/pki"

func readPEM(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pkiDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseEscapedPEM(t *testing.T) {
	good := string(readPEM(t, "mario-rossi-cie.crt"))
	chain := good + string(readPEM(t, "cie-sub.crt"))
	tests := []struct {
		rule  string
		value string
		n     int
	}{
		{"nginx escaped certificate", url.PathEscape(good), 1},
		{"escaped chain keeps its order", url.PathEscape(chain), 2},
		{"a literal plus stays a plus", strings.ReplaceAll(url.PathEscape(good), "%2B", "+"), 1},
		{"form encoding: + is a space in the armour lines", url.QueryEscape(good), 1},
		{"form-encoded chain", url.QueryEscape(chain), 2},
		{"empty header refused", "", 0},
		{"bad escape refused", "%ZZ" + url.PathEscape(good), 0},
		{"trailing garbage refused", url.PathEscape(good) + "garbage", 0},
		{"a private key block is refused", url.PathEscape(string(readPEM(t, "mario-rossi-cie.key"))), 0},
		{"too many certificates refused", url.PathEscape(strings.Repeat(good, providers.MaxChainLen+1)), 0},
		{"oversized header refused", strings.Repeat("A", 4*providers.MaxChainPEM), 0},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			got, err := providers.ParseEscapedPEM(tt.value)
			if tt.n == 0 {
				if err == nil {
					t.Fatalf("accepted %d certificates", len(got))
				}
				return
			}
			if err != nil || len(got) != tt.n {
				t.Fatalf("got %d certificates, %v; want %d", len(got), err, tt.n)
			}
		})
	}
}

func FuzzParseEscapedPEM(f *testing.F) {
	data, err := os.ReadFile(filepath.Join(pkiDir, "giuseppe-verdi-cns.crt"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(url.PathEscape(string(data)))
	f.Add("")
	f.Add("%")
	f.Add("-----BEGIN CERTIFICATE-----%0A%0A-----END CERTIFICATE-----")
	f.Fuzz(func(t *testing.T, value string) {
		chain, err := providers.ParseEscapedPEM(value)
		if err == nil && (len(chain) == 0 || len(chain) > providers.MaxChainLen) {
			t.Fatalf("accepted a chain of %d certificates", len(chain))
		}
	})
}
