package broker

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/providers"
)

// registeredOAuthErrors are the error codes an authorization response may carry: RFC 6749
// §4.1.2.1, OpenID Connect Core §3.1.2.6 and the IANA OAuth Extensions Error Registry's
// unmet_authentication_requirements (OpenID Connect Core Unmet Authentication Requirements).
var registeredOAuthErrors = []string{
	"invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
	"invalid_scope", "server_error", "temporarily_unavailable",
	"interaction_required", "login_required", "account_selection_required", "consent_required",
	"invalid_request_uri", "invalid_request_object", "request_not_supported",
	"request_uri_not_supported", "registration_not_supported",
	"unmet_authentication_requirements",
}

// providerSentinels are the names of the sentinel errors package providers declares
// (var ErrX = errors.New(...)), read from its source so that a new one cannot be missed.
func providerSentinels(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "providers", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					if strings.HasPrefix(n.Name, "Err") && n.IsExported() {
						names = append(names, n.Name)
					}
				}
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("no sentinel found in package providers")
	}
	return names
}

// tableSentinels are the names of the sentinels the rows of the failures table name, read
// from this package's source, in the table's order.
func tableSentinels(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "failures" {
			return true
		}
		for _, row := range vs.Values[0].(*ast.CompositeLit).Elts {
			if sel, ok := row.(*ast.CompositeLit).Elts[0].(*ast.SelectorExpr); ok {
				names = append(names, sel.Sel.Name)
			}
		}
		return false
	})
	return names
}

// The error table is complete and speaks only registered codes: every provider sentinel has
// exactly one row; every row's page key is in the catalogue in Italian and in English; every
// row answers a registered OAuth error code with a status of a refusal or an outage.
func TestTheErrorTableCoversEverySentinel(t *testing.T) {
	declared, rows := providerSentinels(t), tableSentinels(t)
	if len(rows) != len(failures) {
		t.Fatalf("read %d rows from errors.go, the table has %d", len(rows), len(failures))
	}
	for _, name := range declared {
		if n := strings.Count(" "+strings.Join(rows, " ")+" ", " "+name+" "); n != 1 {
			t.Errorf("providers.%s has %d rows in the error table, want 1", name, n)
		}
	}
	msgs := Messages()
	seen := map[error]bool{}
	for i, f := range append(slices.Clone(failures), unexpected) {
		name := "unexpected"
		if i < len(rows) {
			name = rows[i]
		}
		if f.sentinel == nil && i < len(failures) || seen[f.sentinel] {
			t.Errorf("row %s: sentinel nil or repeated", name)
		}
		seen[f.sentinel] = true
		for _, lang := range []string{"it", "en"} {
			if strings.TrimSpace(msgs[f.key][lang]) == "" {
				t.Errorf("row %s: page key %q has no %s text", name, f.key, lang)
			}
		}
		oe := f.oauth()
		if !slices.Contains(registeredOAuthErrors, string(oe.ErrorType)) {
			t.Errorf("row %s: OAuth error %q is not a registered code", name, oe.ErrorType)
		}
		if f.status < 400 || http.StatusText(f.status) == "" {
			t.Errorf("row %s: status %d is not an error status", name, f.status)
		}
	}
}

// The table answers each sentinel however deep it is wrapped, the first row winning where an
// error wraps two: a lock (a credential refusal too) says "locked"; a UserError's own key
// replaces the row's page key and nothing else; an error wrapping no sentinel is ours, a 500
// that says nothing of its cause; an outage is a 503, never "expired".
func TestTheErrorTableMapsWrappedErrors(t *testing.T) {
	for _, tt := range []struct {
		rule       string
		err        error
		oauth      string
		status     int
		key        string
		notExpired bool
	}{
		{"a lock says locked, before bad credentials", fmt.Errorf("pin: %w", &providers.LockedError{Until: time.Unix(0, 0)}),
			"access_denied", http.StatusForbidden, "login.locked", true},
		{"a wrapped level not reached", providers.Attempt(providers.MethodPIN, fmt.Errorf("x: %w", providers.ErrLevelNotReached)),
			"unmet_authentication_requirements", http.StatusForbidden, "login.level_not_reached", true},
		{"a UserError's key, the row's code", &providers.UserError{Code: "spid.nr19", Err: providers.ErrDenied},
			"access_denied", http.StatusForbidden, "spid.nr19", true},
		{"an outage joined to its cause", errors.Join(providers.ErrUnavailable, errors.New("dial tcp: refused")),
			"temporarily_unavailable", http.StatusServiceUnavailable, "broker.unavailable", true},
		{"an expired login", fmt.Errorf("relay state: %w", providers.ErrLoginExpired),
			"access_denied", http.StatusBadRequest, "login.expired", false},
		{"no sentinel: ours", errors.New("template: boom"), "server_error", http.StatusInternalServerError, "broker.error", true},
	} {
		t.Run(tt.rule, func(t *testing.T) {
			oe, status, key := classify(tt.err)
			if string(oe.ErrorType) != tt.oauth || status != tt.status || key != tt.key {
				t.Fatalf("classify = %s %d %s, want %s %d %s", oe.ErrorType, status, key, tt.oauth, tt.status, tt.key)
			}
			if tt.notExpired && key == "login.expired" {
				t.Fatal("said expired")
			}
			if regexp.MustCompile(`refused|boom`).MatchString(oe.Description) {
				t.Fatalf("the OAuth error tells the cause: %q", oe.Description)
			}
		})
	}
}
