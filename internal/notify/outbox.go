package notify

import (
	"context"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/inps/sportello/internal/web"
)

// Message is one notification kept by the Outbox.
type Message struct {
	Time time.Time
	Notification
}

// Outbox keeps the last messages in memory (a ring) and shows them as a page. It stands in for
// SMS and post in dev mode, so a person can finish every PIN flow in a browser; never mount
// its handler outside dev mode: it shows the messages, PINs included.
type Outbox struct {
	mu   sync.Mutex
	ring []Message
	next int
	full bool
	now  func() time.Time
}

var _ Notifier = (*Outbox)(nil)

// NewOutbox returns an Outbox keeping the last size messages (default 200); now may be nil.
func NewOutbox(size int, now func() time.Time) *Outbox {
	if size <= 0 {
		size = 200
	}
	if now == nil {
		now = time.Now
	}
	return &Outbox{ring: make([]Message, size), now: now}
}

// Notify stores n.
func (o *Outbox) Notify(_ context.Context, n Notification) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ring[o.next] = Message{Time: o.now(), Notification: n}
	o.next = (o.next + 1) % len(o.ring)
	if o.next == 0 {
		o.full = true
	}
	return nil
}

// Messages returns the kept messages, newest first.
func (o *Outbox) Messages() []Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := o.next
	if o.full {
		n = len(o.ring)
	}
	out := make([]Message, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, o.ring[(o.next-i+len(o.ring))%len(o.ring)])
	}
	return out
}

var outboxLabels = web.Pairs{
	"title":   {"Posta in uscita (sviluppo)", "Outbox (development)"},
	"intro":   {"Messaggi inviati da sportello in modalità sviluppo: SMS, posta, e-mail e PEC.", "Messages sent by sportello in dev mode: SMS, post, e-mail and PEC."},
	"empty":   {"Nessun messaggio.", "No messages."},
	"time":    {"Ora", "Time"},
	"channel": {"Canale", "Channel"},
	"to":      {"Destinatario", "To"},
	"subject": {"Oggetto", "Subject"},
	"body":    {"Testo", "Text"},
	"sms":     {"SMS", "SMS"},
	"post":    {"Posta", "Post"},
	"email":   {"E-mail", "E-mail"},
	"pec":     {"PEC", "PEC"},
}

// outboxPages renders the outbox in the broker's layout (no inline style: the pages' CSP
// has none).
var outboxPages = web.New(outboxLabels.Messages("outbox."))

var outboxPage = template.Must(outboxPages.Layout().Parse(`{{define "body"}}
<h1 class="mb-3">{{.Title}}</h1><p class="lead">{{.T "outbox.intro"}}</p>
{{if not .Data}}<p>{{.T "outbox.empty"}}</p>{{else}}
<div class="table-responsive" tabindex="0" role="region" aria-label="{{.Title}}"><table class="table sp-outbox"><caption class="visually-hidden">{{.Title}}</caption>
<thead><tr><th scope="col">{{.T "outbox.time"}}</th><th scope="col">{{.T "outbox.channel"}}</th><th scope="col">{{.T "outbox.to"}}</th><th scope="col">{{.T "outbox.subject"}}</th><th scope="col">{{.T "outbox.body"}}</th></tr></thead><tbody>
{{range .Data}}<tr class="msg" data-channel="{{.Channel}}"><td>{{.Time.Format "02/01/2006 15:04:05"}}</td><td>{{$.T (printf "outbox.%s" .Channel)}}</td><td>{{.To}}</td><td>{{.Subject}}</td><td><pre class="sp-pre">{{.Body}}</pre></td></tr>
{{end}}</tbody></table></div>{{end}}
{{end}}`))

// ServeHTTP lists the messages as a page of the broker's layout (Italian by default, English
// with ?lang=en or an English Accept-Language).
func (o *Outbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lang := r.URL.Query().Get("lang")
	if lang != "it" && lang != "en" {
		lang = "it"
		if strings.HasPrefix(r.Header.Get("Accept-Language"), "en") {
			lang = "en"
		}
	}
	p := outboxPages.NewPage(r, lang, "", outboxLabels.Text(lang, "title", nil), o.Messages())
	_ = outboxPages.Render(w, http.StatusOK, outboxPage, p)
}
