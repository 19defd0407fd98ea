package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/switches"
)

// sourceError maps an error of Sources or AuditLog: the Store down is a 503, anything else a 500.
func sourceError(err error) error {
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) {
		return internal(err)
	}
	return unavailable(err)
}

// switchesAnswer is this replica's view of the switches with how fresh it is.
type switchesAnswer struct {
	Switches []switches.Switch `json:"switches"`
	// LoadedAt is when this replica last read them; Stale names the last reload's failure.
	LoadedAt *time.Time `json:"loaded_at,omitempty"`
	Stale    string     `json:"stale,omitempty"`
}

func (a *API) providers(r *http.Request) (any, error) {
	ps, err := a.listProviders(r.Context())
	if err != nil {
		return nil, err
	}
	return map[string]any{"providers": ps}, nil
}

// listProviders is every upstream with its switch and its certificates' expiry: what the API
// and the pages show.
func (a *API) listProviders(ctx context.Context) ([]Provider, error) {
	ps, err := a.c.Sources.Providers(ctx)
	if err != nil {
		return nil, sourceError(err)
	}
	now := a.c.Now()
	for i := range ps {
		p := &ps[i]
		off, sw := a.c.Reader.Disabled(p.Kind, p.ID)
		p.Enabled, p.Switch = !off, nil
		if off {
			p.Switch = &sw
		}
		if p.Certificates == nil {
			p.Certificates = []Certificate{}
		}
		if p.LoginsLastHour != nil {
			for _, o := range LoginOutcomes {
				p.LoginsLastHour[o] += 0 // every outcome present, zero included
			}
		}
		for j := range p.Certificates {
			p.Certificates[j].Expired = !now.Before(p.Certificates[j].NotAfter)
		}
	}
	return ps, nil
}

func (a *API) clients(r *http.Request) (any, error) {
	cs, err := a.listClients(r.Context())
	if err != nil {
		return nil, err
	}
	return map[string]any{"clients": cs}, nil
}

// listClients is every client with its policy and switch.
func (a *API) listClients(ctx context.Context) ([]Client, error) {
	cs, err := a.c.Sources.Clients(ctx)
	if err != nil {
		return nil, sourceError(err)
	}
	for i := range cs {
		c := &cs[i]
		off, sw := a.c.Reader.Disabled(switches.KindClient, c.ID)
		c.Enabled, c.Switch = !off, nil
		if off {
			c.Switch = &sw
		}
		for _, l := range []*[]string{&c.Grants, &c.Scopes, &c.RedirectURIs} {
			if *l == nil {
				*l = []string{}
			}
		}
	}
	return cs, nil
}

func (a *API) keys(r *http.Request) (any, error) {
	ks, err := a.listKeys(r.Context())
	if err != nil {
		return nil, err
	}
	return map[string]any{"keys": ks}, nil
}

// listKeys is the signing keys with their age.
func (a *API) listKeys(ctx context.Context) ([]Key, error) {
	ks, err := a.c.Sources.Keys(ctx)
	if err != nil {
		return nil, sourceError(err)
	}
	now := a.c.Now()
	for i := range ks {
		if ks[i].Created != nil {
			age := int64(now.Sub(*ks[i].Created) / time.Second)
			ks[i].AgeSeconds = &age
		}
	}
	return ks, nil
}

func (a *API) replicas(r *http.Request) (any, error) {
	rs, err := a.c.Replicas(r.Context())
	if err != nil {
		return nil, unavailable(err)
	}
	return map[string]any{"replicas": rs}, nil
}

// maxAuditLimit bounds one audit answer.
const maxAuditLimit = 1000

func (a *API) audit(r *http.Request) (any, error) {
	if a.c.AuditLog == nil {
		return nil, &apiError{status: http.StatusNotImplemented, code: "not_implemented", desc: "this broker keeps no searchable audit trail"}
	}
	q, err := parseAuditQuery(r.URL.Query())
	if err != nil {
		return nil, err
	}
	recs, chain, err := a.searchAudit(r.Context(), q)
	if err != nil {
		return nil, err
	}
	return map[string]any{"records": recs, "chain": chain}, nil
}

// searchAudit answers q and verifies the chain (AuditLog set).
func (a *API) searchAudit(ctx context.Context, q AuditQuery) ([]AuditRecord, AuditChain, error) {
	recs, err := a.c.AuditLog.Search(ctx, q)
	if err != nil {
		return nil, AuditChain{}, sourceError(err)
	}
	chain, err := a.c.AuditLog.Verify(ctx)
	if err != nil {
		return nil, AuditChain{}, sourceError(err)
	}
	if recs == nil {
		recs = []AuditRecord{}
	}
	return recs, chain, nil
}

