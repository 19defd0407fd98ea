// Package seal seals values kept in the Store with the shared crypto key: AES-256-GCM under
// the key's first 32 bytes, a random nonce in front, and the Store key the value lives under
// as additional data, so a sealed value moved to another key does not open. The broker's
// signing keys and the federation keys are sealed with it.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"io"
)

// ErrShortKey: the crypto key has fewer than 32 bytes.
var ErrShortKey = errors.New("crypto key shorter than 32 bytes")

// ErrOpen: the sealed value is too short, altered, sealed under another Store key or with
// another crypto key.
var ErrOpen = errors.New("sealed value does not open")

func aead(key []byte) (cipher.AEAD, error) {
	if len(key) < 32 {
		return nil, ErrShortKey
	}
	block, err := aes.NewCipher(key[:32])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal seals plain for the Store key storeKey; random draws the nonce (nil: crypto/rand).
func Seal(key []byte, storeKey string, plain []byte, random io.Reader) ([]byte, error) {
	a, err := aead(key)
	if err != nil {
		return nil, err
	}
	if random == nil {
		random = rand.Reader
	}
	nonce := make([]byte, a.NonceSize())
	if _, err := io.ReadFull(random, nonce); err != nil {
		return nil, err
	}
	return a.Seal(nonce, nonce, plain, []byte(storeKey)), nil
}

// Open opens a value sealed for storeKey.
func Open(key []byte, storeKey string, sealed []byte) ([]byte, error) {
	a, err := aead(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < a.NonceSize() {
		return nil, ErrOpen
	}
	plain, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], []byte(storeKey))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
