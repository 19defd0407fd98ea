package spid

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

// A response uses its request up only once it has validated. Whoever learns a
// pending login's RelayState and request ID (both travel in the AuthnRequest URL) can post
// anything to the ACS with them — garbage, a forged cancel, an unsigned assertion, a valid
// response to another request — without cookies, as the IdP's cross-site POST comes; each is
// refused for what it is, and the victim's own response is still accepted afterwards.
func TestOnlyAValidResponseUsesTheRequestUp(t *testing.T) {
	e := newEnv(t)
	victim := e.start(t, "victim", loa.SpidL2, "")
	other := e.start(t, "other", loa.SpidL2, "")
	var re *RejectError
	var se *StatusError
	attacks := []struct {
		name string
		xml  []byte
		why  func(error) bool
	}{
		{"garbage", []byte("this is not a SAML response"), func(err error) bool { return errors.As(err, &re) && re.Rule == "response.root" }},
		{"a forged cancel: an unsigned nr25 status, properly addressed", e.build(t, victim, hostile{Params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.StatusMessage = samlx.StatusResponder, "ErrorCode nr25"
		}}), func(err error) bool {
			return errors.As(err, &se) && se.NR == "nr25" && errors.Is(err, providers.ErrCancelled)
		}},
		{"an unsigned assertion", e.build(t, victim, hostile{UnsignedA: true}), func(err error) bool {
			return errors.As(err, &re) && strings.HasPrefix(re.Rule, "assertion.signature")
		}},
		{"a valid response to another request", e.build(t, other, hostile{}), func(err error) bool {
			return errors.As(err, &re) && re.Rule == "response.in_response_to"
		}},
	}
	for _, a := range attacks {
		status, o := e.post(t, victim.RelayState, a.xml)
		if o.Identity != nil || status != http.StatusForbidden || o.LoginID != "victim" || !a.why(o.Err) {
			t.Fatalf("%s: %d %+v", a.name, status, o)
		}
	}
	status, o := e.post(t, victim.RelayState, e.build(t, victim, hostile{}))
	if status != http.StatusOK || o.Identity == nil || o.Identity.FiscalNumber != "RSSMRA80A01H501U" || o.LoginID != "victim" {
		t.Fatalf("the victim's own response after the attacks: %d %+v", status, o)
	}
	// That one did use the request up.
	status, o = e.post(t, victim.RelayState, e.build(t, victim, hostile{Params: func(p *samlx.ResponseParams) {
		p.ResponseID, p.AssertionID = "_resp-second", "_assert-second"
	}}))
	if status != http.StatusForbidden || o.Identity != nil || o.LoginID != "" || !errors.Is(o.Err, providers.ErrLoginExpired) {
		t.Fatalf("a second response for the used request: %d %+v", status, o)
	}
	// The other request was not touched by its response being posted on the victim's.
	if _, o := e.post(t, other.RelayState, e.build(t, other, hostile{})); o.Identity == nil {
		t.Fatalf("the other login's own response: %+v", o.Err)
	}
}
