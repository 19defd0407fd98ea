package pin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/inps/sportello/internal/store"
)

// Conversion states.
const (
	ConversionPending  = "pending"
	ConversionApproved = "approved"
	ConversionRejected = "rejected"
)

// Conversion is a request to turn an ordinario PIN into a dispositivo one, stored with its
// document under "pin:{CF}:conv".
type Conversion struct {
	FiscalCode  string    `json:"fiscal_code"`
	Status      string    `json:"status"`
	ContentType string    `json:"content_type"`
	Filename    string    `json:"filename"`
	Document    []byte    `json:"document"`
	RequestedAt time.Time `json:"requested_at"`
	DecidedAt   time.Time `json:"decided_at,omitempty"`
	DecidedBy   string    `json:"decided_by,omitempty"`
	Reason      string    `json:"reason,omitempty"`
}

// allowedDocuments are the content types accepted, detected from the bytes, not the name.
var allowedDocuments = map[string]bool{"application/pdf": true, "image/jpeg": true, "image/png": true}

// CheckDocument verifies size and content type (detected from the content) of an upload.
func (s *Service) CheckDocument(doc []byte) (string, error) {
	if len(doc) == 0 || int64(len(doc)) > s.cfg.MaxUpload {
		return "", fmt.Errorf("%w: size must be between 1 byte and %d bytes", ErrDocument, s.cfg.MaxUpload)
	}
	ct := http.DetectContentType(doc)
	if !allowedDocuments[ct] {
		return "", fmt.Errorf("%w: type %s is not PDF, JPEG or PNG", ErrDocument, ct)
	}
	return ct, nil
}

// RequestConversion stores the holder's conversion request with the signed form and identity
// document (one PDF, JPEG or PNG file). The holder proves the PIN as on login.
func (s *Service) RequestConversion(ctx context.Context, cf, pin, filename string, doc []byte) error {
	ct, err := s.CheckDocument(doc)
	if err != nil {
		return err
	}
	id, err := s.Authenticate(ctx, cf, pin)
	if err != nil {
		return err
	}
	if id.PINType == string(Dispositivo) {
		return fmt.Errorf("%w: the PIN is already dispositivo", ErrBadState)
	}
	if len(filename) > 200 {
		filename = filename[:200]
	}
	c := Conversion{FiscalCode: id.FiscalNumber, Status: ConversionPending, ContentType: ct, Filename: filename,
		Document: doc, RequestedAt: s.now()}
	if err := s.putJSON(ctx, key(id.FiscalNumber, "conv"), c, 0); err != nil {
		return err
	}
	s.audit(ctx, "pin.conversion_requested", id.FiscalNumber, map[string]any{"content_type": ct, "size": len(doc)})
	return nil
}

// ConversionRequest returns cf's conversion request, or ErrNoPIN when none is stored.
func (s *Service) ConversionRequest(ctx context.Context, cf string) (*Conversion, error) {
	var c Conversion
	err := s.getJSON(ctx, key(cf, "conv"), &c)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoPIN
	}
	if err != nil {
		return nil, fmt.Errorf("pin: load conversion: %w", err)
	}
	return &c, nil
}

// DecideConversion approves (the PIN becomes dispositivo) or rejects a pending conversion and
// notifies the holder.
func (s *Service) DecideConversion(ctx context.Context, operator, cf string, approve bool, reason string) error {
	cf, err := ParseFiscalCode(cf)
	if err != nil {
		return err
	}
	c, err := s.ConversionRequest(ctx, cf)
	if err != nil {
		return err
	}
	if c.Status != ConversionPending {
		return ErrBadState
	}
	var rec *Record
	if approve {
		rec, err = s.updateRecord(ctx, cf, func(r *Record) (*Record, error) {
			if r == nil || r.State == Revoked {
				return nil, ErrBadState
			}
			r.Type, r.Operator = Dispositivo, operator
			return r, nil
		})
		c.Status = ConversionApproved
	} else {
		rec, err = s.loadRecord(ctx, cf)
		c.Status = ConversionRejected
	}
	if err != nil {
		return err
	}
	c.DecidedAt, c.DecidedBy, c.Reason = s.now(), operator, reason
	c.Document = nil // the decision is recorded; the identity document is not kept longer
	if err := s.putJSON(ctx, key(cf, "conv"), c, 0); err != nil {
		return err
	}
	s.audit(ctx, "pin.conversion_"+c.Status, operator, map[string]any{"fiscal_code": cf, "reason": reason})
	msg := "INPS: il tuo PIN è ora dispositivo. / Your PIN is now dispositivo."
	if !approve {
		msg = "INPS: la richiesta di PIN dispositivo è stata respinta: " + reason +
			"\nYour request for a PIN dispositivo was rejected: " + reason
	}
	ch, to := "email", rec.Contacts.Email
	if to == "" {
		ch, to = "sms", rec.Contacts.Mobile
	}
	return s.notify(ctx, ch, to, "INPS PIN dispositivo", msg)
}
