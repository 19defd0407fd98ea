package web

import "strings"

// Pairs is a compact two-language catalogue: key → {Italian, English}. Page packages (PIN,
// delegation) keep their texts this way and hand Messages to the shared renderer.
type Pairs map[string][2]string

// Text returns key in lang ("en" for English, anything else Italian) with its {name}
// placeholders filled; an unknown key comes back as itself.
func (p Pairs) Text(lang, key string, args map[string]string) string {
	m, ok := p[key]
	if !ok {
		return key
	}
	s := m[0]
	if lang == "en" {
		s = m[1]
	}
	for k, v := range args {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// Messages returns the catalogue in the renderer's form (key → language → text), each key
// prefixed with prefix.
func (p Pairs) Messages(prefix string) map[string]map[string]string {
	out := make(map[string]map[string]string, len(p))
	for k, v := range p {
		out[prefix+k] = map[string]string{"it": v[0], "en": v[1]}
	}
	return out
}
