package web

import "testing"

func TestPairsTextAndMessages(t *testing.T) {
	p := Pairs{"locked": {"Bloccato fino alle {until}", "Locked until {until}"}}
	if got := p.Text("en", "locked", map[string]string{"until": "10:30"}); got != "Locked until 10:30" {
		t.Errorf("en: %q", got)
	}
	if got := p.Text("it", "locked", map[string]string{"until": "10:30"}); got != "Bloccato fino alle 10:30" {
		t.Errorf("it: %q", got)
	}
	if got := p.Text("en", "missing", nil); got != "missing" {
		t.Errorf("unknown key: %q", got)
	}
	if m := p.Messages("pin."); m["pin.locked"]["en"] != "Locked until {until}" || len(m) != 1 {
		t.Errorf("messages: %v", m)
	}
}
