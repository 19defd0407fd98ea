package web_test

import (
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestTemplatesUseOnlyEmbeddedIcons: every icon a template names is in the trimmed sprite.
func TestTemplatesUseOnlyEmbeddedIcons(t *testing.T) {
	sprite, err := os.ReadFile("static/svg/sprites.svg")
	if err != nil {
		t.Fatal(err)
	}
	_ = fs.WalkDir(os.DirFS("."), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".html") || (strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go"))) {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, m := range regexp.MustCompile(`(?:icon |return )"(it-[a-z-]+)"`).FindAllStringSubmatch(string(b), -1) {
			if !strings.Contains(string(sprite), `id="`+m[1]+`"`) {
				t.Errorf("%s uses icon %s, not in static/svg/sprites.svg (add it to update.sh)", p, m[1])
			}
		}
		return nil
	})
}
