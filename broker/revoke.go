package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/broker/bclogout"
	"github.com/inps/sportello/broker/claims"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/fiscalcode"
	"github.com/inps/sportello/internal/store"
)

// EndSessions is the operators' "revoke this person" (the console's revoke-person): it
// revokes every grant of the person with this fiscal code — as subject or as a delegate —
// obtained until now (grants.RevokePerson: one mark checked at refresh, code redemption,
// introspection, userinfo and token exchange, seen at once by every replica), then ends all
// the person's SSO sessions, each telling its clients through back-channel logout. It
// returns how many sessions it ended. The grants are revoked first: a failure to end a
// session leaves nothing the person could refresh.
func (b *Broker) EndSessions(ctx context.Context, fiscalCode string) (int, error) {
	cf, err := fiscalcode.Parse(fiscalCode)
	if err != nil {
		return 0, fmt.Errorf("broker: %w", err)
	}
	sub := subjectFor(b.subjectKey, cf)
	if _, err := b.grants.RevokePerson(ctx, sub); err != nil {
		return 0, err
	}
	n, err := b.sessions.EndPerson(ctx, sub)
	b.auditEvent(ctx, "person.revoked", sub, map[string]any{"sessions": n, "complete": err == nil})
	if err != nil {
		return n, errors.Join(errors.New("broker: some sessions could not be ended"), err)
	}
	return n, nil
}

// PersonRevokedSince tells whether an operator revoked the person with this fiscal code
// (EndSessions) at or after since: what the console asks of its own operators' sessions.
func (b *Broker) PersonRevokedSince(ctx context.Context, fiscalCode string, since time.Time) (bool, error) {
	cf, err := fiscalcode.Parse(fiscalCode)
	if err != nil {
		return false, fmt.Errorf("broker: %w", err)
	}
	return b.grants.PersonRevoked(ctx, since, subjectFor(b.subjectKey, cf))
}

// RevokePerson is EndSessions for a process that is not serving (the operators' CLI, on the
// shared Store): the same revocation and the same sessions ended, with the configuration's
// clients; the logout tokens are queued, and the replicas' Run signs and delivers them.
func RevokePerson(ctx context.Context, cfg *config.Config, st store.Store, subjectKey []byte, fiscalCode string) (int, error) {
	if cfg == nil || st == nil || len(subjectKey) < 32 {
		return 0, errors.New("broker: RevokePerson needs the configuration, the Store and the subject key")
	}
	b := &Broker{cfg: cfg, issuer: strings.TrimRight(cfg.Issuer, "/"), store: st, subjectKey: subjectKey,
		bclKick: make(chan struct{}, 1)}
	b.setDefaults()
	b.metrics = newMetrics(nil, nil)
	if err := b.loadClients(cfg); err != nil {
		return 0, err
	}
	queueOnly := bclogout.SignerFunc(func(context.Context, jose.SignatureAlgorithm, string, []byte) (string, error) {
		return "", errors.New("broker: this process only queues logout tokens")
	})
	if err := b.openRepos(queueOnly); err != nil {
		return 0, err
	}
	return b.EndSessions(ctx, fiscalCode)
}

// accessPeople are the subs an access token belongs to: its subject and every actor of its
// chain (a service client's actor entry names a client, never revoked as a person).
func accessPeople(c *claims.Access) []string {
	subs := []string{c.Subject}
	for a := c.Act; a != nil; a = a.Act {
		subs = append(subs, a.Subject)
	}
	return subs
}
