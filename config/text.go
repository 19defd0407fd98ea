package config

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// ReservedClientID is the id of the broker's built-in client (its own sign-in, /accedi): no
// configured client may take it.
const ReservedClientID = "sportello"

// Text is a text shown to people, written either once for every language
// (display_name: Servizio demo) or per language (display_name: {it: Pensioni, en: Pensions}).
type Text map[string]string

// UnmarshalYAML accepts a string or a mapping of language → string.
func (t *Text) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*t = Text{"": n.Value}
		return nil
	case yaml.MappingNode:
		m := map[string]string{}
		if err := n.Decode(&m); err != nil {
			return fmt.Errorf("want a text or a mapping of languages to texts: %w", err)
		}
		*t = m
		return nil
	}
	return fmt.Errorf("want a text or a mapping of languages to texts")
}

// In returns the text in lang, else the Italian one, else the one for every language.
func (t Text) In(lang string) string {
	if s := t[lang]; s != "" {
		return s
	}
	if s := t["it"]; s != "" {
		return s
	}
	return t[""]
}

// maxDisplayName bounds a service name on the pages (characters).
const maxDisplayName = 80

// validateText checks a Text at path: languages among langs, each text short, on one line,
// without control characters (it is shown in the person's browser as is, escaped).
func validateText(v *validator, path string, t Text, langs []string) {
	for lang, s := range t {
		p := path
		if lang != "" {
			p = path + "." + lang
			known := false
			for _, l := range langs {
				known = known || l == lang
			}
			if !known {
				v.add(p, "unknown language %q (want one of %s)", lang, strings.Join(langs, ", "))
				continue
			}
		}
		switch {
		case strings.TrimSpace(s) == "":
			v.add(p, "must not be empty")
		case !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
			v.add(p, "must be one line of text, without control characters")
		case utf8.RuneCountInString(s) > maxDisplayName:
			v.add(p, "longer than %d characters", maxDisplayName)
		}
	}
}
