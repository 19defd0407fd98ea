package dpop

import (
	"net"
	"net/url"
	"strconv"
	"strings"
)

// SameURI reports whether a proof's htu names the request URI uri, per RFC 9449 §4.3: query
// and fragment are ignored, and both sides are normalised (RFC 3986 §6.2.2: case of the
// scheme, the host and percent-encodings, unreserved characters decoded, dot segments
// removed; §6.2.3: the scheme's default port and a port's leading zeros dropped, an empty
// path is "/"). Only absolute http and https URIs without user information compare equal to
// anything.
func SameURI(htu, uri string) bool {
	a, ok := NormalizeURI(htu)
	if !ok {
		return false
	}
	b, ok := NormalizeURI(uri)
	return ok && a == b
}

// NormalizeURI returns the normalised form of an absolute http or https URI without query and
// fragment (see SameURI), and false for anything else.
func NormalizeURI(raw string) (string, bool) {
	if len(raw) > 8<<10 {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	var def string
	switch scheme {
	case "https":
		def = "443"
	case "http":
		def = "80"
	default:
		return "", false
	}
	host, port := u.Hostname(), u.Port()
	if host == "" || strings.ContainsAny(host, "%") {
		return "", false
	}
	host = strings.ToLower(host)
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return "", false
		}
		port = strconv.Itoa(p) // leading zeros dropped
	}
	if port == def {
		port = ""
	}
	hostport := host
	if strings.Contains(host, ":") { // IPv6 literal
		hostport = "[" + host + "]"
	}
	if port != "" {
		hostport = net.JoinHostPort(host, port)
	}
	p, ok := normalizeEscapes(u.EscapedPath())
	if !ok {
		return "", false
	}
	p = removeDotSegments(p)
	if p == "" {
		p = "/"
	}
	return scheme + "://" + hostport + p, true
}

// normalizeEscapes decodes percent-encoded unreserved characters and upper-cases the hex
// digits of the others (RFC 3986 §6.2.2.1, §6.2.2.2).
func normalizeEscapes(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", false
		}
		c := unhex(s[i+1])<<4 | unhex(s[i+2])
		if isUnreserved(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteString(strings.ToUpper(s[i+1 : i+3]))
		}
		i += 2
	}
	return b.String(), true
}

// removeDotSegments is RFC 3986 §5.2.4.
func removeDotSegments(in string) string {
	var out strings.Builder
	pop := func() {
		s := out.String()
		i := strings.LastIndexByte(s, '/')
		if i < 0 {
			i = 0
		}
		out.Reset()
		out.WriteString(s[:i])
	}
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			pop()
		case in == "/..":
			in = "/"
			pop()
		case in == "." || in == "..":
			in = ""
		default:
			start := 0
			if in[0] == '/' {
				start = 1
			}
			end := len(in)
			if j := strings.IndexByte(in[start:], '/'); j >= 0 {
				end = start + j
			}
			out.WriteString(in[:end])
			in = in[end:]
		}
	}
	return out.String()
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
