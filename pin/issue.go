package pin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/inps/sportello/providers"
)

// Request is an online or Contact-Center request for a PIN.
type Request struct {
	Person
	// Category defaults to Citizen.
	Category Category
	// Channel is Online (default) or ContactCenter.
	Channel Channel
	// Operator is the Contact-Center operator who took the request, if any.
	Operator string
}

// validatePerson normalises and checks the personal data of a request.
func validatePerson(p *Person) error {
	cf, err := ParseFiscalCode(p.FiscalCode)
	if err != nil {
		return err
	}
	p.FiscalCode = cf
	p.GivenName = strings.TrimSpace(p.GivenName)
	p.FamilyName = strings.TrimSpace(p.FamilyName)
	p.Contacts.Mobile = normalizePhone(p.Contacts.Mobile)
	p.Contacts.Email = strings.ToLower(strings.TrimSpace(p.Contacts.Email))
	p.Contacts.PEC = strings.ToLower(strings.TrimSpace(p.Contacts.PEC))
	p.Contacts.Postal = strings.TrimSpace(p.Contacts.Postal)
	switch {
	case p.GivenName == "" || p.FamilyName == "":
		return fmt.Errorf("%w: given and family name are required", ErrInvalidInput)
	case len(p.GivenName) > 100 || len(p.FamilyName) > 100 || len(p.Contacts.Postal) > 500:
		return fmt.Errorf("%w: field too long", ErrInvalidInput)
	case p.Contacts.Email != "" && !strings.Contains(p.Contacts.Email, "@"):
		return fmt.Errorf("%w: e-mail address", ErrInvalidInput)
	case p.Contacts.PEC != "" && !strings.Contains(p.Contacts.PEC, "@"):
		return fmt.Errorf("%w: PEC address", ErrInvalidInput)
	}
	return nil
}

