package oidcfed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/inps/sportello/internal/audit"
)

// The transaction log the SPID/CIE OIDC rules ask of a relying party (kept 24 months): the
// OP's trust chain and the authorization request, then the authorization, token and userinfo
// responses, and the revocation at logout, as audit records. Codes are recorded as their
// SHA-256, tokens never: the ID token and userinfo answers by their verified claims.
const (
	auditRequest    = "oidcfed.authn_request"
	auditResponse   = "oidcfed.authn_response"
	auditRevocation = "oidcfed.revocation"
)

func (p *Provider) audit(ctx context.Context, typ, actor string, fields map[string]any) {
	if p.h.Auditor == nil {
		return
	}
	ev := audit.Event{Time: p.now().UTC(), Type: typ, Actor: actor, Fields: fields}
	if err := p.h.Auditor.Audit(ctx, ev); err != nil {
		p.log.Error("federation: audit", "type", typ, "error", err)
	}
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
