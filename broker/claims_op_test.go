package broker

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/broker/claims"
	"github.com/inps/sportello/broker/grants"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

// A login over OpenID Connect Federation names its OP in the ID token, the access token and
// userinfo (spid_op with spid_idp for SPID, cie_op for CIE); other logins carry neither.
func TestTokensNameTheFederationOP(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	cl := tb.clientMap()["demo-rp"]
	now := time.Unix(1_760_000_000, 0)
	op := "https://cie-op.example"
	for _, tc := range []struct {
		id   *providers.Identity
		want map[string]string
	}{
		{&providers.Identity{FiscalNumber: "RSSMRA80A01H501U", Method: "cie", ACR: loa.SpidL2, AuthTime: now, CIEOP: op},
			map[string]string{"cie_op": op}},
		{&providers.Identity{FiscalNumber: "RSSMRA80A01H501U", Method: "spid", ACR: loa.SpidL2, AuthTime: now, SPIDIdP: op, SPIDOP: op},
			map[string]string{"spid_op": op, "spid_idp": op}},
		{&providers.Identity{FiscalNumber: "RSSMRA80A01H501U", Method: "cie", ACR: loa.SpidL3, AuthTime: now},
			map[string]string{}},
	} {
		g := &grants.Grant{ClientID: cl.id, Scopes: []string{"openid"}, Subject: "sub-x", Identity: tc.id}
		at := tb.accessClaims(cl, g, now, now.Add(time.Minute), "jti-1", "")
		for what, v := range map[string]any{
			"ID token":     tb.idClaims(cl, g, "", now),
			"access token": at,
			"userinfo":     &claims.UserInfo{Subject: at.Subject, Person: at.Person},
		} {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"spid_op", "cie_op", "spid_idp"} {
				if want, ok := tc.want[k]; ok != (got[k] != nil) || (ok && got[k] != want) {
					t.Errorf("%s of a %s login: %s = %v, want %q", what, tc.id.Method, k, got[k], want)
				}
			}
			if got["sub"] != "sub-x" || !strings.Contains(string(b), `"auth_method":"`+tc.id.Method+`"`) {
				t.Errorf("%s: %s", what, b)
			}
		}
	}
}
