package pin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/inps/sportello/internal/store"
)

// Authorisations (abilitazioni) a municipality may ask for its officials, as they appear in
// the entitlements claim.
const (
	AuthISEEConsultation           = "isee:consultazione"
	AuthISEEAcquisition            = "isee:acquisizione_consultazione"
	AuthSocialBenefitsConsultation = "prestazioni_sociali:consultazione"
	AuthSocialBenefitsAcquisition  = "prestazioni_sociali:consultazione_acquisizione"
	AuthRegistryChanges            = "variazioni_anagrafiche"
	AuthCasellarioPensionati       = "casellario_pensionati"
	AuthDOMUS                      = "servizi_cittadino:domus"
	AuthCUD                        = "servizi_cittadino:cud"
	AuthObisM                      = "servizi_cittadino:obism"
	AuthContributionStatement      = "servizi_cittadino:estratto_conto_contributivo"
	AuthPaymentStatement           = "servizi_cittadino:estratto_pagamenti"
)

// Authorisations lists every known authorisation.
var Authorisations = []string{
	AuthISEEConsultation, AuthISEEAcquisition, AuthSocialBenefitsConsultation,
	AuthSocialBenefitsAcquisition, AuthRegistryChanges, AuthCasellarioPensionati, AuthDOMUS,
	AuthCUD, AuthObisM, AuthContributionStatement, AuthPaymentStatement,
}

// exclusive pairs: the wider authorisation replaces the narrower one.
var wider = map[string]string{
	AuthISEEConsultation:           AuthISEEAcquisition,
	AuthSocialBenefitsConsultation: AuthSocialBenefitsAcquisition,
}

// Grants are a person's authorisations, under "pin:{CF}:auth". They belong to the person, not
// to a credential: an official who logs in with SPID, CIE or CNS keeps them.
type Grants struct {
	FiscalCode string `json:"fiscal_code"`
	// Municipality and Convenzione record the agreement the authorisations rest on.
	Municipality   string    `json:"municipality"`
	Convenzione    string    `json:"convenzione"`
	Authorisations []string  `json:"authorisations"`
	UpdatedAt      time.Time `json:"updated_at"`
	UpdatedBy      string    `json:"updated_by"`
}

// Grant is an operator's request to add authorisations to an official.
type Grant struct {
	FiscalCode     string
	Municipality   string
	Convenzione    string
	Authorisations []string
}

// Entitlements returns the person's authorisations, sorted (nil when none). It applies to any
// credential: the broker calls it for SPID, CIE and CNS logins too.
func (s *Service) Entitlements(ctx context.Context, cf string) ([]string, error) {
	g, err := s.Grants(ctx, cf)
	if err != nil || g == nil {
		return nil, err
	}
	return g.Authorisations, nil
}

// Grants returns the person's grants, or nil when there are none.
func (s *Service) Grants(ctx context.Context, cf string) (*Grants, error) {
	cf = strings.ToUpper(strings.TrimSpace(cf))
	var g Grants
	err := s.getJSON(ctx, key(cf, "auth"), &g)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pin: load authorisations: %w", err)
	}
	return &g, nil
}

// AddAuthorisations adds authorisations to an official under the municipality's convenzione.
// An official who already holds a PIN keeps it (it is extended, never replaced); the record's
// category becomes Official. It returns the grants after the change.
func (s *Service) AddAuthorisations(ctx context.Context, operator string, g Grant) (*Grants, error) {
	cf, err := ParseFiscalCode(g.FiscalCode)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(g.Municipality) == "" || strings.TrimSpace(g.Convenzione) == "" {
		return nil, ErrNoConvenzione
	}
	for _, a := range g.Authorisations {
		if !slices.Contains(Authorisations, a) {
			return nil, fmt.Errorf("%w: unknown authorisation %q", ErrInvalidInput, a)
		}
	}
	if len(g.Authorisations) == 0 {
		return nil, fmt.Errorf("%w: no authorisation given", ErrInvalidInput)
	}
	out, err := s.updateGrants(ctx, cf, func(cur *Grants) *Grants {
		if cur == nil {
			cur = &Grants{FiscalCode: cf}
		}
		cur.Municipality, cur.Convenzione = strings.TrimSpace(g.Municipality), strings.TrimSpace(g.Convenzione)
		for _, a := range g.Authorisations {
			if w, ok := wider[a]; ok && slices.Contains(cur.Authorisations, w) {
				continue
			}
			for narrow, w := range wider {
				if w == a {
					cur.Authorisations = slices.DeleteFunc(cur.Authorisations, func(x string) bool { return x == narrow })
				}
			}
			if !slices.Contains(cur.Authorisations, a) {
				cur.Authorisations = append(cur.Authorisations, a)
			}
		}
		return cur
	}, operator)
	if err != nil {
		return nil, err
	}
	// The existing PIN, if any, now serves the official: extend it.
	_, err = s.updateRecord(ctx, cf, func(r *Record) (*Record, error) {
		if r == nil || r.State == Revoked {
			return r, nil
		}
		r.Category = Official
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "pin.authorisations_added", operator, map[string]any{"fiscal_code": cf,
		"authorisations": g.Authorisations, "municipality": g.Municipality, "convenzione": g.Convenzione})
	return out, nil
}

// RemoveAuthorisations removes authorisations on the written request of the municipality's
// legal representative (recorded as reference).
func (s *Service) RemoveAuthorisations(ctx context.Context, operator, cf string, auths []string, reference string) (*Grants, error) {
	cf, err := ParseFiscalCode(cf)
	if err != nil {
		return nil, err
	}
	out, err := s.updateGrants(ctx, cf, func(cur *Grants) *Grants {
		if cur == nil {
			return nil
		}
		cur.Authorisations = slices.DeleteFunc(cur.Authorisations, func(x string) bool { return slices.Contains(auths, x) })
		if len(cur.Authorisations) == 0 {
			return nil
		}
		return cur
	}, operator)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "pin.authorisations_removed", operator, map[string]any{"fiscal_code": cf, "authorisations": auths, "reference": reference})
	return out, nil
}

func (s *Service) updateGrants(ctx context.Context, cf string, fn func(*Grants) *Grants, operator string) (*Grants, error) {
	var out *Grants
	_, err := store.Update(ctx, s.store, key(cf, "auth"), 0, func(old []byte) ([]byte, error) {
		var cur *Grants
		if old != nil {
			cur = new(Grants)
			if err := jsonUnmarshal(old, cur); err != nil {
				return nil, err
			}
		}
		out = fn(cur)
		if out == nil {
			return nil, nil
		}
		slices.Sort(out.Authorisations)
		out.UpdatedAt, out.UpdatedBy = s.now(), operator
		return jsonMarshal(out)
	})
	return out, err
}
