package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/inps/sportello/broker/claims"
	"github.com/inps/sportello/internal/fiscalcode"
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

// accessPeople are the subs an access token belongs to: its subject and every actor of its
// chain (a service client's actor entry names a client, never revoked as a person).
func accessPeople(c *claims.Access) []string {
	subs := []string{c.Subject}
	for a := c.Act; a != nil; a = a.Act {
		subs = append(subs, a.Subject)
	}
	return subs
}
