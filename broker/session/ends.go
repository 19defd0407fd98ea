package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/inps/sportello/internal/store"
)

// Why a session ended (Ended.Reason).
const (
	// EndLogout: the person logged out at end_session (RP-initiated logout).
	EndLogout = "logout"
	// EndUpstream: the upstream identity provider ended it (SAML or CIE IdP-initiated SLO).
	EndUpstream = "upstream"
	// EndMaxAge: it was found older than its maximum age.
	EndMaxAge = "max_age"
	// EndIdle: its record was found gone with its idle timeout (seen when the person logs in
	// again or an operator ends the person's sessions).
	EndIdle = "idle"
	// EndOperator: an operator ended every session of the person (EndPerson).
	EndOperator = "operator"
)

// ErrEnded is AddClient's answer for a session that has ended (or never was).
var ErrEnded = errors.New("session: ended")

// maxPerPerson bounds the person index: sessions past it are not found by EndPerson (they
// still end every other way). Logins are rate-limited far below it within a maximum age.
const maxPerPerson = 256

// sweepPerLogin is how many of the oldest entries of a person index a login looks at (ended
// by their idle timeout? gone?): a login's Store round trips stay bounded whatever the number
// of the person's sessions — it adds one entry and may drop up to this many, so a person's
// logins keep the index swept — and logins of one person racing on the index (its
// compare-and-swap) redo little work.
const sweepPerLogin = 8

// Ended is a session that ended, told once to Options.OnEnd.
type Ended struct {
	// PublicID is the session's sid claim.
	PublicID string
	// Subject is the broker's sub of the person who logged in.
	Subject string
	// Clients are the clients that got tokens in the session, each with the sub its tokens
	// carry (a delegate acting for a delegator gives that client the delegator's sub).
	Clients map[string]string
	// Reason is one of the End constants.
	Reason string
}

// live is a session's live marker ("sesspub:<public id>"), written at Open with the maximum
// age as TTL: what ending a session takes (Take: exactly one caller ends it, whichever way),
// and where AddClient records the clients. It is apart from the record so that the idle
// slide of Get (a compare-and-swap on the record) never races with AddClient, and so that a
// session whose record expired with its idle timeout can still be told ended.
type live struct {
	// Hash is the hash of the cookie's secret: the record's key.
	Hash    string `json:"h"`
	Subject string `json:"sub,omitempty"`
	// Upstream is the upstream index key ("" when none).
	Upstream string            `json:"up,omitempty"`
	Clients  map[string]string `json:"clients,omitempty"`
}

// liveKey is a session's live marker by its public id.
func liveKey(publicID string) string { return "sesspub:" + publicID }

// personKey is the person index: the public ids of the sessions of a broker sub (a keyed
// hash already: no fiscal code in a key).
func personKey(sub string) string { return "sessperson:" + sub }

// liveTTL outlives the record: a record is never older than the maximum age (Get ends it).
func (r *Repo) liveTTL() time.Duration { return r.maxAge + time.Minute }

// AddClient records that clientID got tokens in the session publicID, as sub. It answers
// ErrEnded when the session has ended: the caller then knows no logout will reach the client
// for it.
func (r *Repo) AddClient(ctx context.Context, publicID, clientID, sub string) error {
	if publicID == "" || clientID == "" {
		return ErrEnded
	}
	k := liveKey(publicID)
	ttl, err := r.st.TTL(ctx, k)
	if errors.Is(err, store.ErrNotFound) {
		return ErrEnded
	}
	if err != nil {
		return err
	}
	if ttl <= 0 {
		ttl = r.liveTTL()
	}
	_, err = store.Update(ctx, r.st, k, ttl, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, ErrEnded
		}
		var lv live
		if err := json.Unmarshal(old, &lv); err != nil {
			return nil, fmt.Errorf("session: live marker: %w", err)
		}
		if lv.Clients[clientID] == sub {
			return old, nil
		}
		if lv.Clients == nil {
			lv.Clients = map[string]string{}
		}
		lv.Clients[clientID] = sub
		return json.Marshal(lv)
	})
	return err
}

