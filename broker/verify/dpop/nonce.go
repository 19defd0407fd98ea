package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// DefaultNonceWindow is how long one nonce is current (Nonces accept it for one more window).
const DefaultNonceWindow = 5 * time.Minute

// nonceLabel separates these MACs from any other use of the key.
const nonceLabel = "sportello/dpop-nonce/v1\x00"

// Nonces issues and checks server nonces without state: the nonce of a window is
// base64url(HMAC-SHA256(key, label || window number)). Every replica with the same key issues
// and accepts the same nonces; a nonce is accepted in its window and the next one, so it
// lives between one and two windows.
type Nonces struct {
	key    []byte
	window time.Duration
	now    func() time.Time
}

// NewNonces returns Nonces over key (at least 32 bytes, shared by the replicas) with windows
// of window (default DefaultNonceWindow) on the clock now (default time.Now).
func NewNonces(key []byte, window time.Duration, now func() time.Time) (*Nonces, error) {
	if len(key) < 32 {
		return nil, errors.New("dpop: the nonce key must have at least 32 bytes")
	}
	if window <= 0 {
		window = DefaultNonceWindow
	}
	if now == nil {
		now = time.Now
	}
	return &Nonces{key: append([]byte(nil), key...), window: window, now: now}, nil
}

func (n *Nonces) at(w int64) string {
	m := hmac.New(sha256.New, n.key)
	m.Write([]byte(nonceLabel))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(w))
	m.Write(b[:])
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (n *Nonces) current() int64 { return n.now().UnixNano() / int64(n.window) }

// Current returns the nonce of the current window.
func (n *Nonces) Current() string { return n.at(n.current()) }

// Valid reports whether s is the nonce of the current or the previous window.
func (n *Nonces) Valid(s string) bool {
	w := n.current()
	// Both comparisons always run: the answer's timing says nothing of which window matched.
	cur := hmac.Equal([]byte(s), []byte(n.at(w)))
	prev := hmac.Equal([]byte(s), []byte(n.at(w-1)))
	return cur || prev
}
