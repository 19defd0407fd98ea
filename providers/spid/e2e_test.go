package spid

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

func creds(user string, extra ...string) url.Values {
	v := url.Values{"username": {user}, "password": {"test-password"}, "action": {"login"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

func TestEndToEndLoginThroughEachDevIdPAtEachLevel(t *testing.T) {
	e := newEnv(t)
	for _, idp := range []string{"demo", "test"} {
		for level := 1; level <= 3; level++ {
			acr := loa.ACRForLevel(level)
			loginID := idp + "-" + acr
			status, body := e.login(t, idp, loginID, acr, creds("RSSMRA80A01H501U"))
			if status != http.StatusOK {
				t.Fatalf("%s L%d: HTTP %d %s (%v)", idp, level, status, body, e.fin.last(t).Err)
			}
			o := e.fin.last(t)
			if o.Err != nil || o.LoginID != loginID {
				t.Fatalf("%s L%d: outcome %+v", idp, level, o)
			}
			id := o.Identity
			// The SP asks at least L2 (min_level), so an L1 request is answered at L2.
			wantLevel := max(level, 2)
			if id.ACR != loa.ACRForLevel(wantLevel) || id.FiscalNumber != "RSSMRA80A01H501U" ||
				id.GivenName != "Mario" || id.FamilyName != "Rossi" || id.Birthdate != "1980-01-01" ||
				id.Method != providers.MethodSPID || id.SPIDIdP != e.idps[idp].EntityID() ||
				id.Email != "mario.rossi@example.it" || id.PhoneNumber != "+393331234567" ||
				!slices.Equal(id.AMR, amrFor(wantLevel)) || !id.AuthTime.Equal(t0) ||
				id.Session["name_id"] == "" || id.Session["session_index"] == "" {
				t.Fatalf("%s L%d: identity %+v", idp, level, id)
			}
		}
	}
}

// TestEndToEndLoginWhateverKeyInfoTheIdPSigns: dev IdPs whose Responses and Assertions carry an
// empty X509Certificate (as AgID's validator signs) or no KeyInfo log people in as usual,
// through both bindings: the keys come from the IdP metadata.
func TestEndToEndLoginWhateverKeyInfoTheIdPSigns(t *testing.T) {
	for _, ki := range []samlx.KeyInfoShape{samlx.KeyInfoEmptyCertificate, samlx.KeyInfoNone} {
		e := buildEnv(t, nil, ki)
		for _, idp := range []string{"demo", "test"} {
			loginID := idp + "-keyinfo-" + ki.String()
			status, body := e.login(t, idp, loginID, loa.SpidL2, creds("RSSMRA80A01H501U"))
			o := e.fin.last(t)
			if status != http.StatusOK || o.Err != nil || o.LoginID != loginID || o.Identity.FiscalNumber != "RSSMRA80A01H501U" {
				t.Fatalf("keyinfo=%s %s: HTTP %d %s (%+v)", ki, idp, status, body, o)
			}
		}
		// The dev IdPs really signed that way (the trace keeps each Response as received).
		for _, r := range e.audit.ByType("spid.response") {
			x, _ := r.Fields["xml"].(string)
			if n := strings.Count(x, "<ds:Signature "); n != 2 {
				t.Fatalf("keyinfo=%s: %d signatures in %s", ki, n, x)
			}
			if ki == samlx.KeyInfoEmptyCertificate && strings.Count(x, "<ds:X509Certificate/>") != 2 ||
				ki == samlx.KeyInfoNone && strings.Contains(x, "KeyInfo") {
				t.Fatalf("keyinfo=%s: the dev IdP signed otherwise: %s", ki, x)
			}
		}
	}
}

func TestEndToEndL1MinimumWhenConfigured(t *testing.T) {
	e := newEnv(t)
	e.sp.cfg.MinLevel = 1
	status, _ := e.login(t, "demo", "l1", loa.SpidL1, creds("BNCLRA85M41F205C"))
	o := e.fin.last(t)
	if status != http.StatusOK || o.Identity == nil || o.Identity.ACR != loa.SpidL1 ||
		o.Identity.FiscalNumber != "BNCLRA85M41F205C" || !slices.Equal(o.Identity.AMR, []string{"pwd"}) {
		t.Fatalf("outcome %+v", o)
	}
}

func TestEndToEndL2AskedAnsweredAtL1IsLevelNotReached(t *testing.T) {
	e := newEnv(t)
	for _, idp := range []string{"demo", "test"} {
		status, _ := e.login(t, idp, "low", loa.SpidL2, creds("RSSMRA80A01H501U", "level", "1"))
		o := e.fin.last(t)
		var ue *providers.UserError
		if status != http.StatusForbidden || !errors.Is(o.Err, providers.ErrLevelNotReached) ||
			!errors.As(o.Err, &ue) || ue.Code != "spid.level_not_reached" || o.LoginID != "low" {
			t.Fatalf("%s: status %d outcome %+v", idp, status, o)
		}
	}
}

func TestEndToEndCancelIsErrCancelled(t *testing.T) {
	e := newEnv(t)
	status, _ := e.login(t, "test", "cancel", loa.SpidL2, url.Values{"action": {"cancel"}})
	o := e.fin.last(t)
	var ue *providers.UserError
	if status != http.StatusForbidden || !errors.Is(o.Err, providers.ErrCancelled) ||
		!errors.As(o.Err, &ue) || ue.Code != "spid.nr25" || o.LoginID != "cancel" {
		t.Fatalf("status %d outcome %+v", status, o)
	}
}

func TestEndToEndWrongPasswordIsNr19Denied(t *testing.T) {
	e := newEnv(t)
	form := creds("RSSMRA80A01H501U")
	form.Set("password", "wrong")
	status, _ := e.login(t, "demo", "wrong", loa.SpidL2, form)
	o := e.fin.last(t)
	var ue *providers.UserError
	if status != http.StatusForbidden || !errors.Is(o.Err, providers.ErrDenied) ||
		!errors.As(o.Err, &ue) || ue.Code != "spid.nr19" {
		t.Fatalf("status %d outcome %+v", status, o)
	}
}

func TestEndToEndTraceRecordsRequestAndResponse(t *testing.T) {
	e := newEnv(t)
	e.login(t, "demo", "trace", loa.SpidL2, creds("RSSMRA80A01H501U"))
	reqs, resps := e.audit.ByType("spid.authn_request"), e.audit.ByType("spid.response")
	if len(reqs) != 1 || len(resps) != 1 {
		t.Fatalf("trace: %d requests, %d responses", len(reqs), len(resps))
	}
	r := resps[0]
	for _, k := range []string{"request_id", "response_id", "assertion_id", "idp", "level", "fiscal_number", "xml"} {
		if r.Fields[k] == nil || r.Fields[k] == "" {
			t.Errorf("response trace lacks %s: %v", k, r.Fields)
		}
	}
	if r.Actor != "RSSMRA80A01H501U" || reqs[0].Fields["xml"] == "" {
		t.Errorf("trace: %+v / %+v", r, reqs[0])
	}
}
