package broker

import (
	"context"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/broker/bclogout"
	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/broker/session"
)

// bclPrefix namespaces the back-channel logout queue in the Store (broker/bclogout).
const bclPrefix = bclogout.DefaultPrefix

// DefaultBackchannelInterval is how often each replica's Run looks at the back-channel
// logout queue when nothing woke it (Options.BackchannelInterval).
const DefaultBackchannelInterval = 2 * time.Second

// newBackchannel builds the durable delivery queue of logout tokens: every replica has one on
// the shared Store, and Run works it. The tokens are signed by the ID-token keys, with the
// algorithm of the client's ID tokens, typ logout+jwt (OpenID Connect Back-Channel Logout
// 1.0 §2.4); sign replaces them (nil: the key ring).
func (b *Broker) newBackchannel(sign bclogout.Signer) (*bclogout.Queue, error) {
	if sign == nil {
		sign = bclogout.SignerFunc(func(_ context.Context, alg jose.SignatureAlgorithm, typ string, payload []byte) (string, error) {
			if typ != keys.TypLogoutToken {
				return "", fmt.Errorf("broker: a logout token's typ is %s, not %s", keys.TypLogoutToken, typ)
			}
			return b.keys.Sign(alg, typ, payload)
		})
	}
	return bclogout.New(bclogout.Options{
		Issuer: b.issuer, Signer: sign, Store: b.store, Prefix: bclPrefix,
		AllowHTTP: b.cfg.Dev, HTTPClient: b.bclClient,
		Now: func() time.Time { return b.now() }, Rand: b.rand, Logger: b.log,
		OnAttempt: func(_ context.Context, st bclogout.Status) {
			switch st.State {
			case bclogout.StateDelivered:
				b.metrics.backchannel.WithLabelValues("delivered").Inc()
			case bclogout.StatePending:
				b.metrics.backchannel.WithLabelValues("retried").Inc()
			case bclogout.StateFailed:
				b.metrics.backchannel.WithLabelValues("given_up").Inc()
			}
		},
		// A relying party that never heard of a logout keeps the person's session open
		// there: the security team must know (the audit trail), not only the log.
		OnGiveUp: func(ctx context.Context, st bclogout.Status) {
			b.auditEvent(ctx, "logout.backchannel_failed", st.Logout.Subject, map[string]any{
				"client_id": st.Logout.ClientID, "sid": st.Logout.SessionID, "entry": st.ID,
				"attempts": st.Attempts, "last_error": st.LastError})
		},
	})
}

// sessionEnded is the sessions' OnEnd: every client that got tokens in the session and
// registered a backchannel_logout_uri gets a logout token, through the queue. The token
// names the session (sid: always, so backchannel_logout_session_required is always met) and
// the sub the client knows the person by; it never carries a nonce (§2.4).
func (b *Broker) sessionEnded(ctx context.Context, e session.Ended) {
	queued := false
	for clientID, sub := range e.Clients {
		cl, ok := b.client(clientID)
		if !ok || cl.backchannelURI == "" {
			continue
		}
		_, err := b.bcl.Enqueue(ctx, bclogout.Logout{ClientID: clientID, URI: cl.backchannelURI,
			Subject: sub, SessionID: e.PublicID, Alg: cl.alg})
		if err != nil {
			b.metrics.backchannel.WithLabelValues("enqueue_failed").Inc()
			b.log.ErrorContext(ctx, "back-channel logout not queued", "client_id", clientID, "reason", e.Reason, "error", err)
			continue
		}
		b.metrics.backchannel.WithLabelValues("enqueued").Inc()
		queued = true
	}
	if queued {
		// This replica's Run delivers at once rather than at its next tick.
		select {
		case b.bclKick <- struct{}{}:
		default:
		}
	}
}

// runBackchannel works the logout queue until ctx ends: at every tick and whenever a session
// of this replica's ended. A delivery under way when ctx ends is abandoned with its lease,
// which another replica (or this one, restarted) takes when it runs out: nothing is lost.
func (b *Broker) runBackchannel(ctx context.Context) {
	t := time.NewTicker(b.bclEvery)
	defer t.Stop()
	for {
		if _, err := b.bcl.Work(ctx); err != nil && ctx.Err() == nil {
			b.log.ErrorContext(ctx, "back-channel logout queue pass failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-b.bclKick:
		}
	}
}
