package broker

import (
	"testing"

	"github.com/inps/sportello/providers"
)

// Options naming an entry are grouped by it, in first-seen order; options naming none stay
// in the provider's own entry, and no option lands in another's.
func TestEntryGroups(t *testing.T) {
	g := entryGroups([]providers.Option{{Hint: "a", Entry: "spid"}, {Hint: "c", Entry: "cieid"}, {Hint: "b", Entry: "spid"}, {Hint: "d"}})
	if len(g) != 3 || g[0].entry != "spid" || len(g[0].opts) != 2 || g[0].opts[1].Hint != "b" ||
		g[1].entry != "cieid" || len(g[1].opts) != 1 || g[1].opts[0].Hint != "c" || g[2].entry != "" || g[2].opts[0].Hint != "d" {
		t.Fatalf("groups %+v", g)
	}
	if g := entryGroups([]providers.Option{{Hint: "x"}, {Hint: "y"}}); len(g) != 1 || g[0].entry != "" || len(g[0].opts) != 2 {
		t.Fatalf("without entries: %+v", g)
	}
}
