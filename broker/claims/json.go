package claims

import "encoding/json"

// The claims are written as the broker wrote them when they were maps: an object's members in
// key order, as encoding/json writes a map. Relying parties never depend on the order, but the
// token payloads, the answers of introspection and userinfo and the act stored with a grant
// stay byte for byte what they were.

// sorted re-encodes the JSON object b with its members in key order.
func sorted(b []byte, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// MarshalJSON writes the access token's claims in key order.
func (c Access) MarshalJSON() ([]byte, error) {
	type plain Access
	return sorted(json.Marshal(plain(c)))
}

// MarshalJSON writes the ID token's claims in key order.
func (c ID) MarshalJSON() ([]byte, error) {
	type plain ID
	return sorted(json.Marshal(plain(c)))
}

// MarshalJSON writes the userinfo claims in key order.
func (c UserInfo) MarshalJSON() ([]byte, error) {
	type plain UserInfo
	return sorted(json.Marshal(plain(c)))
}

// MarshalJSON writes the actor in key order.
func (a Act) MarshalJSON() ([]byte, error) {
	type plain Act
	return sorted(json.Marshal(plain(a)))
}

// MarshalJSON writes the delegation in key order.
func (d Delegation) MarshalJSON() ([]byte, error) {
	type plain Delegation
	return sorted(json.Marshal(plain(d)))
}

// Merge returns the JSON object of c with the members of extra added (an introspection
// answer: the token's claims, active and token_type), in key order.
func Merge(c any, extra map[string]any) ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range extra {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		m[k] = raw
	}
	return json.Marshal(m)
}
