package samlx

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// MaxMessageSize bounds a decoded SAML message (responses with attributes are a few KiB).
const MaxMessageSize = 256 << 10

// DeflateBase64 DEFLATEs xml and encodes it in base64 (HTTP-Redirect binding).
func DeflateBase64(xml []byte) (string, error) {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return "", fmt.Errorf("deflate: %w", err)
	}
	if _, err := w.Write(xml); err != nil {
		return "", fmt.Errorf("deflate: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("deflate: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// InflateBase64 reverses DeflateBase64, refusing anything that inflates past MaxMessageSize.
func InflateBase64(s string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("base64: %w", err)
	}
	r := flate.NewReader(bytes.NewReader(raw))
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, MaxMessageSize+1))
	if err != nil {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	if len(out) > MaxMessageSize {
		return nil, errors.New("inflate: message too large")
	}
	return out, nil
}

// DecodePOST decodes a base64 HTTP-POST SAML message, bounded by MaxMessageSize.
func DecodePOST(s string) ([]byte, error) {
	if base64.StdEncoding.DecodedLen(len(s)) > MaxMessageSize {
		return nil, errors.New("message too large")
	}
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return nil, fmt.Errorf("base64: %w", err)
	}
	return b, nil
}

// RedirectURL builds the HTTP-Redirect URL for a SAML message: param is SAMLRequest or
// SAMLResponse; the query is signed in the order the binding prescribes
// (param, RelayState, SigAlg) with rsa-sha256.
func RedirectURL(dest, param string, xml []byte, relayState string, kp *KeyPair) (string, error) {
	enc, err := DeflateBase64(xml)
	if err != nil {
		return "", err
	}
	q := param + "=" + url.QueryEscape(enc)
	if relayState != "" {
		q += "&RelayState=" + url.QueryEscape(relayState)
	}
	q += "&SigAlg=" + url.QueryEscape(AlgRSASHA256)
	sig, err := SignBytes(kp, []byte(q))
	if err != nil {
		return "", err
	}
	q += "&Signature=" + url.QueryEscape(EncodeSignature(sig))
	sep := "?"
	if strings.Contains(dest, "?") {
		sep = "&"
	}
	return dest + sep + q, nil
}

// VerifyRedirectQuery checks the query signature of an HTTP-Redirect message against certs,
// rebuilding the signed string from the parameters exactly as they were encoded on the wire.
// It returns the inflated message and the RelayState.
func VerifyRedirectQuery(rawQuery, param string, certs []*x509.Certificate) (msg []byte, relayState string, err error) {
	raw := map[string]string{}
	for _, part := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		if _, dup := raw[k]; dup {
			return nil, "", fmt.Errorf("redirect: duplicate parameter %q", k)
		}
		raw[k] = v
	}
	msgRaw, ok := raw[param]
	if !ok {
		return nil, "", fmt.Errorf("redirect: no %s", param)
	}
	sigAlgRaw, ok1 := raw["SigAlg"]
	sigRaw, ok2 := raw["Signature"]
	if !ok1 || !ok2 {
		return nil, "", errors.New("redirect: unsigned message")
	}
	signed := param + "=" + msgRaw
	if rs, ok := raw["RelayState"]; ok {
		signed += "&RelayState=" + rs
		if relayState, err = url.QueryUnescape(rs); err != nil {
			return nil, "", fmt.Errorf("redirect: RelayState: %w", err)
		}
	}
	signed += "&SigAlg=" + sigAlgRaw
	sigAlg, err := url.QueryUnescape(sigAlgRaw)
	if err != nil {
		return nil, "", fmt.Errorf("redirect: SigAlg: %w", err)
	}
	sigB64, err := url.QueryUnescape(sigRaw)
	if err != nil {
		return nil, "", fmt.Errorf("redirect: Signature: %w", err)
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return nil, "", fmt.Errorf("redirect: Signature: %w", err)
	}
	if err := VerifyBytes(certs, sigAlg, []byte(signed), sig); err != nil {
		return nil, "", fmt.Errorf("redirect: %w", err)
	}
	enc, err := url.QueryUnescape(msgRaw)
	if err != nil {
		return nil, "", fmt.Errorf("redirect: %s: %w", param, err)
	}
	msg, err = InflateBase64(enc)
	if err != nil {
		return nil, "", err
	}
	return msg, relayState, nil
}

// autoSubmit is the one script of the POST form; the page's Content-Security-Policy allows it
// by its hash, and nothing else (no inline event handlers, which no hash can allow).
const autoSubmit = `document.forms[0].submit()`

var autoSubmitCSP = func() string {
	sum := sha256.Sum256([]byte(autoSubmit))
	return "default-src 'none'; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; form-action *; frame-ancestors 'none'; base-uri 'none'"
}()

var postForm = template.Must(template.New("post").Parse(`<!DOCTYPE html>
<html lang="it"><head><meta charset="utf-8"><title>SPID</title></head>
<body>
<form method="post" action="{{.Action}}">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<p>Se non vieni reindirizzato automaticamente, premi il pulsante. / If you are not redirected, press the button.</p>
<button type="submit">Continua / Continue</button>
</form>
<script>` + autoSubmit + `</script>
</body></html>
`))

// WritePOSTForm writes the auto-submitting form of the HTTP-POST binding. It works without
// JavaScript: the submit button is visible. Its Content-Security-Policy replaces any set
// before: it allows exactly the auto-submit script, by hash.
func WritePOSTForm(w http.ResponseWriter, action string, fields map[string]string) error {
	var buf bytes.Buffer
	if err := postForm.Execute(&buf, struct {
		Action template.URL
		Fields map[string]string
	}{template.URL(action), fields}); err != nil { //nolint:gosec // action is an endpoint from signed metadata or our own configuration
		return fmt.Errorf("post form: %w", err)
	}
	w.Header().Set("Content-Security-Policy", autoSubmitCSP)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	_, err := w.Write(buf.Bytes())
	return err
}