// parseAuditQuery reads person, client, type, since, until (RFC 3339) and limit.
func parseAuditQuery(v url.Values) (AuditQuery, error) {
	q := AuditQuery{Limit: 100}
	for name, vals := range v {
		if len(vals) != 1 {
			return q, badRequest("parameter " + strconv.Quote(name) + " given more than once")
		}
		switch name {
		case "person", "client", "type", "since", "until", "limit":
		default:
			return q, badRequest("unknown parameter " + strconv.Quote(name))
		}
	}
	if p := v.Get("person"); p != "" {
		cf, err := fiscalcode.Parse(p)
		if err != nil {
			return q, badRequest("person must be a valid fiscal code")
		}
		q.Person = cf
	}
	q.Client, q.Type = v.Get("client"), v.Get("type")
	if !printableQuery(q.Client) || !printableQuery(q.Type) {
		return q, badRequest("client and type must be at most 256 printable characters")
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := v.Get(t.name); s != "" {
			tm, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return q, badRequest(t.name + " must be an RFC 3339 time")
			}
			*t.dst = tm
		}
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
		return q, badRequest("until is before since")
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxAuditLimit {
			return q, badRequest("limit must be 1 to 1000")
		}
		q.Limit = n
	}
	return q, nil
}

func printableQuery(s string) bool {
	return len(s) <= 256 && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

func (a *API) listSwitches(r *http.Request) (any, error) {
	list, err := a.c.Switches.List(r.Context())
	if err != nil {
		if errors.Is(err, switches.ErrCorrupt) {
			return nil, internal(err)
		}
		return nil, unavailable(err)
	}
	ans := switchesAnswer{Switches: list}
	if loaded, err := a.c.Reader.Status(); !loaded.IsZero() {
		ans.LoadedAt = &loaded
		if err != nil {
			ans.Stale = "this replica's last reload of the switches failed"
		}
	}
	return ans, nil
}

// switchRequest is the body of PUT /console/api/switches/{kind}/{id}.
type switchRequest struct {
	Enabled   *bool      `json:"enabled"`
	Reason    string     `json:"reason"`
	ExpiresAt *time.Time `json:"expires_at"`
}

func (a *API) setSwitch(operator string, r *http.Request) (any, error) {
	kind, id := switches.Kind(r.PathValue("kind")), r.PathValue("id")
	if !switches.ValidKind(kind) {
		return nil, badRequest("kind must be idp, provider or client")
	}
	if !switches.ValidID(id) {
		return nil, badRequest("id must be 1 to 1024 printable characters (an IdP's entityID URL-encoded)")
	}
	var req switchRequest
	if err := decode(nil, r, &req); err != nil {
		return nil, err
	}
	if req.Enabled == nil {
		return nil, badRequest(`"enabled" is required`)
	}
	return a.applySwitch(r.Context(), switches.Change{Kind: kind, ID: id, Enabled: *req.Enabled, Reason: req.Reason, Actor: operator, ExpiresAt: req.ExpiresAt})
}

// applySwitch sets a switch, reloads this replica's view and audits the change with the
// operator (ch.Actor) as actor: the API's PUT and the pages' form both come here.
func (a *API) applySwitch(ctx context.Context, ch switches.Change) (switches.Switch, error) {
	operator, kind, id := ch.Actor, ch.Kind, ch.ID
	sw, err := a.c.Switches.Set(ctx, ch)
	switch {
	case errors.Is(err, switches.ErrBadKind), errors.Is(err, switches.ErrBadID), errors.Is(err, switches.ErrBadReason),
		errors.Is(err, switches.ErrBadExpiry), errors.Is(err, switches.ErrBadActor), errors.Is(err, switches.ErrTooMany):
		return sw, badRequest(strings.TrimPrefix(unwrapFirst(err), "switches: "))
	case errors.Is(err, switches.ErrCorrupt):
		return sw, internal(err)
	case err != nil:
		return sw, unavailable(err)
	}
	_ = a.c.Reader.Load(ctx) // this replica applies it now; the others within seconds
	fields := map[string]any{"kind": string(kind), "id": id, "enabled": sw.Enabled}
	if sw.Reason != "" {
		fields["reason"] = sw.Reason
	}
	if sw.ExpiresAt != nil {
		fields["expires_at"] = sw.ExpiresAt.Format(time.RFC3339)
	}
	if err := a.record(ctx, operator, "console.switch", fields); err != nil {
		return sw, err
	}
	return sw, nil
}

// unwrapFirst returns the text of the sentinel at the bottom of a switches error.
func unwrapFirst(err error) string {
	for _, s := range []error{switches.ErrBadKind, switches.ErrBadID, switches.ErrBadReason, switches.ErrBadExpiry, switches.ErrBadActor, switches.ErrTooMany} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return err.Error()
}

// actionError maps an action's error.
func actionError(err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return &apiError{status: http.StatusNotFound, code: "not_found", desc: strings.TrimPrefix(err.Error(), "console: ")}
	case errors.Is(err, ErrInvalid):
		return badRequest(strings.TrimPrefix(err.Error(), "console: "))
	}
	return unavailable(err) // the Store or an upstream: nothing was changed
}

