package notify

import (
	"context"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/inps/sportello/providers"
)

// Message is one notification kept by the Outbox.
type Message struct {
	Time time.Time
	providers.Notification
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

var _ providers.Notifier = (*Outbox)(nil)

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
func (o *Outbox) Notify(_ context.Context, n providers.Notification) error {
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

var outboxLabels = map[string]map[string]string{
	"it": {"title": "Posta in uscita (sviluppo)", "intro": "Messaggi inviati da sportello in modalità sviluppo: SMS, posta, e-mail e PEC.",
		"empty": "Nessun messaggio.", "time": "Ora", "channel": "Canale", "to": "Destinatario", "subject": "Oggetto", "body": "Testo",
		"sms": "SMS", "post": "Posta", "email": "E-mail", "pec": "PEC", "other": "English"},
	"en": {"title": "Outbox (development)", "intro": "Messages sent by sportello in dev mode: SMS, post, e-mail and PEC.",
		"empty": "No messages.", "time": "Time", "channel": "Channel", "to": "To", "subject": "Subject", "body": "Text",
		"sms": "SMS", "post": "Post", "email": "E-mail", "pec": "PEC", "other": "Italiano"},
}

var outboxPage = template.Must(template.New("outbox").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{index .L "title"}}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:1em auto;padding:0 1em}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:.4em;vertical-align:top;text-align:left}pre{white-space:pre-wrap;margin:0}</style></head>
<body><p><a href="?lang={{.Other}}">{{index .L "other"}}</a></p>
<h1>{{index .L "title"}}</h1><p>{{index .L "intro"}}</p>
{{if not .Messages}}<p>{{index .L "empty"}}</p>{{else}}
<table><thead><tr><th>{{index .L "time"}}</th><th>{{index .L "channel"}}</th><th>{{index .L "to"}}</th><th>{{index .L "subject"}}</th><th>{{index .L "body"}}</th></tr></thead><tbody>
{{range .Messages}}<tr class="msg" data-channel="{{.Channel}}"><td>{{.Time.Format "2006-01-02 15:04:05"}}</td><td>{{index $.L .Channel}}</td><td>{{.To}}</td><td>{{.Subject}}</td><td><pre>{{.Body}}</pre></td></tr>
{{end}}</tbody></table>{{end}}</body></html>`))

// ServeHTTP lists the messages as an HTML page (Italian by default, English with ?lang=en or
// an English Accept-Language).
func (o *Outbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lang := r.URL.Query().Get("lang")
	if lang != "it" && lang != "en" {
		lang = "it"
		if strings.HasPrefix(r.Header.Get("Accept-Language"), "en") {
			lang = "en"
		}
	}
	other := "en"
	if lang == "en" {
		other = "it"
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = outboxPage.Execute(w, map[string]any{"Lang": lang, "Other": other, "L": outboxLabels[lang], "Messages": o.Messages()})
}
