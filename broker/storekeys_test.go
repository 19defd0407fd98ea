package broker

import (
	"testing"

	"github.com/inps/sportello/broker/keys"
)

// The Store keys are part of the stored data's format: an upgraded replica must find what the
// previous version wrote. Each is pinned here; changing one needs a migration, not an edit.
func TestStoreKeysAreStable(t *testing.T) {
	h := tokenHash("secret")
	for _, tt := range []struct{ got, want string }{
		{loginKey("L"), "login:L"},
		{parPrefix, "par:"},
		{jarPrefix, "jar:jti:"},
		{doneKey("R"), "done:R"},
		{mtlsStepKey("secret"), "mtlsstep:" + h},
		{errorPageKey("R"), "errpage:R"},
		{signInKey("S"), "signin:S"},
		{assertionJTIKey("demo-service", "J"), "jti:demo-service:J"},
		{dpopJTIKey("K"), "dpop:jti:K"},
		{keys.StoreKey, "keys:set"},
	} {
		if tt.got != tt.want {
			t.Errorf("store key %q, want %q: stored data would no longer be found", tt.got, tt.want)
		}
	}
	// tokenHash is part of the key format too: base64url SHA-256, unpadded.
	if h != "K7gNU3sdo-OL0wNhqoVWhr3g6s1xYv72ol_pe_Unols" {
		t.Errorf("tokenHash(%q) = %q: every hashed key would change", "secret", h)
	}
}
