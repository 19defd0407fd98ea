package pin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/argon2"
)

// Hash is an Argon2id hash with its own salt and parameters, so records hashed under older
// parameters keep verifying after a configuration change.
type Hash struct {
	Salt     []byte       `json:"salt"`
	Sum      []byte       `json:"sum"`
	Params   Argon2Params `json:"params"`
	Peppered bool         `json:"peppered,omitempty"`
}

// newHash hashes the normalised secret with a fresh salt.
func (s *Service) newHash(secret string) (*Hash, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(s.rand, salt); err != nil {
		return nil, fmt.Errorf("pin: salt: %w", err)
	}
	h := &Hash{Salt: salt, Params: s.cfg.Argon2, Peppered: len(s.cfg.Pepper) > 0}
	sum, err := s.derive(context.Background(), secret, h)
	if err != nil {
		return nil, err
	}
	h.Sum = sum
	return h, nil
}

// verify reports, in constant time, whether secret matches h. It fails with ErrOverloaded
// when no hashing slot frees up in time.
func (s *Service) verify(ctx context.Context, h *Hash, secret string) (bool, error) {
	if h == nil {
		return false, nil
	}
	sum, err := s.derive(ctx, secret, h)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(sum, h.Sum) == 1, nil
}

// acquireHashSlot bounds concurrent Argon2id computations so that a burst of logins never
// takes the process above the configured memory budget: an attempt waits up to HashWait for a
// slot, then gives up with ErrOverloaded (a "try again" page, a 503 for APIs).
func (s *Service) acquireHashSlot(ctx context.Context) (func(), error) {
	select {
	case s.slots <- struct{}{}:
		return func() { <-s.slots }, nil
	default:
	}
	t := time.NewTimer(s.cfg.HashWait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return func() { <-s.slots }, nil
	case <-t.C:
		s.overloaded.Add(1)
		return nil, ErrOverloaded
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrOverloaded, ctx.Err())
	}
}

// derive runs Argon2id; this is the one costly step and every call is counted.
func (s *Service) derive(ctx context.Context, secret string, h *Hash) ([]byte, error) {
	release, err := s.acquireHashSlot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	pw := []byte(secret)
	if h.Peppered {
		m := hmac.New(sha256.New, s.cfg.Pepper)
		m.Write(pw)
		pw = m.Sum(nil)
	}
	s.hashes.Add(1)
	if s.onHash != nil {
		s.onHash()
	}
	p := h.Params
	return argon2.IDKey(pw, h.Salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen), nil
}

// dummyVerify spends the cost of one verification, so an unknown fiscal code answers in the
// same time as a wrong PIN.
func (s *Service) dummyVerify(ctx context.Context, secret string) error {
	_, err := s.verify(ctx, &Hash{Salt: make([]byte, 16), Sum: make([]byte, s.cfg.Argon2.KeyLen), Params: s.cfg.Argon2}, secret)
	return err
}

// hashSlots is how many Argon2id computations fit the memory budget at once (at least one).
func hashSlots(c Config) int {
	per := int(c.Argon2.MemoryKiB / 1024)
	if per < 1 {
		per = 1
	}
	return max(1, c.HashMemoryBudgetMiB/per)
}

// Overloaded counts the attempts refused because no hashing slot freed up in time.
func (s *Service) Overloaded() uint64 { return s.overloaded.Load() }
