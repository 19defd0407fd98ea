package broker

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/web"
	"github.com/inps/sportello/providers"
)

// pageTemplates is the shared layout (Bootstrap Italia, see internal/web): a page clones it and
// defines "body".
var pageTemplates = web.New().Layout()

// pageData is what the layout shows around a page body.
type pageData = web.Page

// langCookie remembers the language the person chose with the switch (?lang=), on any page,
// for a year. Only that choice: a relying party's ui_locales is for its own login (it is
// kept in the pending login), and Accept-Language is read afresh on every request.
const langCookie = "sportello_lang"

func (b *Broker) page(r *http.Request, lang, title string, data any) pageData {
	return b.catalogue.ui.NewPage(r, lang, cspNonce(r), title, data)
}

// rememberChosenLang sets the language cookie when the person used the language switch: a
// page asked with ?lang=it or ?lang=en (only the switch links carry it).
func (b *Broker) rememberChosenLang(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return
	}
	lang := r.URL.Query().Get("lang")
	if lang != "it" && lang != "en" {
		return
	}
	if c, err := r.Cookie(langCookie); err == nil && c.Value == lang {
		return
	}
	http.SetCookie(w, b.cookie(langCookie, lang, 365*24*time.Hour))
}

func (b *Broker) render(w http.ResponseWriter, status int, t *template.Template, data pageData) {
	if err := b.catalogue.ui.Render(w, status, t, data); err != nil {
		b.log.Error("template failed", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// errorPage renders a failure that cannot go back to a relying party.
func (b *Broker) errorPage(w http.ResponseWriter, r *http.Request, status int, code string, err error) {
	b.showError(w, r, errorView{Status: status, Code: code}, err)
}

// renderError shows what happened and what to do next (see showError), with the way back to
// the relying party and the way to try again, when there are.
func (b *Broker) renderError(w http.ResponseWriter, r *http.Request, status int, code string, err error, back, retry string) {
	b.showError(w, r, errorView{Status: status, Code: code, Back: back, Retry: retry}, err)
}

// chooserPage lists the providers that can reach the level asked, and says why others are
// hidden.
func (b *Broker) chooserPage(w http.ResponseWriter, r *http.Request, rec *loginRecord) {
	lang := b.pickLang(r, rec.Lang)
	t := func(key string) string { return b.catalogue.T(lang, key) }
	data := web.ChooserData{
		Intro:       t("chooser.intro"),
		Level:       fmt.Sprintf(t("chooser.level"), levelName(rec.ACR)),
		None:        t("chooser.none"),
		HiddenIntro: t("chooser.hidden"),
	}
	if cl, ok := b.client(rec.ClientID); ok {
		data.Service = cl.displayName.In(lang)
	}
	// A session cookie whose session is gone: the idle timeout closed it. Say so once.
	if c, err := r.Cookie(cookieSession); err == nil && c.Value != "" {
		if id, _ := b.sessionIdentity(r); id == nil {
			data.Notice = fmt.Sprintf(t("session.idle"), int(b.cfg.Tokens.SessionIdle/time.Minute))
			http.SetCookie(w, b.cookie(cookieSession, "", -1))
		}
	}
	for _, p := range b.provs {
		info := p.Info()
		if cl, ok := b.client(rec.ClientID); ok && !cl.offers(info.ID) {
			continue // not one of this client's credentials
		}
		entry := info.Entry // CIE ID is method cie with an entry of its own
		if entry == "" {
			entry = info.Method
		}
		name := pick(info.Name, lang, info.ID)
		display := b.methodText(lang, "chooser.name.", entry, name)
		if loa.LevelOf(info.MaxACR) < loa.LevelOf(rec.ACR) {
			data.Hidden = append(data.Hidden, web.HiddenOption{Name: display,
				Why: fmt.Sprintf(t("chooser.hidden_why"), levelName(info.MaxACR), levelName(rec.ACR))})
			continue
		}
		base := b.issuer + "/login/" + url.PathEscape(rec.ID) + "/" + url.PathEscape(info.ID)
		o := web.ChooserOption{ID: info.ID, Method: entry, Name: display,
			URL: base, Who: b.who(lang, entry, info), ChoicesLabel: t("chooser.spid_idps"),
			Button: b.methodText(lang, "chooser.button.", entry, fmt.Sprintf(t("chooser.enter"), name))}
		if ol, ok := p.(providers.OptionLister); ok {
			opts := ol.Options()
			if len(opts) == 0 { // no identity provider loaded yet: say so, no button to an error
				data.Hidden = append(data.Hidden, web.HiddenOption{Name: display, Why: t("chooser.no_options")})
				continue
			}
			// Options naming an entry of their own (the federation's SPID and CIE OPs) get it.
			for _, g := range entryGroups(opts) {
				e, oe := entry, o
				if g.entry != "" {
					e = g.entry
					oe.ID, oe.Method = info.ID+"-"+e, e
					oe.Name = b.methodText(lang, "chooser.name.", e, name)
					oe.Who = b.who(lang, e, info)
					oe.Button = b.methodText(lang, "chooser.button.", e, fmt.Sprintf(t("chooser.enter"), name))
				}
				for _, c := range g.opts {
					oe.Choices = append(oe.Choices, web.Choice{Name: c.Name, URL: base + "?hint=" + url.QueryEscape(c.Hint)})
				}
				if e == "spid" {
					// AgID's SPID button ends with these two links to the official pages.
					oe.Links = []web.Choice{{Name: t("chooser.spid_more"), URL: "https://www.spid.gov.it/"},
						{Name: t("chooser.spid_none"), URL: "https://www.spid.gov.it/cittadini/"}}
				} else if g.entry != "" && len(oe.Choices) == 1 {
					oe.URL, oe.Choices = oe.Choices[0].URL, nil // one OP: its entry's own button
				}
				data.Options = append(data.Options, oe)
			}
			continue
		}
		data.Options = append(data.Options, o)
	}
	b.render(w, http.StatusOK, b.catalogue.ui.Page("chooser"), b.page(r, lang, t("chooser.title"), data))
}

// methodText is the catalogue's text prefix+method, or def when the catalogue has none (a
// provider of a method the broker does not know).
func (b *Broker) methodText(lang, prefix, method, def string) string {
	if m, ok := b.catalogue.msgs()[prefix+method]; ok && m[lang] != "" {
		return m[lang]
	}
	return def
}

// who is the line saying whom a credential is for: the catalogue's line for its chooser
// entry, else the provider's own description.
func (b *Broker) who(lang, entry string, info providers.Info) string {
	return b.methodText(lang, "chooser.who.", entry, pick(info.Description, lang, ""))
}

func (b *Broker) loggedOutHTTP(w http.ResponseWriter, r *http.Request) {
	lang := b.pickLang(r, "")
	b.render(w, http.StatusOK, b.catalogue.ui.Page("message"), b.page(r, lang, b.catalogue.T(lang, "logout.title"),
		web.MessageData{Message: b.catalogue.T(lang, "logout.done"), Link: pathSignIn, LinkLabel: b.catalogue.T(lang, "logout.again")}))
}

func pick(m map[string]string, lang, def string) string {
	if s := m[lang]; s != "" {
		return s
	}
	if s := m["it"]; s != "" {
		return s
	}
	return def
}

func levelName(acr string) string {
	if l := loa.LevelOf(acr); l > 0 {
		return fmt.Sprintf("SPID L%d", l)
	}
	return acr
}

// WritePostForm writes the auto-submitting form of a SAML HTTP-POST binding in the page
// layout: an external script submits it (no inline JavaScript, so the CSP holds) and the
// button stays visible for browsers without JavaScript.
func (b *Broker) WritePostForm(w http.ResponseWriter, r *http.Request, action string, fields map[string]string) error {
	return b.catalogue.ui.WritePostForm(w, r, b.pickLang(r, ""), action, fields)
}

// WriteUnavailable answers a request that the store, or another dependency, could not serve:
// 503 with Retry-After and the layout's page saying that the service is temporarily
// unavailable and to try again shortly, in the person's language. err goes to the log, with
// the reference shown on the page. For provider pages and middleware outside the broker's
// own handlers (the SAML single logout, the rate limiter failing closed).
func (b *Broker) WriteUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Retry-After", retryAfterOutage)
	b.unavailablePage(w, r, err)
}

// entryGroup is the options of one chooser entry ("" the provider's own).
type entryGroup struct {
	entry string
	opts  []providers.Option
}

// entryGroups groups options by their Entry, in the order each entry first appears.
func entryGroups(opts []providers.Option) []entryGroup {
	var out []entryGroup
	for _, o := range opts {
		i := slices.IndexFunc(out, func(g entryGroup) bool { return g.entry == o.Entry })
		if i < 0 {
			out, i = append(out, entryGroup{entry: o.Entry}), len(out)
		}
		out[i].opts = append(out[i].opts, o)
	}
	return out
}
