package broker

import (
	"testing"
)

// Redis with AOF (fsync on every write) is killed like a crash and started again on the same
// files: a live refresh token issued before still works, through the same broker instance,
// and the one it replaced stays refused (the rotation survived too).
func TestSurvivalRedisRestartWithAOFKeepsLiveRefreshTokens(t *testing.T) {
	for _, how := range []string{"crash (SIGKILL)", "graceful restart (SIGTERM)"} {
		t.Run(how, func(t *testing.T) {
			p, st := survivalRedis(t, "--appendonly", "yes", "--appendfsync", "always")
			tb := newTestBroker(t, st)
			tok := survivalLogin(t, tb.URL)
			// Rotate once before the restart: the family's state must survive, not just a key.
			code, e, body := tokenPost(t, tb.URL, refreshForm(tok.RefreshToken))
			if code != 200 {
				t.Fatalf("refresh before the restart: %d %s", code, e)
			}
			live, _ := body["refresh_token"].(string)
			if how == "crash (SIGKILL)" {
				p.Kill()
			}
			p.Restart()
			var got int
			if !eventually(10e9, func() bool { got, _ = status(t, tb.URL, "/readyz"); return got == 200 }) {
				t.Fatalf("/readyz = %d after the restart", got)
			}
			code, e, body = tokenPost(t, tb.URL, refreshForm(live))
			if code != 200 || body["access_token"] == nil {
				t.Fatalf("live refresh token after the restart: %d %s", code, e)
			}
			if code, e, _ := tokenPost(t, tb.URL, refreshForm(tok.RefreshToken)); code != 400 || e != "invalid_grant" {
				t.Fatalf("the rotated-out refresh token came back after the restart: %d %s", code, e)
			}
		})
	}
}
