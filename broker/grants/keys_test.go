package grants

import "testing"

// The Store keys are part of the stored data's format: an upgraded replica must find the
// codes, refresh tokens and revocations the previous version wrote. Each is pinned here;
// changing one needs a migration, not an edit.
func TestStoreKeysAreStable(t *testing.T) {
	h := TokenHash("secret")
	for _, tt := range []struct{ got, want string }{
		{codeKey(h), "code:" + h},
		{legacyCodeUsedKey(h), "codeused:" + h},
		{refreshKey(h), "rt:" + h},
		{refreshUsedKey(h), "rtused:" + h},
		{familyRevokedKey("F"), "rtf:F"},
		{deniedAccessKey("J"), "atrev:J"},
		{personRevokedKey("S"), "rtperson:S"},
	} {
		if tt.got != tt.want {
			t.Errorf("store key %q, want %q: stored data would no longer be found", tt.got, tt.want)
		}
	}
	if h != "K7gNU3sdo-OL0wNhqoVWhr3g6s1xYv72ol_pe_Unols" {
		t.Errorf("TokenHash(%q) = %q: every hashed key would change", "secret", h)
	}
}

// The rotation marker's and the code record's JSON are stored too: their field names stay.
func TestStoredRecordsKeepTheirFormat(t *testing.T) {
	if got := string(mustMarshal(rotationMarker{Attempt: "a", At: 1, Next: "n", Parent: "p"})); got != `{"a":"a","t":1,"n":"n","p":"p"}` {
		t.Errorf("rotation marker %s", got)
	}
	if got := string(mustMarshal(Code{Answered: &Issued{FamilyID: "f", JTI: "j"}})); got != `{"answered":{"family":"f","jti":"j","access_exp":"0001-01-01T00:00:00Z"}}` {
		t.Errorf("answered code %s", got)
	}
}
