package config

import (
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// DevYAML is the configuration of "sportello dev" (dev.yaml): the demo clients that
// testdata/dev/README.md documents, the in-memory store, secrets and keys under the data directory.
//
//go:embed dev.yaml
var DevYAML []byte

// Names of the secrets DevConfig generates in the data directory.
const (
	DevCryptoKeyFile  = "crypto_key"
	DevSubjectKeyFile = "subject_key"
)

// DevConfig builds the dev-mode configuration from DevYAML. Relative paths start from
// dataDir: signing keys go to <dataDir>/keys, and the crypto and subject keys are 32 random
// bytes (hex, mode 0600) generated in dataDir on first start and reused afterwards, so a
// restart keeps sessions, tokens and subjects valid. SPORTELLO_* environment variables apply
// as usual; then httpAddr (also the issuer, http://<httpAddr>) and mtlsAddr win when not empty.
func DevConfig(httpAddr, mtlsAddr, dataDir string, opts Options) (*Config, error) {
	if dataDir == "" {
		return nil, errors.New("config: dev mode needs a data directory")
	}
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		return nil, fmt.Errorf("config: dev data directory: %w", err)
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	for _, name := range []string{DevCryptoKeyFile, DevSubjectKeyFile} {
		if err := ensureKeyFile(filepath.Join(dir, name), rnd); err != nil {
			return nil, fmt.Errorf("config: dev secret: %w", err)
		}
	}
	opts.Dir = dir
	return parse(DevYAML, opts, func(c *Config) {
		// Values given on the command line no longer come from a line of dev.yaml: their
		// errors name the flag.
		c.devTLS = true
		if c.envPaths == nil {
			c.envPaths = map[string]string{}
		}
		if httpAddr != "" {
			c.Listen.HTTP = httpAddr
			c.Issuer = "http://" + httpAddr
			c.envPaths["listen.http"], c.envPaths["issuer"] = "--http", "--http"
			for i := range c.Clients {
				if u, ok := strings.CutPrefix(c.Clients[i].BackchannelLogoutURI, devBackchannelBase); ok {
					c.Clients[i].BackchannelLogoutURI = "http://" + selfLoopback(httpAddr) + "/" + u
				}
			}
		}
		if mtlsAddr != "" {
			c.Listen.MTLS = mtlsAddr
			c.envPaths["listen.mtls"] = "--mtls"
		}
	})
}

// devBackchannelBase starts the dev receiver's URI in dev.yaml; DevConfig moves it to the
// --http port.
const devBackchannelBase = "http://127.0.0.1:8080/"

// selfLoopback is the --http address as the broker reaches itself over loopback: logout
// tokens go over http only to a loopback host, even in dev mode, so a listener on all
// interfaces (0.0.0.0:8080) or on another address is reached at 127.0.0.1 and its port.
func selfLoopback(httpAddr string) string {
	host, port, err := net.SplitHostPort(httpAddr)
	if err != nil || isLoopback(host) {
		return httpAddr
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// ensureKeyFile creates name with 32 random bytes in hex unless it exists. The file is
// written aside and linked into place, so a concurrent start or a crash never leaves a
// half-written key and an existing key is never overwritten.
func ensureKeyFile(name string, rnd io.Reader) error {
	if _, err := os.Stat(name); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(rnd, key); err != nil {
		return fmt.Errorf("random: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-"+filepath.Base(name)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), name); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}
