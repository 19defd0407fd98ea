package spid

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/inps/sportello/providers/saml/samlx"
)

// DefaultDevEntityID is the SP entityID of dev mode at its default address: the uri of the
// committed dev SP certificate (testdata/spid/sp-dev.crt).
const DefaultDevEntityID = "http://127.0.0.1:8080/spid/metadata"

// DevCertOptions are the options of a dev-mode SP certificate for entityID (the committed one
// is made with them by testdata/spid/gen).
func DevCertOptions(entityID string) CertOptions {
	return CertOptions{
		EntityID:     entityID,
		IPACode:      "inps",
		Organization: "Istituto Nazionale della Previdenza Sociale (dev)",
		Locality:     "Roma",
	}
}

// UseDevCertificate makes c (a DevConfig) sign with a certificate whose uri is entityID, as
// AgID's rules want. The committed dev certificate names DefaultDevEntityID; for any other
// entityID (dev mode on another address) a SPID-shaped certificate is generated under
// <dataDir>/spid, named after the entityID and kept across restarts, and c is pointed at it.
// It reports whether c now uses a certificate of the data directory.
func UseDevCertificate(c *Config, entityID, dataDir string, now func() time.Time) (bool, error) {
	if now == nil {
		now = time.Now
	}
	if kp, err := samlx.LoadKeyPair(c.KeyFile, c.CertFile); err == nil && certURI(kp) == entityID {
		return false, nil
	}
	sum := sha256.Sum256([]byte(entityID))
	dir := filepath.Join(dataDir, "spid")
	base := filepath.Join(dir, "sp-"+hex.EncodeToString(sum[:8]))
	keyFile, certFile := base+".key", base+".crt"
	// A pair kept from an earlier start is reused; a missing, damaged (a crash between the two
	// writes) or expired one is made again.
	if kp, err := samlx.LoadKeyPair(keyFile, certFile); err == nil && certURI(kp) == entityID &&
		now().Before(kp.Cert.NotAfter) && !now().Before(kp.Cert.NotBefore) {
		c.KeyFile, c.CertFile = keyFile, certFile
		return true, nil
	}
	o := DevCertOptions(entityID)
	o.Bits = 2048 // dev only: quicker to generate at every new address
	o.Validity = 10 * 365 * 24 * time.Hour
	o.Now = now
	key, cert, err := GenerateCertificate(o)
	if err != nil {
		return false, fmt.Errorf("dev SP certificate: %w", err)
	}
	keyPEM, err := samlx.EncodeKeyPEM(key)
	if err != nil {
		return false, fmt.Errorf("dev SP certificate: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("dev SP certificate: %w", err)
	}
	if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return false, fmt.Errorf("dev SP certificate: %w", err)
	}
	if err := writeFileAtomic(certFile, samlx.EncodeCertPEM(cert), 0o644); err != nil {
		return false, fmt.Errorf("dev SP certificate: %w", err)
	}
	c.KeyFile, c.CertFile = keyFile, certFile
	return true, nil
}

// certURI is the uri (2.5.4.83) of the certificate's subject, "" when absent.
func certURI(kp *samlx.KeyPair) string {
	for _, n := range kp.Cert.Subject.Names {
		if n.Type.Equal(oidURI) {
			if s, ok := n.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// writeFileAtomic writes data to name through a temporary file renamed into place, so a
// reader never sees a half-written file.
func writeFileAtomic(name string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-"+filepath.Base(name)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		_ = tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
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
	return os.Rename(tmp.Name(), name)
}
