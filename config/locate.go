package config

import (
	"errors"
	"regexp"
	"strconv"
)

// locate points each error into the file. A *FieldError without a position gets the one of
// its path, or, for a value the file leaves out (a required key, the missing half of a pair),
// the one of the nearest enclosing key that is written, down to the document itself. A value
// set by an environment variable (or a dev-mode flag) names it instead. Other errors are kept.
func (c *Config) locate(errs []error) []error {
	if len(errs) == 0 {
		return errs
	}
	out := make([]error, len(errs))
	for i, err := range errs {
		out[i] = err
		fe, ok := errors.AsType[*FieldError](err)
		if !ok || fe.Line > 0 || fe.SetBy != "" {
			continue
		}
		located := *fe
		if by := c.envPaths[fe.Path]; by != "" {
			located.SetBy = by
		} else if at, ok := c.nearest(fe.Path); ok {
			located.Line, located.Column = at.line, at.column
		} else {
			continue
		}
		out[i] = &located
	}
	return out
}

// Locate points errors found after Load into the file, as Load does its own: a *FieldError
// at a path (the signing keys at keys.dir, an IdP's metadata at its metadata_url) gets the
// line of that path or of its nearest enclosing key; other errors are kept.
func (c *Config) Locate(errs []error) []error { return c.locate(errs) }

// nearest is the position of path, or of its closest ancestor that the file writes.
func (c *Config) nearest(path string) (position, bool) {
	if c.at == nil {
		return position{}, false
	}
	if at, ok := c.at[path]; ok {
		return at, true
	}
	anc := ancestors(path)
	for i := len(anc) - 1; i >= 0; i-- {
		if at, ok := c.at[anc[i]]; ok {
			return at, true
		}
	}
	return position{}, false
}

// ancestors lists the enclosing paths of path, shortest first, the document ("") included:
// "clients[0].secret" gives "", "clients", "clients[0]". Quoted keys (`providers["a.b"]`)
// are one step.
func ancestors(path string) []string {
	out := []string{""}
	quoted := false
	for i := 0; i < len(path); i++ {
		switch ch := path[i]; {
		case quoted && ch == '\\':
			i++ // the escaped character
		case ch == '"':
			quoted = !quoted
		case !quoted && (ch == '.' || ch == '[') && i > 0:
			out = append(out, path[:i])
		}
	}
	return out
}

// yamlLine finds the line yaml.v3 writes at the start of a syntax error ("line 3: ...").
var yamlLine = regexp.MustCompile(`^line (\d+): `)

// syntaxError is a YAML syntax error located at its line. The parser names no line for a
// problem on the first one.
func syntaxError(msg string) *FieldError {
	e := &FieldError{Msg: "not valid YAML: " + msg, Line: 1}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
			e.Line, e.Msg = n, "not valid YAML: "+msg[len(m[0]):]
		}
	}
	return e
}
