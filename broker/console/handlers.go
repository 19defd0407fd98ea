package console

import (
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
	ps, err := a.c.Sources.Providers(r.Context())
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
		for j := range p.Certificates {
			p.Certificates[j].Expired = !now.Before(p.Certificates[j].NotAfter)
		}
	}
	return map[string]any{"providers": ps}, nil
}

func (a *API) clients(r *http.Request) (any, error) {
	cs, err := a.c.Sources.Clients(r.Context())
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
	return map[string]any{"clients": cs}, nil
}

func (a *API) keys(r *http.Request) (any, error) {
	ks, err := a.c.Sources.Keys(r.Context())
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
	return map[string]any{"keys": ks}, nil
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
	recs, err := a.c.AuditLog.Search(r.Context(), q)
	if err != nil {
		return nil, sourceError(err)
	}
	chain, err := a.c.AuditLog.Verify(r.Context())
	if err != nil {
		return nil, sourceError(err)
	}
	if recs == nil {
		recs = []AuditRecord{}
	}
	return map[string]any{"records": recs, "chain": chain}, nil
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
	sw, err := a.c.Switches.Set(r.Context(), switches.Change{Kind: kind, ID: id, Enabled: *req.Enabled, Reason: req.Reason, Actor: operator, ExpiresAt: req.ExpiresAt})
	switch {
	case errors.Is(err, switches.ErrBadKind), errors.Is(err, switches.ErrBadID), errors.Is(err, switches.ErrBadReason),
		errors.Is(err, switches.ErrBadExpiry), errors.Is(err, switches.ErrBadActor), errors.Is(err, switches.ErrTooMany):
		return nil, badRequest(strings.TrimPrefix(unwrapFirst(err), "switches: "))
	case errors.Is(err, switches.ErrCorrupt):
		return nil, internal(err)
	case err != nil:
		return nil, unavailable(err)
	}
	_ = a.c.Reader.Load(r.Context()) // this replica applies it now; the others within seconds
	fields := map[string]any{"kind": string(kind), "id": id, "enabled": sw.Enabled}
	if sw.Reason != "" {
		fields["reason"] = sw.Reason
	}
	if sw.ExpiresAt != nil {
		fields["expires_at"] = sw.ExpiresAt.Format(time.RFC3339)
	}
	if err := a.record(r.Context(), operator, "console.switch", fields); err != nil {
		return nil, err
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
	if !switches.ValidID(req.Provider) {
		return nil, badRequest(`"provider" must name a provider or an IdP's entityID`)
	}
	if a.c.Actions.RefreshMetadata == nil {
		return nil, notImplemented()
	}
	if err := a.c.Actions.RefreshMetadata(r.Context(), req.Provider); err != nil {
		return nil, actionError(err)
	}
	if err := a.record(r.Context(), operator, "console.refresh_metadata", map[string]any{"provider": req.Provider}); err != nil {
		return nil, err
	}
	return map[string]string{"status": "ok"}, nil
}

func (a *API) rotateKeys(operator string, r *http.Request) (any, error) {
	var req struct{}
	if err := decode(nil, r, &req); err != nil {
		return nil, err
	}
	if a.c.Actions.RotateKeys == nil {
		return nil, notImplemented()
	}
	if err := a.c.Actions.RotateKeys(r.Context()); err != nil {
		return nil, actionError(err)
	}
	if err := a.record(r.Context(), operator, "console.rotate_keys", nil); err != nil {
		return nil, err
	}
	return map[string]string{"status": "ok"}, nil
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
	cf, err := req.parse()
	if err != nil {
		return nil, err
	}
	if a.c.Actions.UnlockPIN == nil {
		return nil, notImplemented()
	}
	if err := a.c.Actions.UnlockPIN(r.Context(), operator, cf); err != nil {
		return nil, actionError(err)
	}
	if err := a.record(r.Context(), operator, "console.unlock_pin", map[string]any{"fiscal_number": cf}); err != nil {
		return nil, err
	}
	return map[string]string{"status": "ok"}, nil
}

func (a *API) revokePerson(operator string, r *http.Request) (any, error) {
	var req personRequest
	if err := decode(nil, r, &req); err != nil {
		return nil, err
	}
	cf, err := req.parse()
	if err != nil {
		return nil, err
	}
	if a.c.Actions.RevokePerson == nil {
		return nil, notImplemented()
	}
	n, err := a.c.Actions.RevokePerson(r.Context(), cf)
	if err != nil {
		return nil, actionError(err)
	}
	if err := a.record(r.Context(), operator, "console.revoke_person", map[string]any{"fiscal_number": cf, "revoked": n}); err != nil {
		return nil, err
	}
	return map[string]any{"status": "ok", "revoked": n}, nil
}
