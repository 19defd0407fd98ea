package broker

import (
	"errors"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/inps/sportello/providers"
)

// failure is one row of the error table: what a failed login says, for the errors that wrap
// one provider sentinel, to the relying party (the OAuth error), to the browser (the page's
// HTTP status and catalogue key) and to the record of the failure (the login.failure audit
// record and sportello_logins_total, which name the OAuth error).
type failure struct {
	sentinel error
	oauth    func() *oidc.Error
	status   int
	key      string
}

// failures is the one table from provider errors to answers, used for every credential: the
// SAML logins, the certificates, the PIN, and the broker's own steps. The first row whose
// sentinel the error wraps wins, so the order matters where an error wraps two (a lock is a
// credential refusal too, and says so first). A providers.UserError's code replaces the
// row's page key with a more precise one (for example "spid.nr19"); nothing else does.
var failures = []failure{
	{providers.ErrLocked, oidc.ErrAccessDenied, http.StatusForbidden, "login.locked"},
	{providers.ErrLevelNotReached, errUnmetAuthRequirements, http.StatusForbidden, "login.level_not_reached"},
	{providers.ErrCancelled, errCancelled, http.StatusForbidden, "login.cancelled"},
	{providers.ErrDenied, oidc.ErrAccessDenied, http.StatusForbidden, "login.denied"},
	{providers.ErrBadCredentials, oidc.ErrAccessDenied, http.StatusForbidden, "login.denied"},
	{providers.ErrDisabled, oidc.ErrAccessDenied, http.StatusForbidden, "login.denied"},
	{providers.ErrCredentialRejected, oidc.ErrAccessDenied, http.StatusBadRequest, "login.rejected"},
	// A proxy's certificate header that does not parse is a rejected credential too.
	{providers.ErrBadPEM, oidc.ErrAccessDenied, http.StatusBadRequest, "login.rejected"},
	{providers.ErrLoginExpired, errLoginExpired, http.StatusBadRequest, "login.expired"},
	{providers.ErrUnavailable, errTemporarilyUnavailable, http.StatusServiceUnavailable, "broker.unavailable"},
}

// unexpected answers an error that wraps no sentinel: a fault of ours, whose cause goes to
// the log only.
var unexpected = failure{oauth: oidc.ErrServerError, status: http.StatusInternalServerError, key: "broker.error"}

func errCancelled() *oidc.Error {
	return oidc.ErrAccessDenied().WithDescription("the user cancelled the login")
}

func errLoginExpired() *oidc.Error { return oidc.ErrAccessDenied().WithDescription("login expired") }

// rowFor returns the table's row for err.
func rowFor(err error) failure {
	for _, f := range failures {
		if errors.Is(err, f.sentinel) {
			return f
		}
	}
	return unexpected
}

// classify maps a provider error to the OAuth error for the relying party, the HTTP status
// and the catalogue key of the page (the table's, or the UserError's more precise one).
func classify(err error) (*oidc.Error, int, string) {
	f := rowFor(err)
	key := f.key
	var ue *providers.UserError
	if errors.As(err, &ue) && ue.Code != "" {
		key = ue.Code
	}
	return f.oauth(), f.status, key
}

// classifiedPage shows the page the table gives err, without the way back to a relying
// party and without recording a failed login: for requests that are not a login's step (an
// outage while serving a page, say).
func (b *Broker) classifiedPage(w http.ResponseWriter, r *http.Request, err error) {
	_, status, key := classify(err)
	b.errorPage(w, r, status, key, err)
}

// unavailablePage answers a request the store, or another dependency, could not serve: the
// table's row for providers.ErrUnavailable (503, "try again shortly"; the response writer
// adds Retry-After). err goes to the log.
func (b *Broker) unavailablePage(w http.ResponseWriter, r *http.Request, err error) {
	b.classifiedPage(w, r, errors.Join(providers.ErrUnavailable, err))
}
