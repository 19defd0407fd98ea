package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
)

// Every step of a pending login is bound to the browser that started it: its browser cookie,
// recorded in the login as BrowserID. A step whose request carries the cookie is checked at
// once. A step that cannot carry it — the SAML HTTP-POST from the IdP is cross-site, so
// SameSite=Lax keeps the cookie away — hands its outcome, success or failure, to /login/done
// through a one-time reference, and /login/done checks the browser before it takes anything.
// The mutual-TLS listener is another origin: the browser reaches it with a one-time step token
// issued to the browser that started the login (mtls.go). So a foreign browser's step is
// refused and consumes nothing: not the pending login, not the SAML request, not the reference.

// doneTTL bounds a hand-back reference: the browser follows it at once.
const doneTTL = 2 * time.Minute

// doneRecord is a one-time hand-back reference (key "done:<ref>"): the login it belongs to,
// the browser that may redeem it, and the outcome of the step, an identity or a failure.
type doneRecord struct {
	LoginID   string              `json:"login_id"`
	BrowserID string              `json:"bid"`
	Identity  *providers.Identity `json:"identity,omitempty"`
	Failure   *handedFailure      `json:"failure,omitempty"`
}

// handedFailure is a failed step as the person will see it, once /login/done has checked the
// browser: the OAuth error for the relying party, the page's status and catalogue key.
type handedFailure struct {
	OAuth     *oidc.Error       `json:"oauth"`
	Status    int               `json:"status"`
	Code      string            `json:"code"`
	Args      map[string]string `json:"args,omitempty"`
	Cancelled bool              `json:"cancelled,omitempty"`
	// RequestID is the request the step failed in, whose log line has the cause.
	RequestID string `json:"request_id,omitempty"`
}

// errHandedBack stands for the cause of a handed-back failure, logged when it happened.
var errHandedBack = errors.New("login step failed in a request without the browser cookie")

// otherBrowser refuses a step taken in a browser other than the one that started the login.
// Nothing has been consumed when it is called.
func (b *Broker) otherBrowser(w http.ResponseWriter, r *http.Request, rec *loginRecord, step string) {
	fields := map[string]any{"step": step, "request_id": requestID(r.Context())}
	if rec != nil {
		fields["client_id"] = rec.ClientID
	}
	b.auditEvent(r.Context(), "login.other_browser", "", fields)
	b.errorPage(w, r, http.StatusBadRequest, "login.other_browser", fmt.Errorf("browser binding mismatch at %s", step))
}

// finish is the one path from a verified identity to the relying party: binding and level
// checks, then a one-time reference to /login/done on the main origin, which checks the
// browser again and completes. presenter is the browser the step was taken in, "" when the
// request could not carry its cookie (the cross-site SAML POST): /login/done checks it then.
// Nothing is written to the pending login here, so a step that never reaches /login/done in
// the right browser leaves it as it was.
func (b *Broker) finish(w http.ResponseWriter, r *http.Request, loginID, presenter string, id *providers.Identity) {
	ctx := r.Context()
	rec, err := b.getLogin(ctx, loginID)
	if err != nil {
		b.failPage(w, r, nil, err)
		return
	}
	if presenter != "" && presenter != rec.BrowserID {
		b.otherBrowser(w, r, rec, "finish")
		return
	}
	if rec.Identity != nil {
		b.failPage(w, r, nil, &providers.UserError{Code: "login.already_finished", Err: providers.ErrLoginExpired})
		return
	}
	if err := id.Validate(); err != nil {
		b.stepFailed(w, r, rec, presenter, providers.Attempt(id.Method, errors.Join(providers.ErrCredentialRejected, err)))
		return
	}
	if b.identitySwitchedOff(id) {
		b.stepFailed(w, r, rec, presenter, providers.Attempt(id.Method, errSwitchedOff))
		return
	}
	// From here the person is verified: a failure records the credential and the level reached.
	verified := func(err error) error {
		return &providers.AttemptError{Method: id.Method, ACR: id.ACR, FiscalNumber: id.FiscalNumber, Err: err}
	}
	if loa.LevelOf(id.ACR) < loa.LevelOf(rec.ACR) {
		b.stepFailed(w, r, rec, presenter, verified(&providers.UserError{Code: "login.level_not_reached", Err: providers.ErrLevelNotReached}))
		return
	}
	if b.entitle != nil && len(id.Entitlements) == 0 {
		ents, err := b.entitle(ctx, id.FiscalNumber)
		if err != nil {
			b.stepFailed(w, r, rec, presenter, verified(errors.Join(providers.ErrUnavailable, err)))
			return
		}
		id.Entitlements = ents
	}
	b.handBack(w, r, rec, &doneRecord{LoginID: rec.ID, BrowserID: rec.BrowserID, Identity: id})
}

