package main

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/inps/sportello/broker"
	"github.com/inps/sportello/internal/delegation"
	"github.com/inps/sportello/internal/web"
	"github.com/inps/sportello/pin/pinweb"
	"github.com/inps/sportello/providers/spid"
	"github.com/inps/sportello/providers/x509auth"
)

// catalogues are every message catalogue a page can show. These checks live here, in the
// wiring, the one package that sees every catalogue.
func catalogues() map[string]map[string]map[string]string {
	return map[string]map[string]map[string]string{
		"web": web.Messages(), "broker": broker.Messages(), "pinweb": pinweb.Messages(),
		"x509auth": x509auth.Messages(), "spid": spid.Messages(), "delegation": delegation.Messages(),
	}
}

var placeholder = regexp.MustCompile(`\{[a-z_]+\}|%[sdv]`)

// TestEveryMessageIsInItalianAndEnglish walks every catalogue: no key may miss a language,
// and both languages must carry the same placeholders.
func TestEveryMessageIsInItalianAndEnglish(t *testing.T) {
	n := 0
	for name, cat := range catalogues() {
		for key, m := range cat {
			n++
			for _, lang := range web.Languages {
				if strings.TrimSpace(m[lang]) == "" {
					t.Errorf("%s: %q has no %s text", name, key, lang)
				}
			}
			it, en := placeholder.FindAllString(m["it"], -1), placeholder.FindAllString(m["en"], -1)
			sort.Strings(it)
			sort.Strings(en)
			if strings.Join(it, ",") != strings.Join(en, ",") {
				t.Errorf("%s: %q placeholders differ: it %v, en %v", name, key, it, en)
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d messages walked: a catalogue is missing", n)
	}
}

// keyRefs find message keys in templates ({{.T "key"}}) and in Go code (T(lang, "key"),
// text(lang, "key", …), w.t(r, "key"), Code: "key", errorPage(…, "key", …)).
var keyRefs = []*regexp.Regexp{
	regexp.MustCompile(`\.T "([a-z0-9_.]+)"`),
	regexp.MustCompile(`\bT\(\w+, "([a-z0-9_.]+)"\)`),
	regexp.MustCompile(`\bt\("([a-z0-9_.]+)"\)`),
	regexp.MustCompile(`\btext\([\w.()]+, "([a-z0-9_.]+)"`),
	regexp.MustCompile(`\bw\.t\(r, "([a-z0-9_.]+)"\)`),
	regexp.MustCompile(`Code: "([a-z0-9_]+\.[a-z0-9_.]+)"`),
	regexp.MustCompile(`(?:errorPage|renderError)\(\w+, \w+, [\w.]+, "([a-z0-9_.]+)"`),
	regexp.MustCompile(`\bkey(?:, status)? = "([a-z0-9_]+\.[a-z0-9_.]+)"`),
}

// TestEveryReferencedKeyExists scans the templates and the Go code of the pages for message
// keys and fails on any key absent from the catalogues.
func TestEveryReferencedKeyExists(t *testing.T) {
	all := map[string]bool{}
	for _, cat := range catalogues() {
		for k := range cat {
			all[k] = true
		}
	}
	refs := 0
	// The delegation pages name their keys without the "delegation." their catalogue adds.
	prefix := map[string]string{"../../internal/delegation": "delegation."}
	for _, dir := range []string{"../../internal/web/templates", "../../broker", "../../pin/pinweb", "../../providers/spid", "../../providers/x509auth", "../../providers/card", "../../internal/delegation"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			if !(strings.HasSuffix(f, ".html") || strings.HasSuffix(f, ".go")) || strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, re := range keyRefs {
				for _, m := range re.FindAllStringSubmatch(string(b), -1) {
					if strings.HasSuffix(m[1], ".") {
						continue // a key completed at run time ("kind."+k): its entries are walked above
					}
					refs++
					if !all[prefix[dir]+m[1]] && !all[m[1]] {
						t.Errorf("%s references %q, absent from the catalogues", f, m[1])
					}
				}
			}
		}
	}
	if refs < 50 {
		t.Fatalf("only %d key references found: the scan is broken", refs)
	}
}

// The pages speak with one voice. Italian addresses the citizen with the
// informal "tu" that Designers Italia recommends for public digital services, never the formal
// "Lei", and without participles or adjectives that guess the reader's gender ("Per me
// stesso", "sei partito"); English says "sign in" / "sign out", never "log in" / "login".
var (
	formalItalian     = regexp.MustCompile(`\b(Lei|lei|Suo|Sua|Suoi|Sue|La autorizzava|L'ha|Inserisca|Scelga|Attivi|Ripeta|Confermi|Carichi|Acceda|acceda|Riprovi|riprovi|Torni|torni|Controlli|controlli|Ricarichi|ricarichi|Revochi|revochi|Usi|usi|Attenda|attenda|Rivolga|rivolga|si rivolga|Richieda|richieda|Annoti|apra|Esca|Indichi|Verifichi|Compili|Selezioni|Prema|identificarla|riceverà la prima|sceglierà il suo)\b`)
	genderedItalian   = regexp.MustCompile(`(?i)\b(me stesso|te stesso|se stesso|me stessa|te stessa|sei partit[oa]|sei uscit[oa]|sei stat[oa]|reindirizzat[oa]|benvenut[oa]|sei sicur[oa]|sei collegat[oa]|sei connesso|sei connessa|delegata\b ad agire|l'ha delegat[oa])\b`)
	otherEnglishVoice = regexp.MustCompile(`(?i)\b(log ?in|logged in|logging in|log ?out|logged out|signin|signout)\b`)
)

func TestOneRegisterAndOneVoice(t *testing.T) {
	checked := 0
	for name, cat := range catalogues() {
		for key, m := range cat {
			checked++
			if f := formalItalian.FindString(m["it"]); f != "" {
				t.Errorf("%s %q: formal Italian %q in %q (use tu)", name, key, f, m["it"])
			}
			if f := genderedItalian.FindString(m["it"]); f != "" {
				t.Errorf("%s %q: a gendered form %q in %q", name, key, f, m["it"])
			}
			if f := otherEnglishVoice.FindString(m["en"]); f != "" {
				t.Errorf("%s %q: %q in %q (say sign in / sign out)", name, key, f, m["en"])
			}
		}
	}
	// The messages the broker sends (PIN letters and e-mails, delegation notices) speak the same way.
	for _, f := range []string{"../../internal/delegation/notify.go", "../../pin/lost.go", "../../pin/issue.go", "../../pin/convert.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, lit := range regexp.MustCompile(`"(?:[^"\\]|\\.)*"`).FindAllString(string(b), -1) {
			if f2 := formalItalian.FindString(lit); f2 != "" {
				t.Errorf("%s: formal Italian %q in %s", f, f2, lit)
			}
			if f2 := genderedItalian.FindString(lit); f2 != "" {
				t.Errorf("%s: a gendered form %q in %s", f, f2, lit)
			}
			if f2 := otherEnglishVoice.FindString(lit); f2 != "" {
				t.Errorf("%s: %q in %s", f, f2, lit)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d messages checked", checked)
	}
}

// The scan itself recognises what it forbids.
func TestVoiceScanCatchesTheOldTexts(t *testing.T) {
	for _, s := range []string{"Inserisca il codice fiscale e il PIN.", "Per generare il PIN telefonico acceda con SPID.", "Il suo PIN è scaduto. Scelga un nuovo PIN"} {
		if formalItalian.FindString(s) == "" {
			t.Errorf("formal Italian not caught: %q", s)
		}
	}
	for _, s := range []string{"Per me stesso", "Torna al servizio da cui sei partito", "Sei uscito", "Stai per essere reindirizzato"} {
		if genderedItalian.FindString(s) == "" {
			t.Errorf("gendered Italian not caught: %q", s)
		}
	}
	for _, s := range []string{"Log in with the INPS PIN", "The login request has expired", "Logged in as"} {
		if otherEnglishVoice.FindString(s) == "" {
			t.Errorf("log in not caught: %q", s)
		}
	}
}
