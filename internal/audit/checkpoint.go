package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// checkpointMessage is what a checkpoint signs: its own position and the chain head before it.
func checkpointMessage(seq uint64, prev string, t time.Time) []byte {
	return []byte("sportello-audit-checkpoint-v1\n" + strconv.FormatUint(seq, 10) + "\n" + prev + "\n" + t.UTC().Format(time.RFC3339Nano))
}

// KeyID names a public key in checkpoints: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// signCheckpoint fills the checkpoint fields of r (whose Seq, Prev and Time are set).
func signCheckpoint(r *Record, key ed25519.PrivateKey, records uint64) {
	sig := ed25519.Sign(key, checkpointMessage(r.Seq, r.Prev, r.Time))
	r.Type = CheckpointType
	r.Fields = map[string]any{
		"alg":     "Ed25519",
		"key_id":  KeyID(key.Public().(ed25519.PublicKey)),
		"records": records,
		"sig":     base64.StdEncoding.EncodeToString(sig),
	}
}

var (
	errCheckpointForged = errors.New("checkpoint signature does not verify")
	errCheckpointShape  = errors.New("checkpoint without alg Ed25519 and a signature")
)

// verifyCheckpoint checks a decoded checkpoint record against pub.
func verifyCheckpoint(r *Record, pub ed25519.PublicKey) error {
	alg, _ := r.Fields["alg"].(string)
	s, _ := r.Fields["sig"].(string)
	if alg != "Ed25519" || s == "" {
		return errCheckpointShape
	}
	sig, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return errCheckpointShape
	}
	if !ed25519.Verify(pub, checkpointMessage(r.Seq, r.Prev, r.Time), sig) {
		return errCheckpointForged
	}
	return nil
}

// LoadSigningKey reads an Ed25519 private key from a PEM file ("PRIVATE KEY", PKCS #8).
func LoadSigningKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: signing key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("audit: signing key %s: no PRIVATE KEY PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("audit: signing key %s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("audit: signing key %s: %T is not Ed25519", path, k)
	}
	return ek, nil
}

// LoadPublicKey reads an Ed25519 public key from a PEM file ("PUBLIC KEY", PKIX), or the
// public half of a private key file.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: public key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk != nil && blk.Type == "PRIVATE KEY" {
		k, err := LoadSigningKey(path)
		if err != nil {
			return nil, err
		}
		return k.Public().(ed25519.PublicKey), nil
	}
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("audit: public key %s: no PUBLIC KEY PEM block", path)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("audit: public key %s: %w", path, err)
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("audit: public key %s: %T is not Ed25519", path, k)
	}
	return ek, nil
}

// EnsureDevKey loads the signing key at path, generating it (and path+".pub") from random when
// the file does not exist. Dev mode only: production keys are made and guarded by operators.
func EnsureDevKey(path string, random io.Reader) (ed25519.PrivateKey, error) {
	if _, err := os.Stat(path); err == nil {
		return LoadSigningKey(path)
	}
	if random == nil {
		random = rand.Reader
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	pub, priv, err := ed25519.GenerateKey(random)
	if err != nil {
		return nil, fmt.Errorf("audit: generating dev key: %w", err)
	}
	if err := WriteKeyPair(path, priv, pub); err != nil {
		return nil, err
	}
	return priv, nil
}

// WriteKeyPair writes priv to path (mode 0600) and pub to path+".pub".
func WriteKeyPair(path string, priv ed25519.PrivateKey, pub ed25519.PublicKey) error {
	pk, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := os.WriteFile(path+".pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil { //nolint:gosec // a public key, meant to be copied to the verifiers
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