// stepFailed ends a step with err: at once when the presenting browser is known (and was
// checked), else through /login/done, which shows the failure only to the right browser.
func (b *Broker) stepFailed(w http.ResponseWriter, r *http.Request, rec *loginRecord, presenter string, err error) {
	if rec == nil || presenter != "" {
		b.failPage(w, r, rec, err)
		return
	}
	oe, status, code := classify(err)
	b.recordFailure(r, rec, err, oe, code)
	b.log.WarnContext(r.Context(), "login step failed; shown after the browser check", "code", code, "error", err)
	f := &handedFailure{OAuth: &oidc.Error{ErrorType: oe.ErrorType, Description: oe.Description}, Status: status, Code: code,
		Cancelled: errors.Is(err, providers.ErrCancelled), RequestID: requestID(r.Context())}
	var ue *providers.UserError
	if errors.As(err, &ue) {
		f.Args = ue.Args
	}
	b.handBack(w, r, rec, &doneRecord{LoginID: rec.ID, BrowserID: rec.BrowserID, Failure: f})
}

// handBack stores the outcome under a new one-time reference and sends the browser to
// /login/done with it.
func (b *Broker) handBack(w http.ResponseWriter, r *http.Request, rec *loginRecord, done *doneRecord) {
	ref, err := randomToken(b.rand, 24)
	if err != nil {
		b.errorPage(w, r, http.StatusInternalServerError, "broker.error", err)
		return
	}
	if err := b.store.Put(r.Context(), doneKey(ref), mustMarshal(done), doneTTL); err != nil {
		b.unavailablePage(w, r, err)
		return
	}
	http.Redirect(w, r, b.issuer+"/login/done?ref="+url.QueryEscape(ref), http.StatusSeeOther) //nolint:gosec // the issuer's own /login/done with a random reference
}

// doneHTTP serves /login/done?ref=: the reference must belong to this browser — checked
// before anything is taken, so a foreign browser that got hold of it consumes nothing — then
// it is taken (single use) and the outcome applied: the failure shown, or the login finished
// (once) with its SSO session and code.
func (b *Broker) doneHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	key := doneKey(r.URL.Query().Get("ref"))
	raw, err := b.store.Get(ctx, key)
	if err != nil {
		b.failPage(w, r, nil, storeLoginErr(err))
		return
	}
	var done doneRecord
	if err := unmarshal(raw, &done); err != nil || (done.Identity == nil && (done.Failure == nil || done.Failure.OAuth == nil)) {
		b.failPage(w, r, nil, providers.ErrLoginExpired)
		return
	}
	rec, err := b.getLogin(ctx, done.LoginID)
	if err != nil {
		b.failPage(w, r, nil, err)
		return
	}
	if bid := b.browserID(r); bid == "" || bid != done.BrowserID || bid != rec.BrowserID {
		b.otherBrowser(w, r, rec, "done")
		return
	}
	if _, err := b.store.Take(ctx, key); err != nil {
		b.failPage(w, r, nil, storeLoginErr(err))
		return
	}
	if f := done.Failure; f != nil {
		err := &providers.UserError{Code: f.Code, Args: f.Args, Err: fmt.Errorf("%w (request %s)", errHandedBack, f.RequestID)}
		b.showFailure(w, r, rec, f.OAuth, f.Status, f.Code, f.Cancelled, err)
		return
	}
	if ok, err := b.markFinished(ctx, rec.ID, done.Identity); err != nil {
		b.failPage(w, r, rec, errors.Join(providers.ErrUnavailable, err))
		return
	} else if !ok {
		b.failPage(w, r, nil, &providers.UserError{Code: "login.already_finished", Err: providers.ErrLoginExpired})
		return
	}
	rec.Identity = done.Identity
	sid, err := b.newSession(ctx, w, rec.Identity)
	if err != nil {
		b.failPage(w, r, rec, errors.Join(providers.ErrUnavailable, err))
		return
	}
	b.askActFor(w, r, rec, sid)
}

// markFinished writes the identity into the pending login, only where none is yet
// (compare-and-swap): a login is finished once, and a second reference for it (two tabs, two
// credentials) can never replace the first identity.
func (b *Broker) markFinished(ctx context.Context, loginID string, id *providers.Identity) (bool, error) {
	key := loginKey(loginID)
	raw, err := b.store.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var current loginRecord
	if err := unmarshal(raw, &current); err != nil || current.Identity != nil {
		return false, nil
	}
	current.Identity = id
	ttl, err := b.store.TTL(ctx, key)
	if err != nil || ttl <= 0 {
		ttl = b.cfg.Tokens.LoginTTL
	}
	return b.store.CompareAndSwap(ctx, key, raw, mustMarshal(current), ttl)
}

// storeLoginErr maps the error of a store read of a login's record (the pending login, a
// one-time reference or step token): the store failing is the service being unavailable
// (503, "try again shortly"), never the login having expired; absent is an expired login.
func storeLoginErr(err error) error {
	if store.IsOutage(err) {
		return errors.Join(providers.ErrUnavailable, err)
	}
	return providers.ErrLoginExpired
}
