package x509auth

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

// AMR is what a smart-card login proves (RFC 8176): smart card, PIN, hardware key, multi-factor.
var AMR = []string{"sc", "pin", "hwk", "mfa"}

// Audit event types.
const (
	AuditLogin    = "cert.login"
	AuditRejected = "cert.rejected"
)

// Authenticator turns a Validator into a providers.CertificateAuthenticator; providers/card
// configures one per card type (CIE, CNS).
type Authenticator struct {
	// ProviderInfo describes the provider to the login page.
	ProviderInfo providers.Info
	// ACR is the level the login reaches.
	ACR       string
	Validator *Validator
	// Auditor records the certificate serial and issuer of every attempt (never the whole
	// certificate). Required.
	Auditor audit.Auditor
	Logger  *slog.Logger
	Now     func() time.Time
}

var _ providers.CertificateAuthenticator = (*Authenticator)(nil)

// Info implements providers.Provider.
func (a *Authenticator) Info() providers.Info { return a.ProviderInfo }

// AuthenticateCertificate validates chain and returns the holder's identity. Refusals are
// *providers.UserError values wrapping providers.ErrCredentialRejected.
func (a *Authenticator) AuthenticateCertificate(ctx context.Context, chain []*x509.Certificate) (*providers.Identity, error) {
	method := a.ProviderInfo.Method
	res, err := a.Validator.Validate(ctx, chain)
	if err != nil {
		fields := map[string]any{"provider": a.ProviderInfo.ID, "method": method, "reason": Reason(err)}
		if len(chain) > 0 && chain[0] != nil {
			fields["serial"] = chain[0].SerialNumber.Text(16)
			fields["issuer"] = chain[0].Issuer.String()
		}
		a.Logger.Info("certificate refused", "reason", Reason(err), "err", err, "serial", fields["serial"])
		if aerr := a.Auditor.Audit(ctx, audit.Event{Time: a.Now(), Type: AuditRejected, Fields: fields}); aerr != nil {
			a.Logger.Error("audit failed", "err", aerr)
		}
		return nil, err
	}
	id := &providers.Identity{
		FiscalNumber: res.FiscalNumber,
		GivenName:    res.GivenName,
		FamilyName:   res.FamilyName,
		Method:       method,
		ACR:          a.ACR,
		AMR:          append([]string(nil), AMR...),
		AuthTime:     a.Now(),
		Attributes: map[string]string{
			"cert_serial": res.Serial, "cert_issuer": res.Issuer, "cert_policy": res.Policy,
		},
		CertAuthorities: AuthorityIDs(res.Chain),
	}
	err = a.Auditor.Audit(ctx, audit.Event{
		Time: id.AuthTime, Type: AuditLogin, Actor: id.FiscalNumber,
		Fields: map[string]any{
			"provider": a.ProviderInfo.ID, "method": method, "serial": res.Serial,
			"issuer": res.Issuer, "policy": res.Policy, "acr": a.ACR,
		},
	})
	if err != nil {
		// The audit trail is a deliberate record: no record, no login.
		return nil, fmt.Errorf("%w: audit: %w", providers.ErrUnavailable, err)
	}
	return id, nil
}

// AuthorityID is the id of a CA certificate: the lower-case hexadecimal SHA-256 of its DER
// encoding, the id of its entry (kind idp) in the console and of its switch.
func AuthorityID(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// AuthorityIDs are the ids of the CAs of a verified chain (leaf first): every certificate
// but the leaf, the leaf's issuer first, the trust anchor last.
func AuthorityIDs(chain []*x509.Certificate) []string {
	if len(chain) < 2 {
		return nil
	}
	ids := make([]string, 0, len(chain)-1)
	for _, c := range chain[1:] {
		ids = append(ids, AuthorityID(c))
	}
	return ids
}

// NewAuthenticator checks the fields and fills defaults (Logger, Now).
func NewAuthenticator(a Authenticator) (*Authenticator, error) {
	switch {
	case a.Validator == nil:
		return nil, errors.New("x509auth: authenticator without validator")
	case a.Auditor == nil:
		return nil, errors.New("x509auth: authenticator without auditor")
	case loa.LevelOf(a.ACR) == 0:
		return nil, fmt.Errorf("x509auth: acr %q", a.ACR)
	}
	if a.Logger == nil {
		a.Logger = slog.Default()
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	return &a, nil
}
