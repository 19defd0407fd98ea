package pin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
)

// Category is who the holder is for INPS.
type Category string

// Categories.
const (
	Citizen      Category = "citizen"
	Intermediary Category = "intermediary"
	Official     Category = "official"
)

// Valid reports whether c is a known category.
func (c Category) Valid() bool { return c == Citizen || c == Intermediary || c == Official }

// Type is what the PIN allows: ordinario consults, dispositivo also submits applications.
type Type string

// PIN types.
const (
	Ordinario   Type = "ordinario"
	Dispositivo Type = "dispositivo"
)

// State is where a PIN is in its life.
type State string

// States.
const (
	// Requested: an online request waits for the phone confirmation (Config.ConfirmByPhone).
	Requested State = "requested"
	// Issued: the 16-character PIN went out and waits for activation or first access.
	Issued State = "issued"
	// Active: the PIN works (after first access it is the holder's 8-character PIN).
	Active State = "active"
	// Expired: not activated in time; a new PIN must be requested.
	Expired State = "expired"
	// Revoked: revoked by the holder or an operator.
	Revoked State = "revoked"
)

// Channel is how a PIN was requested.
type Channel string

// Channels.
const (
	Online        Channel = "online"
	ContactCenter Channel = "contact_center"
	Office        Channel = "office"
)

// Contacts are the registered ways to reach the holder.
type Contacts struct {
	Mobile string `json:"mobile,omitempty"`
	Email  string `json:"email,omitempty"`
	PEC    string `json:"pec,omitempty"`
	// Postal is the postal address (one string, lines separated by newlines).
	Postal string `json:"postal,omitempty"`
}

// HealthCard identifies the holder's Tessera Sanitaria (activation and revocation).
type HealthCard struct {
	Number string `json:"number"`
	// Expiry is YYYY-MM-DD.
	Expiry string `json:"expiry"`
}

// Person is the personal data given with a request.
type Person struct {
	FiscalCode string `json:"fiscal_code"`
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
	// Birthdate is YYYY-MM-DD.
	Birthdate  string `json:"birthdate,omitempty"`
	BirthPlace string `json:"birth_place,omitempty"`
	// Residence is the address of residence; Country its country ("IT" for Italy).
	Residence string `json:"residence,omitempty"`
	Country   string `json:"country,omitempty"`
	// ResidentAbroad and ItalianIDDocument drive the eligibility policy.
	ResidentAbroad    bool        `json:"resident_abroad"`
	ItalianIDDocument bool        `json:"italian_id_document"`
	Contacts          Contacts    `json:"contacts"`
	HealthCard        *HealthCard `json:"health_card,omitempty"`
}

// Record is one holder's PIN, as stored under "pin:{CF}:rec".
type Record struct {
	Person
	Category Category `json:"category"`
	Type     Type     `json:"type"`
	State    State    `json:"state"`
	Channel  Channel  `json:"channel"`
	// Initial is the hash of the 16-character PIN until first access; Current the hash of
	// the holder's own PIN afterwards. At most one is set.
	Initial *Hash `json:"initial,omitempty"`
	Current *Hash `json:"current,omitempty"`
	// Previous holds the hashes of the PINs before Current, newest first, at most
	// Config.PINHistory-1 of them: a new PIN may repeat none of them.
	Previous []*Hash `json:"previous,omitempty"`

	RequestedAt time.Time `json:"requested_at"`
	IssuedAt    time.Time `json:"issued_at,omitempty"`
	ActivatedAt time.Time `json:"activated_at,omitempty"`
	// PINSetAt is when the holder's PIN was last set; expiry counts from it.
	PINSetAt  time.Time `json:"pin_set_at,omitempty"`
	RevokedAt time.Time `json:"revoked_at,omitempty"`
	// Operator who issued, converted or revoked, when one did.
	Operator string `json:"operator,omitempty"`
	// Envelope is the number of the office envelope.
	Envelope string `json:"envelope,omitempty"`
}

// key builds "pin:{CF}:<suffix>"; the braces make CF a Redis Cluster hash tag.
func key(cf, suffix string) string { return "pin:{" + cf + "}:" + suffix }

func (s *Service) loadRecord(ctx context.Context, cf string) (*Record, error) {
	b, err := s.store.Get(ctx, key(cf, "rec"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoPIN
	}
	if err != nil {
		return nil, storeFailed("load record", err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("pin: decode record: %w", err)
	}
	return &r, nil
}

// updateRecord applies fn to the stored record under compare-and-swap. fn sees nil when there
// is no record; returning nil deletes.
func (s *Service) updateRecord(ctx context.Context, cf string, fn func(r *Record) (*Record, error)) (*Record, error) {
	var out *Record
	var refused error // fn's own error (or a record that does not decode): not the store's
	_, err := store.Update(ctx, s.store, key(cf, "rec"), 0, func(old []byte) ([]byte, error) {
		var cur *Record
		if old != nil {
			cur = new(Record)
			if err := json.Unmarshal(old, cur); err != nil {
				refused = fmt.Errorf("pin: decode record: %w", err)
				return nil, refused
			}
		}
		next, err := fn(cur)
		if err != nil {
			refused = err
			return nil, err
		}
		out = next
		if next == nil {
			return nil, nil
		}
		return json.Marshal(next)
	})
	if err != nil && refused == nil {
		return nil, storeFailed("update record", err)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// putJSON and getJSON store small JSON documents under the holder's namespace.
func (s *Service) putJSON(ctx context.Context, k string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := s.store.Put(ctx, k, b, ttl); err != nil {
		return storeFailed("store", err)
	}
	return nil
}

// getJSON reads k into v: store.ErrNotFound when absent, a store failure wrapped by
// storeFailed.
func (s *Service) getJSON(ctx context.Context, k string, v any) error {
	b, err := s.store.Get(ctx, k)
	if store.IsOutage(err) {
		return storeFailed("load", err)
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// storeFailed is a failure of the store while doing what: the service is unavailable
// (providers.ErrUnavailable), so pages answer 503 and "try again shortly", never a refusal
// of what the person typed.
func storeFailed(what string, err error) error {
	return fmt.Errorf("pin: %s: %w: %w", what, providers.ErrUnavailable, err)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("pin: decode: %w", err)
	}
	return nil
}