func notImplemented() error {
	return &apiError{status: http.StatusNotImplemented, code: "not_implemented", desc: "this broker does not offer this action"}
}

type providerRequest struct {
	Provider string `json:"provider"`
}

func (a *API) refreshMetadata(operator string, r *http.Request) (any, error) {
	var req providerRequest
	if err := decode(nil, r, &req); err != nil {
		return nil, err
	}
	if err := a.doRefreshMetadata(r.Context(), operator, req.Provider); err != nil {
		return nil, err
	}
	return map[string]string{"status": "ok"}, nil
}

// doRefreshMetadata reloads a provider's metadata and audits it (the API and the pages).
func (a *API) doRefreshMetadata(ctx context.Context, operator, provider string) error {
	if !switches.ValidID(provider) {
		return badRequest(`"provider" must name a provider or an IdP's entityID`)
	}
	if a.c.Actions.RefreshMetadata == nil {
		return notImplemented()
	}
	if err := a.c.Actions.RefreshMetadata(ctx, provider); err != nil {
		return actionError(err)
	}
	return a.record(ctx, operator, "console.refresh_metadata", map[string]any{"provider": provider})
}

func (a *API) rotateKeys(operator string, r *http.Request) (any, error) {
	var req struct{}
	if err := decode(nil, r, &req); err != nil {
		return nil, err
	}
	if err := a.doRotateKeys(r.Context(), operator); err != nil {
		return nil, err
	}
	return map[string]string{"status": "ok"}, nil
}

// doRotateKeys rotates the signing keys and audits it.
func (a *API) doRotateKeys(ctx context.Context, operator string) error {
	if a.c.Actions.RotateKeys == nil {
		return notImplemented()
	}
	if err := a.c.Actions.RotateKeys(ctx); err != nil {
		return actionError(err)
	}
	return a.record(ctx, operator, "console.rotate_keys", nil)
}

type personRequest struct {
	FiscalCode string `json:"fiscal_code"`
}

func (r personRequest) parse() (string, error) {
	cf, err := fiscalcode.Parse(r.FiscalCode)
	if err != nil {
		return "", badRequest(`"fiscal_code" must be a valid fiscal code`)
	}
	return cf, nil
}

func (a *API) unlockPIN(operator string, r *http.Request) (any, error) {
	var req personRequest
	if err := decode(nil, r, &req); err != nil {
		return nil, err
	}
	if err := a.doUnlockPIN(r.Context(), operator, req.FiscalCode); err != nil {
		return nil, err
	}
	return map[string]string{"status": "ok"}, nil
}

// doUnlockPIN lifts a PIN lockout of the person with fiscal code cf and audits it.
func (a *API) doUnlockPIN(ctx context.Context, operator, fiscalCode string) error {
	cf, err := personRequest{FiscalCode: fiscalCode}.parse()
	if err != nil {
		return err
	}
	if a.c.Actions.UnlockPIN == nil {
		return notImplemented()
	}
	if err := a.c.Actions.UnlockPIN(ctx, operator, cf); err != nil {
		return actionError(err)
	}
	return a.record(ctx, operator, "console.unlock_pin", map[string]any{"fiscal_number": cf})
}

func (a *API) revokePerson(operator string, r *http.Request) (any, error) {
	var req personRequest
	if err := decode(nil, r, &req); err != nil {
		return nil, err
	}
	n, err := a.doRevokePerson(r.Context(), operator, req.FiscalCode)
	if err != nil {
		return nil, err
	}
	return map[string]any{"status": "ok", "revoked": n}, nil
}

// doRevokePerson ends a person's sessions and refresh tokens and audits it.
func (a *API) doRevokePerson(ctx context.Context, operator, fiscalCode string) (int, error) {
	cf, err := personRequest{FiscalCode: fiscalCode}.parse()
	if err != nil {
		return 0, err
	}
	if a.c.Actions.RevokePerson == nil {
		return 0, notImplemented()
	}
	n, err := a.c.Actions.RevokePerson(ctx, cf)
	if err != nil {
		return 0, actionError(err)
	}
	if err := a.record(ctx, operator, "console.revoke_person", map[string]any{"fiscal_number": cf, "revoked": n}); err != nil {
		return 0, err
	}
	return n, nil
}
