// Package example is the smallest credential: a form with one button that logs in a fixed
// dev person at SPID level 1. It shows what adding a provider takes (one package exporting a
// providers.Type, one line in cmd/sportello's list) and is refused outside dev mode, so a
// production configuration can never enable it.
package example

import (
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

// Config is an example section; it has no settings of its own:
//
//	providers:
//	  hello:
//	    type: example
type Config struct{}

// Type is the example provider type for cmd/sportello's list.
var Type = providers.Type{
	Name:  "example",
	Order: 9,
	Decode: func(id string, p *config.Provider, dev bool) (any, []error) {
		var c Config
		if errs := p.Decode(id, &c); len(errs) > 0 {
			return nil, errs
		}
		if !dev {
			return nil, []error{&config.FieldError{Path: "providers." + id + ".type", Line: p.Node.Line, Column: p.Node.Column, Msg: "the example provider works in dev mode only"}}
		}
		return &c, nil
	},
	Open: func(h providers.Host, _ any) (providers.Provider, error) { return &Provider{h: h}, nil },
}

// Person is who the form logs in.
const Person = "RSSMRA80A01H501U"

// Provider is the example login.
type Provider struct{ h providers.Host }

var _ providers.RedirectProvider = (*Provider)(nil)

// Info implements providers.Provider.
func (p *Provider) Info() providers.Info {
	return providers.Info{ID: p.h.ID, Method: Type.Name, MaxACR: loa.SpidL1,
		Name: map[string]string{"it": "Prova", "en": "Example"}}
}

// Routes implements providers.RouteProvider.
func (p *Provider) Routes() []string { return []string{p.base()} }

// base is the prefix of the provider's pages.
func (p *Provider) base() string { return "/example/" + p.h.ID + "/" }

// Start sends the browser to the form of the pending login.
func (p *Provider) Start(w http.ResponseWriter, r *http.Request, req *providers.LoginRequest) error {
	http.Redirect(w, r, p.base()+"login?"+url.Values{"login": {req.ID}}.Encode(), http.StatusFound)
	return nil
}

var form = template.Must(template.New("form").Parse(`<!doctype html><title>Example</title>
<form method="post"><input type="hidden" name="login" value="{{.Login}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<button>Log in as {{.Person}}</button></form>`))

// Handler serves the form (GET) and ends the login with the fixed person (POST).
func (p *Provider) Handler(f providers.Finisher) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(p.base()+"login", func(w http.ResponseWriter, r *http.Request) {
		login := r.FormValue("login")
		if r.Method != http.MethodPost {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = form.Execute(w, map[string]string{"Login": login, "CSRF": p.h.Broker.CSRFToken(r), "Person": Person})
			return
		}
		if !p.h.Broker.CheckCSRF(r) {
			f.Fail(w, r, login, providers.ErrCredentialRejected)
			return
		}
		f.Finish(w, r, login, &providers.Identity{FiscalNumber: Person, GivenName: "Mario", FamilyName: "Rossi",
			Method: Type.Name, ACR: loa.SpidL1, AMR: []string{"user"}, AuthTime: time.Now()})
	})
	return mux
}