// normalizePhone keeps the digits and a leading plus.
func normalizePhone(s string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		if r >= '0' && r <= '9' || (r == '+' && i == 0) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// canReplace reports whether a new PIN may replace the existing record.
func canReplace(r *Record) bool {
	return r == nil || r.State == Expired || r.State == Revoked
}

// RequestPIN handles an online or Contact-Center request: it checks the eligibility policy,
// stores the record and, unless the request must be confirmed by phone first, issues an
// ordinario 16-character PIN whose first half goes by SMS (or e-mail) and second half by post.
//
// An online request for a fiscal code that already has a PIN answers nil, like one that
// issues a PIN, after the same costly work: the form never tells anyone whether a fiscal
// code has a PIN. The holder is told instead, on the registered contacts (never on those
// given with the request). A Contact-Center operator, who may see the record anyway, gets
// ErrHasPIN.
func (s *Service) RequestPIN(ctx context.Context, req Request) error {
	if req.Category == "" {
		req.Category = Citizen
	}
	if req.Channel == "" {
		req.Channel = Online
	}
	if err := validatePerson(&req.Person); err != nil {
		return err
	}
	if !req.Category.Valid() || (req.Channel != Online && req.Channel != ContactCenter) {
		return fmt.Errorf("%w: category or channel", ErrInvalidInput)
	}
	if req.Contacts.Mobile == "" && req.Contacts.Email == "" {
		return fmt.Errorf("%w: a mobile number or an e-mail address is required", ErrInvalidInput)
	}
	if req.Contacts.Postal == "" {
		return fmt.Errorf("%w: a postal address is required", ErrInvalidInput)
	}
	if !s.eligible(req.Person, req.Category) {
		s.audit(ctx, "pin.request_refused", req.FiscalCode, map[string]any{"reason": "eligibility", "policy": s.cfg.Eligibility.Policy})
		return ErrNotEligible
	}
	var existing *Record
	_, err := s.updateRecord(ctx, req.FiscalCode, func(r *Record) (*Record, error) {
		if !canReplace(r) {
			existing = r
			return nil, ErrHasPIN
		}
		return &Record{Person: req.Person, Category: req.Category, Type: Ordinario, State: Requested,
			Channel: req.Channel, Operator: req.Operator, RequestedAt: s.now()}, nil
	})
	if errors.Is(err, ErrHasPIN) && req.Channel == Online && existing != nil {
		return s.requestForExisting(ctx, existing)
	}
	if err != nil {
		return err
	}
	actor := req.FiscalCode
	if req.Operator != "" {
		actor = req.Operator
	}
	s.audit(ctx, "pin.requested", actor, map[string]any{"fiscal_code": req.FiscalCode, "channel": req.Channel, "category": req.Category})
	if s.cfg.ConfirmByPhone {
		return nil
	}
	return s.issueRemote(ctx, req.FiscalCode, actor)
}

// requestForExisting answers an online request for a fiscal code that has a PIN: the holder
// is told, and the Argon2id computation issuing would have run is spent, so both answers take
// about as long.
func (s *Service) requestForExisting(ctx context.Context, rec *Record) error {
	s.audit(ctx, "pin.request_refused", rec.FiscalCode, map[string]any{"reason": "has_pin", "channel": Online})
	s.noticeHolder(ctx, rec, noticeRequest)
	if s.cfg.ConfirmByPhone {
		return nil
	}
	pin, err := generateInitial(s.rand)
	if err != nil {
		return err
	}
	_, err = s.newHash(pin)
	return err
}

// ConfirmRequest is the operator's phone confirmation of a request (Config.ConfirmByPhone):
// it issues the PIN.
func (s *Service) ConfirmRequest(ctx context.Context, operator, cf string) error {
	cf, err := ParseFiscalCode(cf)
	if err != nil {
		return err
	}
	rec, err := s.loadRecord(ctx, cf)
	if err != nil {
		return err
	}
	if rec.State != Requested {
		return ErrBadState
	}
	return s.issueRemote(ctx, cf, operator)
}

// issueRemote draws the 16-character PIN, stores its hash and sends its two halves on two
// channels: the first 8 by SMS (e-mail when there is no mobile), the second 8 by post.
func (s *Service) issueRemote(ctx context.Context, cf, actor string) error {
	pin, err := generateInitial(s.rand)
	if err != nil {
		return err
	}
	h, err := s.newHash(pin)
	if err != nil {
		return err
	}
	rec, err := s.updateRecord(ctx, cf, func(r *Record) (*Record, error) {
		if r == nil || r.State != Requested {
			return nil, ErrBadState
		}
		r.State, r.Initial, r.Current, r.IssuedAt = Issued, h, nil, s.now()
		return r, nil
	})
	if err != nil {
		return err
	}
	if err := s.sendFirstHalf(ctx, rec, pin[:8]); err != nil {
		return err
	}
	body := fmt.Sprintf("INPS - PIN\n\n%s\n%s\n\nSeconda parte del PIN / Second half of your PIN: %s\n\n"+
		"Attiva il PIN entro %d giorni. / Activate the PIN within %d days.\n",
		rec.GivenName+" "+rec.FamilyName, rec.Contacts.Postal, pin[8:], s.cfg.ActivationDays, s.cfg.ActivationDays)
	if err := s.notify(ctx, "post", rec.Contacts.Postal, "INPS PIN", body); err != nil {
		return fmt.Errorf("pin: send second half: %w", err)
	}
	s.audit(ctx, "pin.issued", actor, map[string]any{"fiscal_code": cf, "type": rec.Type, "channel": rec.Channel})
	return nil
}

// sendFirstHalf sends the first 8 characters by SMS, or by e-mail without a mobile number.
func (s *Service) sendFirstHalf(ctx context.Context, rec *Record, half string) error {
	msg := "INPS: prima parte del PIN / first half of your PIN: " + half
	var err error
	if rec.Contacts.Mobile != "" {
		err = s.notify(ctx, "sms", rec.Contacts.Mobile, "", msg)
	} else {
		err = s.notify(ctx, "email", rec.Contacts.Email, "INPS PIN", msg+"\n")
	}
	if err != nil {
		return fmt.Errorf("pin: send first half: %w", err)
	}
	return nil
}

// OfficeRequest is a PIN issued at an INPS office after the identity check (form MV35).
type OfficeRequest struct {
	Person
	// Category defaults to Citizen.
	Category Category
	// IDDocument describes the document shown (type and number); required.
	IDDocument string
	// OnBehalf names the parent or guardian applying for a minor or a person under
	// guardianship, when not the holder.
	OnBehalf string
}

// Envelope is the printable sealed envelope of an office PIN. Its Text holds the PIN: print
// it, hand it over, never store or log it.
type Envelope struct {
	Number string
	Text   string
}

// IssueAtOffice issues a dispositivo PIN at once, active and awaiting first access, and returns
// the printable envelope.
func (s *Service) IssueAtOffice(ctx context.Context, operator string, req OfficeRequest) (*Envelope, error) {
	if req.Category == "" {
		req.Category = Citizen
	}
	if err := validatePerson(&req.Person); err != nil {
		return nil, err
	}
	if !req.Category.Valid() || strings.TrimSpace(req.IDDocument) == "" || operator == "" {
		return nil, fmt.Errorf("%w: category, identity document and operator are required", ErrInvalidInput)
	}
	if !s.eligible(req.Person, req.Category) {
		s.audit(ctx, "pin.request_refused", operator, map[string]any{"fiscal_code": req.FiscalCode, "reason": "eligibility"})
		return nil, ErrNotEligible
	}
	pin, err := generateInitial(s.rand)
	if err != nil {
		return nil, err
	}
	num, err := generateDigits(s.rand, 10)
	if err != nil {
		return nil, err
	}
	h, err := s.newHash(pin)
	if err != nil {
		return nil, err
	}
	now := s.now()
	rec, err := s.updateRecord(ctx, req.FiscalCode, func(r *Record) (*Record, error) {
		if !canReplace(r) {
			return nil, ErrHasPIN
		}
		return &Record{Person: req.Person, Category: req.Category, Type: Dispositivo, State: Active,
			Channel: Office, Initial: h, RequestedAt: now, IssuedAt: now, ActivatedAt: now, PINSetAt: now,
			Operator: operator, Envelope: num}, nil
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "pin.issued", operator, map[string]any{"fiscal_code": rec.FiscalCode, "type": Dispositivo,
		"channel": Office, "envelope": num, "on_behalf": req.OnBehalf, "id_document": req.IDDocument})
	text := fmt.Sprintf("INPS - PIN DISPOSITIVO\nBusta n. / Envelope no. %s\n\n%s %s\nCodice fiscale / Fiscal code: %s\n\n"+
		"PIN: %s %s\n\nAl primo accesso sceglierà un nuovo PIN di 8 caratteri.\n"+
		"At first access you will choose a new 8-character PIN.\n",
		num, rec.GivenName, rec.FamilyName, rec.FiscalCode, pin[:8], pin[8:])
	return &Envelope{Number: num, Text: text}, nil
}

// ActivationError is a refused activation: the health-card data match no PIN awaiting
// activation on the fiscal code, whether the card is wrong, the record holds no card or there
// is no PIN at all (one answer for all). It counted in the holder's lockout like a wrong PIN
// and set the lock until Until; errors.Is(err, providers.ErrBadCredentials) and
// errors.As(err, **providers.LockedError) both hold.
type ActivationError struct {
	// Failures counts the consecutive failures (wrong PINs and activations) so far.
	Failures int64
	Until    time.Time
}

// Error says how many failures and until when; never the card data.
func (e *ActivationError) Error() string {
	return fmt.Sprintf("pin: activation data do not match (%d consecutive failures), locked until %s",
		e.Failures, e.Until.UTC().Format(time.RFC3339))
}

// Unwrap exposes both the bad-credentials sentinel and the lock.
func (e *ActivationError) Unwrap() []error {
	return []error{providers.ErrBadCredentials, &providers.LockedError{Until: e.Until}}
}

// Activate activates an issued PIN with the holder's health-card data, within
// Config.ActivationDays of issuance; later the PIN expires and must be requested again. A
// record without health-card data is activated by its first access instead.
//
// The health-card data are a secret to guess like a PIN, so Activate runs under the PIN's
// lockout: a locked account is refused before anything is compared, and data that match no
// PIN awaiting activation (an *ActivationError, the same for a fiscal code with or without a
// PIN) add one failure to the counter wrong PINs add to. Right data do not clear the counter:
// only the right PIN does. The holder of an existing PIN is told of a failed attempt on the
// registered contacts.
func (s *Service) Activate(ctx context.Context, cf string, hc HealthCard) error {
	cf, err := ParseFiscalCode(cf)
	if err != nil {
		return err
	}
	var found *Record
	err = s.attempt(ctx, cf, realmWeb, keepOnSuccess, func() (bool, error) {
		r, err := s.loadRecord(ctx, cf)
		if err != nil && !errors.Is(err, ErrNoPIN) {
			return false, fmt.Errorf("%w: %w", providers.ErrUnavailable, err)
		}
		found = r
		return matchesHealthCard(r, hc), nil
	})
	var wrong *WrongPINError
	if errors.As(err, &wrong) {
		s.audit(ctx, "pin.activation_failed", cf, map[string]any{"failures": wrong.Failures})
		if found != nil {
			s.noticeHolder(ctx, found, noticeActivation)
		}
		return &ActivationError{Failures: wrong.Failures, Until: wrong.Until}
	}
	if err != nil {
		return err
	}
	var expired bool
	_, err = s.updateRecord(ctx, cf, func(r *Record) (*Record, error) {
		expired = false
		if r == nil || r.State != Issued || !matchesHealthCard(r, hc) {
			return nil, ErrBadState
		}
		if s.now().After(s.activationDeadline(r)) {
			expired = true
			r.State = Expired
			return r, nil
		}
		r.State, r.ActivatedAt, r.PINSetAt = Active, s.now(), s.now()
		return r, nil
	})
	if err != nil {
		return err
	}
	if expired {
		s.audit(ctx, "pin.activation_expired", cf, nil)
		return ErrActivationExpired
	}
	s.audit(ctx, "pin.activated", cf, nil)
	return nil
}

// matchesHealthCard reports whether hc is the card on r, comparing in constant time; without
// a record or a card it compares against a placeholder, so the answer takes as long.
func matchesHealthCard(r *Record, hc HealthCard) bool {
	want, ok := HealthCard{Number: "-", Expiry: "-"}, r != nil && r.HealthCard != nil
	if ok {
		want = *r.HealthCard
	}
	return sameHealthCard(want, hc) && ok
}

func sameHealthCard(a, b HealthCard) bool {
	n := subtle.ConstantTimeCompare([]byte(strings.TrimSpace(a.Number)), []byte(strings.TrimSpace(b.Number)))
	e := subtle.ConstantTimeCompare([]byte(strings.TrimSpace(a.Expiry)), []byte(strings.TrimSpace(b.Expiry)))
	return n&e == 1
}
