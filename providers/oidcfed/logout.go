package oidcfed

import (
	"net/http"
	"net/url"

	"github.com/inps/sportello/providers"
)

// Logout revokes the OP's access token (the profile asks the RP to at logout; for SPID it
// also ends the OP's session) and sends the browser to returnTo. A failed revocation is
// logged: the broker's session ends all the same.
func (p *Provider) Logout(w http.ResponseWriter, r *http.Request, id *providers.Identity, returnTo string) error {
	op, token := id.Session["oidcfed_op"], id.Session["access_token"]
	if op != "" && token != "" {
		p.revoke(r, op, token)
	}
	http.Redirect(w, r, returnTo, http.StatusFound)
	return nil
}

func (p *Provider) revoke(r *http.Request, op, token string) {
	c, _, err := p.chainFor(r.Context(), op)
	if err != nil {
		p.log.Warn("federation: logout: no chain to revoke the OP's token", "op", op, "error", err)
		return
	}
	endpoint := c.String("revocation_endpoint")
	if endpoint == "" {
		p.log.Warn("federation: logout: the OP publishes no revocation_endpoint", "op", op)
		return
	}
	status, _, err := p.postForm(r.Context(), endpoint, url.Values{"token": {token}, "token_type_hint": {"access_token"}})
	fields := map[string]any{"op": op, "endpoint": endpoint, "status": status, "token_sha256": digest(token)}
	if err != nil {
		fields["error"] = err.Error()
	}
	p.audit(r.Context(), auditRevocation, "", fields)
	if err != nil || status != http.StatusOK {
		p.log.Warn("federation: logout: revoking the OP's token failed", "op", op, "status", status, "error", err)
	}
}