// end ends the session publicID for why: it takes the live marker (so one caller of all those
// that race ends it), deletes the record and its upstream index entry, drops it from the
// person index and tells OnEnd. It reports whether this call ended it.
func (r *Repo) end(ctx context.Context, publicID, why string) (bool, error) {
	raw, err := r.st.Take(ctx, liveKey(publicID))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var lv live
	if err := json.Unmarshal(raw, &lv); err != nil {
		return false, fmt.Errorf("session: live marker: %w", err)
	}
	_ = r.st.Delete(ctx, key(lv.Hash))
	if lv.Upstream != "" {
		h := []byte(lv.Hash)
		_, _ = r.st.CompareAndSwap(ctx, lv.Upstream, h, nil, 0)
	}
	if lv.Subject != "" {
		r.unindex(ctx, lv.Subject, publicID)
	}
	if r.onEnd != nil {
		r.onEnd(ctx, Ended{PublicID: publicID, Subject: lv.Subject, Clients: lv.Clients, Reason: why})
	}
	return true, nil
}

// EndPerson ends every session of the person with broker sub sub (an operator's action) and
// returns how many it ended. The sessions found gone with their idle timeout end too, for
// EndIdle, and are not counted.
func (r *Repo) EndPerson(ctx context.Context, sub string) (int, error) {
	if sub == "" {
		return 0, nil
	}
	pubs, err := r.person(ctx, sub)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, pub := range pubs {
		why := EndOperator
		if r.idleEnded(ctx, pub) {
			why = EndIdle
		}
		ended, err := r.end(ctx, pub, why)
		if err != nil {
			errs = append(errs, err)
		}
		if ended && why == EndOperator {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// idleEnded reports whether the session publicID is still marked live but its record has
// expired (the idle timeout).
func (r *Repo) idleEnded(ctx context.Context, publicID string) bool {
	raw, err := r.st.Get(ctx, liveKey(publicID))
	if err != nil {
		return false
	}
	var lv live
	if json.Unmarshal(raw, &lv) != nil {
		return false
	}
	_, err = r.st.Get(ctx, key(lv.Hash))
	return errors.Is(err, store.ErrNotFound)
}

// person returns the public ids of the person index of sub.
func (r *Repo) person(ctx context.Context, sub string) ([]string, error) {
	raw, err := r.st.Get(ctx, personKey(sub))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var pubs []string
	if err := json.Unmarshal(raw, &pubs); err != nil {
		return nil, fmt.Errorf("session: person index: %w", err)
	}
	return pubs, nil
}

// index adds publicID to the person index of sub, after ending the person's sessions found
// gone with their idle timeout and dropping those that ended (best effort: a failure only
// leaves the index longer, or the new session out of it).
func (r *Repo) index(ctx context.Context, sub, publicID string) {
	pubs, _ := r.person(ctx, sub)
	for _, pub := range pubs[:min(len(pubs), sweepPerLogin)] {
		if r.idleEnded(ctx, pub) {
			_, _ = r.end(ctx, pub, EndIdle)
		}
	}
	_, _ = store.Update(ctx, r.st, personKey(sub), r.liveTTL(), func(old []byte) ([]byte, error) {
		var pubs []string
		if old != nil && json.Unmarshal(old, &pubs) != nil {
			pubs = nil
		}
		n := min(len(pubs), sweepPerLogin)
		head := slices.DeleteFunc(slices.Clone(pubs[:n]), func(p string) bool {
			_, err := r.st.Get(ctx, liveKey(p))
			return errors.Is(err, store.ErrNotFound)
		})
		pubs = append(append(head, pubs[n:]...), publicID)
		if len(pubs) > maxPerPerson {
			pubs = pubs[len(pubs)-maxPerPerson:]
		}
		return json.Marshal(pubs)
	})
}

// unindex drops publicID from the person index of sub (best effort: a stale entry is
// dropped at the next Open of the person's).
func (r *Repo) unindex(ctx context.Context, sub, publicID string) {
	_, _ = store.Update(ctx, r.st, personKey(sub), r.liveTTL(), func(old []byte) ([]byte, error) {
		var pubs []string
		if old == nil || json.Unmarshal(old, &pubs) != nil {
			return old, nil
		}
		i := slices.Index(pubs, publicID)
		if i < 0 {
			return old, nil
		}
		pubs = slices.Delete(pubs, i, i+1)
		if len(pubs) == 0 {
			return nil, nil
		}
		return json.Marshal(pubs)
	})
}
