package jar

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
)

// registered are the JWT claims of a request object that are no authorization parameters.
var registered = map[string]bool{"iss": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true}

// Merge returns the authorization request's parameters for a verified request object of the
// client clientID (RFC 9101 §5, §6.3): the object's claims alone — strings as they are,
// numbers and booleans as written, objects and arrays (claims, authorization_details) as
// JSON — without the JWT's own claims, and client_id set. The parameters outside the object
// are ignored: the caller passes none of them.
func Merge(clientID string, claims map[string]any) (url.Values, error) {
	out := url.Values{}
	for k, v := range claims {
		if registered[k] || v == nil {
			continue
		}
		switch x := v.(type) {
		case string:
			out.Set(k, x)
		case json.Number:
			out.Set(k, x.String())
		case bool:
			out.Set(k, strconv.FormatBool(x))
		default:
			b, err := json.Marshal(x)
			if err != nil {
				return nil, invalidObject("claim "+strconv.Quote(k)+" cannot be a parameter", err)
			}
			out.Set(k, string(b))
		}
	}
	out.Set("client_id", clientID)
	return out, nil
}

// Resolve verifies the request object among an authorization request's parameters outer
// (exactly one request, a client_id naming c, no request_uri beside it) and returns the
// parameters to use: Merge of its claims. The other outer parameters are ignored, as RFC 9101
// §5 says; response_type or scope outside may still be required by the caller's own rules.
func (v *Verifier) Resolve(ctx context.Context, c Client, outer url.Values) (url.Values, error) {
	reqs := outer["request"]
	if len(reqs) != 1 || reqs[0] == "" {
		return nil, invalidRequest("request must be given once")
	}
	if _, ok := outer["request_uri"]; ok {
		return nil, invalidRequest("request and request_uri are exclusive")
	}
	if ids := outer["client_id"]; len(ids) != 1 || ids[0] != c.ID {
		return nil, invalidRequest("client_id must be given once and name the client")
	}
	claims, err := v.Verify(ctx, c, reqs[0])
	if err != nil {
		return nil, err
	}
	return Merge(c.ID, claims)
}
