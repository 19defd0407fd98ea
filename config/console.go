package config

import (
	"fmt"
	"time"

	"github.com/inps/sportello/internal/fiscalcode"
)

// Console configures the security team's HTML console at /console/: who may use it and how
// long an operator's session lasts. The console is an internal relying party of this issuer:
// an operator signs in with the broker's own login at SpidL3 (SPID level 3 or a CIE/CNS
// certificate), and is let in only when their fiscal code is listed here.
type Console struct {
	// Operators are the people entitled to the console, by fiscal code; none listed, the
	// console lets nobody in (its pages answer "not authorised").
	Operators []Operator `yaml:"operators"`
	// IdleTimeout ends an operator's session after this long without a request (default
	// 15m); MaxAge ends it this long after the login whatever happens (default 8h).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	MaxAge      time.Duration `yaml:"max_age"`
}

// Operator is one person entitled to the console.
type Operator struct {
	// FiscalCode is the person's codice fiscale (upper case, without TINIT-).
	FiscalCode string `yaml:"fiscal_code"`
	// Role is read (console:read: every page, no change) or admin (console:admin: the
	// switches and the actions too).
	Role string `yaml:"role"`
}

// Console roles.
const (
	ConsoleRead  = "read"
	ConsoleAdmin = "admin"
)

// Console session defaults.
const (
	DefaultConsoleIdle   = 15 * time.Minute
	DefaultConsoleMaxAge = 8 * time.Hour
)

// consoleClientIDs are client ids the console's internal relying party uses: a configured
// client may not take them.
var consoleClientIDs = []string{ConsoleClientID}

// ConsoleClientID is the client id of the console's internal relying party (registered by
// cmd/sportello when console.operators lists anyone).
const ConsoleClientID = "sportello-console"

func (c *Config) validateConsole(v *validator) {
	k := &c.Console
	if k.IdleTimeout < time.Minute || k.IdleTimeout > time.Hour {
		v.add("console.idle_timeout", "want 1m to 1h, got %s", k.IdleTimeout)
	}
	if k.MaxAge < k.IdleTimeout || k.MaxAge > 24*time.Hour {
		v.add("console.max_age", "want idle_timeout to 24h, got %s", k.MaxAge)
	}
	seen := map[string]bool{}
	for i, op := range k.Operators {
		p := fmt.Sprintf("console.operators[%d]", i)
		cf, err := fiscalcode.Parse(op.FiscalCode)
		switch {
		case err != nil:
			v.add(p+".fiscal_code", "not a valid fiscal code: %v", err)
		case cf != op.FiscalCode:
			v.add(p+".fiscal_code", "write it as %s (upper case, without TINIT-)", cf)
		case seen[cf]:
			v.add(p+".fiscal_code", "%s listed twice", cf)
		}
		seen[cf] = true
		if op.Role != ConsoleRead && op.Role != ConsoleAdmin {
			v.add(p+".role", "want %s or %s, got %q", ConsoleRead, ConsoleAdmin, op.Role)
		}
	}
	for i, cl := range c.Clients {
		for _, id := range consoleClientIDs {
			if cl.ID == id {
				v.add(fmt.Sprintf("clients[%d].id", i), "%q is the console's own client id", id)
			}
		}
	}
}

// ConsoleRole returns the console role of the person with fiscal code cf ("" when they have
// none).
func (k Console) ConsoleRole(cf string) string {
	for _, op := range k.Operators {
		if op.FiscalCode == cf {
			return op.Role
		}
	}
	return ""
}
