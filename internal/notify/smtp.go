package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
)

// SMTP sends e-mail and PEC notifications through an SMTP relay.
type SMTP struct {
	// Addr is the relay's host:port.
	Addr string
	// From is the sender address, for example "INPS <noreply@inps.example>".
	From string
	// Auth authenticates to the relay (optional; net/smtp refuses PLAIN without TLS except
	// towards localhost).
	Auth smtp.Auth
	// TLS, when set, is used for STARTTLS; RequireTLS refuses relays that do not offer it.
	TLS        *tls.Config
	RequireTLS bool
	// Hello is the name sent in EHLO (default "localhost").
	Hello string
	// Timeout bounds one delivery (default 30s).
	Timeout time.Duration
	// Now is the clock for the Date header (default time.Now).
	Now func() time.Time
}

var _ Notifier = (*SMTP)(nil)

// ErrHeader is returned for addresses or subjects that would inject headers.
var ErrHeader = errors.New("notify: invalid address or subject")

// Notify sends n by e-mail. Channels other than email and pec are refused.
func (s *SMTP) Notify(ctx context.Context, n Notification) error {
	if n.Channel != "email" && n.Channel != "pec" {
		return fmt.Errorf("notify: SMTP cannot deliver channel %q", n.Channel)
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("%w: from: %w", ErrHeader, err)
	}
	to, err := mail.ParseAddress(n.To)
	if err != nil || strings.ContainsAny(n.To, "\r\n") {
		return fmt.Errorf("%w: to", ErrHeader)
	}
	if strings.ContainsAny(n.Subject, "\r\n") {
		return fmt.Errorf("%w: subject", ErrHeader)
	}
	msg, err := s.message(from, to, n)
	if err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("notify: smtp dial: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("notify: smtp greeting: %w", err)
	}
	defer c.Close()
	hello := s.Hello
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return fmt.Errorf("notify: smtp hello: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && s.TLS != nil {
		if err := c.StartTLS(s.TLS); err != nil {
			return fmt.Errorf("notify: smtp starttls: %w", err)
		}
	} else if s.RequireTLS {
		return errors.New("notify: smtp relay does not offer STARTTLS")
	}
	if s.Auth != nil {
		if err := c.Auth(s.Auth); err != nil {
			return fmt.Errorf("notify: smtp auth: %w", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("notify: smtp mail from: %w", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return fmt.Errorf("notify: smtp rcpt: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("notify: smtp data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("notify: smtp write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("notify: smtp end of data: %w", err)
	}
	return c.Quit()
}

// message builds an RFC 5322 text message, UTF-8, quoted-printable.
func (s *SMTP) message(from, to *mail.Address, n Notification) ([]byte, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	id := make([]byte, 12)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", from.String())
	fmt.Fprintf(&b, "To: %s\r\n", to.String())
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", n.Subject))
	fmt.Fprintf(&b, "Date: %s\r\n", now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id), domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(strings.ReplaceAll(n.Body, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
