package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

var (
	hiddenField = regexp.MustCompile(`<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"`)
	formAction  = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
)

// page is a fetched response with its body read.
type page struct {
	resp *http.Response
	body string
}

// tlsFiles are the dev PKI files the harness needs.
type tlsFiles struct {
	serverCA       string // signs the mTLS listener's certificate
	cieCert, cieKy string // Mario Rossi's CIE
}

func findTestdata(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	wd, _ := os.Getwd()
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "testdata", "pki", "server-ca.crt")); err == nil {
			return filepath.Join(d, "testdata"), nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("testdata/pki not found: pass --testdata")
		}
	}
}

// tlsConfig trusts the dev server CA and, with client, presents Mario Rossi's CIE.
func (f tlsFiles) tlsConfig(client bool) (*tls.Config, error) {
	ca, err := os.ReadFile(f.serverCA)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if client {
		cert, err := tls.LoadX509KeyPair(f.cieCert, f.cieKy)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// browserClient is a cookie-keeping client that stops at the relying party's callback (port
// 9000). A fresh transport means fresh connections, hence a new TLS handshake per login.
func browserClient(tlsCfg *tls.Config, timeout time.Duration, fresh bool) *http.Client {
	jar, _ := cookiejar.New(nil)
	var tr http.RoundTripper = sharedTransport(tlsCfg)
	if fresh {
		tr = &http.Transport{TLSClientConfig: tlsCfg, DialContext: (&net.Dialer{Timeout: timeout}).DialContext, DisableKeepAlives: true}
	}
	return &http.Client{Jar: jar, Timeout: timeout, Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Port() == "9000" {
				return http.ErrUseLastResponse
			}
			if loopbackOnly(req.URL.String()) != nil {
				return fmt.Errorf("redirect to %s refused: not loopback", req.URL.Host)
			}
			if len(via) > 10 {
				return errors.New("too many redirects")
			}
			return nil
		}}
}

func sharedTransport(tlsCfg *tls.Config) *http.Transport {
	return &http.Transport{TLSClientConfig: tlsCfg, MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 30 * time.Second}
}

func fetch(c *http.Client, req *http.Request) (*page, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	return &page{resp: resp, body: string(b)}, nil
}

func get(c *http.Client, u string) (*page, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return fetch(c, req)
}

// submit posts p's form with its hidden fields as found, plus values.
func submit(c *http.Client, p *page, values url.Values) (*page, error) {
	form := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(p.body, -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	for k, v := range values {
		form[k] = v
	}
	action := p.resp.Request.URL
	if m := formAction.FindStringSubmatch(p.body); m != nil {
		if u, err := action.Parse(html.UnescapeString(m[1])); err == nil {
			action = u
		}
	}
	req, err := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return fetch(c, req)
}

// callbackCode returns the code of a redirect to the relying party's callback.
func callbackCode(p *page) (string, error) {
	loc, _ := url.Parse(p.resp.Header.Get("Location"))
	if loc == nil || loc.Port() != "9000" || loc.Query().Get("code") == "" {
		return "", fmt.Errorf("no code at the callback: %d %s %s", p.resp.StatusCode, p.resp.Header.Get("Location"), pageMessage(p.body))
	}
	return loc.Query().Get("code"), nil
}

var tags = regexp.MustCompile(`(?s)<[^>]*>|\s+`)

// pageMessage is the text of a page's alert (the broker's error and "try again" messages), or
// its beginning.
func pageMessage(body string) string {
	if i := strings.Index(body, `class="alert`); i >= 0 {
		body = body[i:]
		if j := strings.Index(body, ">"); j >= 0 {
			body = body[j+1:]
		}
	}
	text := strings.TrimSpace(tags.ReplaceAllString(body, " "))
	if len(text) > 200 {
		text = text[:200]
	}
	return text
}
