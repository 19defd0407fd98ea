package notify

import (
	"bufio"
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpServer is a minimal SMTP server (RFC 5321 happy path) on a free port of 127.0.0.1.
type smtpServer struct {
	ln   net.Listener
	mu   sync.Mutex
	mail []received
}

type received struct {
	from, to string
	data     string
}

func startSMTP(t *testing.T) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	reply := func(l string) { io.WriteString(c, l+"\r\n") }
	reply("220 test ESMTP")
	var cur received
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			reply("250-test\r\n250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			cur = received{from: addrOf(line[10:])}
			reply("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			cur.to = addrOf(line[8:])
			reply("250 ok")
		case cmd == "DATA":
			reply("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			cur.data = b.String()
			s.mu.Lock()
			s.mail = append(s.mail, cur)
			s.mu.Unlock()
			reply("250 queued")
		case cmd == "QUIT":
			reply("221 bye")
			return
		default:
			reply("250 ok")
		}
	}
}

func TestSMTPDeliversOverARealConnection(t *testing.T) {
	srv := startSMTP(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s := &SMTP{Addr: srv.ln.Addr().String(), From: "INPS <noreply@inps.example>", Now: func() time.Time { return now }}
	err := s.Notify(context.Background(), Notification{Channel: "email", To: "giovanna@example.org",
		Subject: "PIN smarrito – recupero", Body: "Seconda parte del PIN: 89ABCDEF\nàèì\n"})
	if err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.mail) != 1 || srv.mail[0].from != "noreply@inps.example" || srv.mail[0].to != "giovanna@example.org" {
		t.Fatalf("%+v", srv.mail)
	}
	m, err := mail.ReadMessage(strings.NewReader(srv.mail[0].data))
	if err != nil {
		t.Fatal(err)
	}
	subj, _ := new(mimeDecoder).decode(m.Header.Get("Subject"))
	body, _ := io.ReadAll(quotedprintable.NewReader(m.Body))
	if subj != "PIN smarrito – recupero" || !strings.Contains(string(body), "89ABCDEF\r\nàèì") ||
		m.Header.Get("Date") != now.Format(time.RFC1123Z) {
		t.Fatalf("subject %q body %q headers %v", subj, body, m.Header)
	}
}

func TestSMTPRefusesHeaderInjection(t *testing.T) {
	s := &SMTP{Addr: "127.0.0.1:1", From: "noreply@inps.example"}
	for _, n := range []Notification{
		{Channel: "email", To: "a@example.org\r\nBcc: evil@example.org", Subject: "x"},
		{Channel: "email", To: "a@example.org", Subject: "x\r\nBcc: evil@example.org"},
	} {
		if err := s.Notify(context.Background(), n); !errors.Is(err, ErrHeader) {
			t.Fatalf("%q: %v", n.To, err)
		}
	}
	if err := s.Notify(context.Background(), Notification{Channel: "sms", To: "+39333"}); err == nil {
		t.Fatal("SMTP accepted an SMS")
	}
}

func TestOutboxKeepsTheLastMessagesNewestFirst(t *testing.T) {
	o := NewOutbox(3, nil)
	for _, b := range []string{"1", "2", "3", "4"} {
		o.Notify(context.Background(), Notification{Channel: "sms", To: "+39", Body: b})
	}
	var got []string
	for _, m := range o.Messages() {
		got = append(got, m.Body)
	}
	if strings.Join(got, "") != "432" {
		t.Fatalf("%v", got)
	}
}

func TestOutboxPageInItalianAndEnglish(t *testing.T) {
	o := NewOutbox(0, nil)
	o.Notify(context.Background(), Notification{Channel: "post", To: "Via Roma 1", Body: "PIN <b>89ABCDEF</b>"})
	for lang, want := range map[string]string{"it": "Posta in uscita", "en": "Outbox"} {
		rec := httptest.NewRecorder()
		o.ServeHTTP(rec, httptest.NewRequest("GET", "/dev/outbox?lang="+lang, nil))
		body := rec.Body.String()
		if !strings.Contains(body, want) || !strings.Contains(body, "&lt;b&gt;89ABCDEF") || strings.Contains(body, "<b>89") {
			t.Fatalf("%s page: %s", lang, body)
		}
	}
}

func TestMultiRoutesByChannel(t *testing.T) {
	sms, def := NewOutbox(0, nil), NewOutbox(0, nil)
	m := &Multi{Routes: map[string]Notifier{"sms": sms, "post": sms}, Default: def}
	m.Notify(context.Background(), Notification{Channel: "sms"})
	m.Notify(context.Background(), Notification{Channel: "post"})
	m.Notify(context.Background(), Notification{Channel: "email"})
	if len(sms.Messages()) != 2 || len(def.Messages()) != 1 {
		t.Fatal("wrong routing")
	}
	if err := (&Multi{}).Notify(context.Background(), Notification{Channel: "fax"}); err == nil {
		t.Fatal("no route must be an error")
	}
}

type mimeDecoder struct{}

type mimeWordDecoder = mime.WordDecoder

func (mimeDecoder) decode(s string) (string, error) {
	var d = new(mimeWordDecoder)
	return d.DecodeHeader(s)
}

// addrOf returns the address inside <...> of a MAIL or RCPT argument.
func addrOf(arg string) string {
	i, j := strings.IndexByte(arg, '<'), strings.IndexByte(arg, '>')
	if i < 0 || j < i {
		return strings.TrimSpace(arg)
	}
	return arg[i+1 : j]
}

// The outbox is a page of the broker's layout, styled by its stylesheets: no inline style,
// which the pages' Content-Security-Policy refuses.
func TestOutboxPageUsesTheLayoutWithoutInlineStyle(t *testing.T) {
	o := NewOutbox(0, nil)
	o.Notify(context.Background(), Notification{Channel: "sms", To: "+39333", Body: "INPS: PIN"})
	rec := httptest.NewRecorder()
	o.ServeHTTP(rec, httptest.NewRequest("GET", "/dev/outbox?lang=en", nil))
	body := rec.Body.String()
	for _, want := range []string{`<html lang="en">`, "bootstrap-italia.min.css", "sportello.css", `<main id="main"`, `class="table sp-outbox"`, `scope="col"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the outbox lacks %s", want)
		}
	}
	if strings.Contains(body, "<style") || strings.Contains(body, " style=") {
		t.Error("inline style on the outbox")
	}
}
