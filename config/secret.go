package config

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Secret is a secret given by reference: "file:/path" (the file's content, trailing newline
// trimmed; a relative path is relative to the configuration file's directory) or "env:NAME"
// (an environment variable). A literal value is allowed only in dev mode. Load resolves
// Value; Ref keeps what was written. A Secret never prints its value: String, GoString,
// MarshalYAML, MarshalJSON and LogValue all give "[redacted]".
type Secret struct {
	// Ref is the reference as written in the file.
	Ref string `yaml:"-"`
	// Value is the resolved secret.
	Value string `yaml:"-"`
	// at is where the reference is written; written tells that the key is there at all,
	// even empty or null.
	at      position
	written bool
}

const redacted = "[redacted]"

// IsSet reports whether the secret was given.
func (s Secret) IsSet() bool { return s.Ref != "" || s.Value != "" }

// String implements fmt.Stringer without revealing the value.
func (s Secret) String() string {
	if !s.IsSet() {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer without revealing the value.
func (s Secret) GoString() string { return s.String() }

// LogValue implements slog.LogValuer without revealing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalYAML implements yaml.Marshaler without revealing the value.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalJSON implements json.Marshaler without revealing the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// UnmarshalYAML records the reference; Resolver.Secret resolves it.
func (s *Secret) UnmarshalYAML(node *yaml.Node) error {
	if err := s.decode(node, ""); err != nil {
		return err
	}
	return nil
}

func (s *Secret) decode(node *yaml.Node, path string) error {
	*s = Secret{at: positionOf(node), written: true}
	if isNull(node) {
		return nil
	}
	if node.Kind != yaml.ScalarNode {
		return fieldErr(path, node, "want a secret reference (file:/path or env:NAME), got %s", kindName(node))
	}
	s.Ref = node.Value
	return nil
}

// Key decodes the secret as key material of at least 32 bytes; see DecodeKey.
func (s Secret) Key() ([]byte, error) { return DecodeKey(s.Value) }

// DecodeKey turns a key written as text into at least 32 bytes. It tries, in this order:
//  1. hexadecimal: 64 or more hex digits (for example the output of "openssl rand -hex 32");
//  2. base64, standard or URL alphabet, padded or not, decoding to 32 or more bytes
//     ("openssl rand -base64 32");
//  3. the raw text itself, when it is 32 or more bytes long.
//
// Anything shorter is refused: a key must carry at least 256 bits.
func DecodeKey(s string) ([]byte, error) {
	if len(s) >= 64 && len(s)%2 == 0 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) >= 32 {
			return b, nil
		}
	}
	if len(s) >= 32 {
		return []byte(s), nil
	}
	return nil, errors.New("must hold at least 32 bytes: 64 hex digits, base64 of 32 bytes, or 32 characters or more")
}

// CryptoKey32 returns the 32-byte key that encrypts opaque codes and tokens (zitadel's
// CryptoKey). A key of exactly 32 bytes is used as is; a longer one goes through HKDF-SHA256,
// so every replica derives the same key.
func (k Keys) CryptoKey32() ([32]byte, error) {
	var out [32]byte
	b, err := k.CryptoKey.Key()
	if err != nil {
		return out, fmt.Errorf("keys.crypto_key: %w", err)
	}
	if len(b) != 32 {
		if b, err = hkdf.Key(sha256.New, b, nil, "sportello crypto_key", 32); err != nil {
			return out, fmt.Errorf("keys.crypto_key: %w", err)
		}
	}
	copy(out[:], b)
	return out, nil
}

// Resolver resolves secret references and relative file paths the way Load does. Provider
// packages get one in Provider.Resolver for their own sections.
type Resolver struct {
	// Dir is the directory relative paths start from (the configuration file's directory).
	Dir string
	// Dev allows literal secrets.
	Dev bool
	// Getenv reads environment variables (os.Getenv when nil).
	Getenv func(string) string
}

// maxSecretFile bounds what a file: reference may read, so a mistaken reference to a device
// or a huge file fails fast.
const maxSecretFile = 64 << 10

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Path makes a relative path relative to r.Dir; absolute and empty paths are kept.
func (r Resolver) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || r.Dir == "" {
		return p
	}
	return filepath.Join(r.Dir, p)
}

func (r Resolver) getenv(name string) string {
	if r.Getenv == nil {
		return os.Getenv(name)
	}
	return r.Getenv(name)
}

// Secret resolves s.Ref into s.Value. Errors are *FieldError at path and never contain the
// secret. An empty reference leaves the secret unset.
func (r Resolver) Secret(s *Secret, path string) error {
	fail := func(format string, args ...any) error {
		return &FieldError{Path: path, Msg: fmt.Sprintf(format, args...), Line: s.at.line, Column: s.at.column}
	}
	ref := s.Ref
	switch {
	case ref == "":
		return nil
	case strings.HasPrefix(ref, "file:"):
		name := strings.TrimPrefix(ref, "file:")
		if name == "" {
			return fail("file: reference without a path")
		}
		data, err := readSmallFile(r.Path(name), maxSecretFile)
		if err != nil {
			return fail("secret file: %v", err)
		}
		v := strings.TrimRight(string(data), "\r\n")
		if v == "" {
			return fail("secret file %s is empty", name)
		}
		s.Value = v
	case strings.HasPrefix(ref, "env:"):
		name := strings.TrimPrefix(ref, "env:")
		if !envName.MatchString(name) {
			return fail("env: reference needs a variable name such as env:SPORTELLO_CRYPTO_KEY")
		}
		v := r.getenv(name)
		if v == "" {
			return fail("environment variable %s is not set or empty", name)
		}
		s.Value = v
	default:
		if !r.Dev {
			return fail("literal secrets are allowed only in dev mode: use file:/path or env:NAME")
		}
		s.Value = ref
	}
	return nil
}

// readSmallFile reads a regular file of at most limit bytes.
func readSmallFile(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in the message
		}
		return nil, fmt.Errorf("cannot open %s: %w", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return data, nil
}
