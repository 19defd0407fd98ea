package redis

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultPrefix is put before every key when Options.Prefix is empty.
const DefaultPrefix = "sportello:"

// DefaultWaitTimeout bounds WAIT when Options.WaitReplicas is set and WaitTimeout is not
// (WAIT with 0 would block forever).
const DefaultWaitTimeout = time.Second

// Options configures a Store. Name the server with exactly one of URL, Addrs or Client.
type Options struct {
	// URL is redis://[user:password@]host:port[/db], rediss:// for TLS or unix:///path.
	// A master_name query parameter makes host:port (and any addr= parameters) Sentinels;
	// addr= parameters without master_name make it a Cluster. Other go-redis query
	// parameters (dial_timeout, pool_size, ...) are accepted.
	URL string
	// Addrs lists host:port addresses: one server; Sentinels when MasterName is set; Cluster
	// nodes when there are several.
	Addrs []string
	// MasterName is the Sentinel master name.
	MasterName string
	// Username and Password authenticate to Redis (ACL user, or password only); when set
	// they override the URL's.
	Username, Password string
	// SentinelPassword authenticates to the Sentinels, if they require it.
	SentinelPassword string
	// DB selects a database (not with Cluster).
	DB int
	// TLS enables TLS with Addrs (a rediss:// URL enables it by itself).
	TLS *tls.Config
	// Client is an already built client, for callers that need options not listed here. The
	// Store does not close it.
	Client goredis.UniversalClient

	// Prefix goes before every key; empty means DefaultPrefix. It must not contain braces,
	// which would change the Cluster slot of hash-tagged keys.
	Prefix string

	// WaitReplicas, when positive, makes every write durable against a primary failure: the
	// Store follows it with WAIT WaitReplicas WaitTimeout on the same connection, and fails
	// with ErrNotDurable when fewer replicas acknowledged it in time (the primary did apply
	// it). serve sets it from store.redis.wait_replicas (on by default with Sentinel and
	// Cluster); 0 disables it.
	WaitReplicas int
	// WaitTimeout bounds WAIT; 0 means DefaultWaitTimeout.
	WaitTimeout time.Duration
}

// Connection defaults (a URL's max_retries and dial_timeout parameters override them): one
// retry and a 1 s dial, so that while Redis is down a request fails fast with 503
// temporarily_unavailable instead of waiting out go-redis' default retries and 5 s dials.
const (
	defaultMaxRetries  = 1
	defaultDialTimeout = time.Second
)

// client builds the go-redis client the options describe and reports whether the Store owns
// it.
func (o Options) client() (goredis.UniversalClient, bool, error) {
	set := 0
	for _, ok := range []bool{o.URL != "", len(o.Addrs) > 0, o.Client != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return nil, false, errors.New("store/redis: set exactly one of URL, Addrs and Client")
	}
	switch {
	case o.Client != nil:
		return o.Client, false, nil
	case o.URL != "":
		c, err := o.fromURL()
		return c, true, err
	default:
		return goredis.NewUniversalClient(&goredis.UniversalOptions{
			Addrs:            o.Addrs,
			MasterName:       o.MasterName,
			Username:         o.Username,
			Password:         o.Password,
			SentinelPassword: o.SentinelPassword,
			DB:               o.DB,
			TLSConfig:        o.TLS,
			MaxRetries:       defaultMaxRetries,
			DialTimeout:      defaultDialTimeout,
		}), true, nil
	}
}

func (o Options) fromURL() (goredis.UniversalClient, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		// url.Error repeats the URL, password included: say only that it does not parse.
		return nil, errors.New("store/redis: the Redis URL does not parse (details withheld: they may contain the password)")
	}
	q := u.Query()
	switch {
	case q.Has("master_name"):
		fo, err := goredis.ParseFailoverURL(o.URL)
		if err != nil {
			return nil, fmt.Errorf("store/redis: Sentinel URL %s: %w", u.Redacted(), err)
		}
		// The URL's user info authenticates to the Sentinels; the master takes Options'.
		fo.Username, fo.Password = o.Username, o.Password
		if !q.Has("max_retries") {
			fo.MaxRetries = defaultMaxRetries
		}
		if !q.Has("dial_timeout") {
			fo.DialTimeout = defaultDialTimeout
		}
		if o.SentinelPassword != "" {
			fo.SentinelPassword = o.SentinelPassword
		}
		return goredis.NewFailoverClient(fo), nil
	case q.Has("addr"):
		co, err := goredis.ParseClusterURL(o.URL)
		if err != nil {
			return nil, fmt.Errorf("store/redis: Cluster URL %s: %w", u.Redacted(), err)
		}
		co.Username, co.Password = override(co.Username, o.Username), override(co.Password, o.Password)
		if !q.Has("max_retries") {
			co.MaxRetries = defaultMaxRetries
		}
		if !q.Has("dial_timeout") {
			co.DialTimeout = defaultDialTimeout
		}
		return goredis.NewClusterClient(co), nil
	default:
		so, err := goredis.ParseURL(o.URL)
		if err != nil {
			return nil, fmt.Errorf("store/redis: URL %s: %w", u.Redacted(), err)
		}
		so.Username, so.Password = override(so.Username, o.Username), override(so.Password, o.Password)
		if !q.Has("max_retries") {
			so.MaxRetries = defaultMaxRetries
		}
		if !q.Has("dial_timeout") {
			so.DialTimeout = defaultDialTimeout
		}
		return goredis.NewClient(so), nil
	}
}

func override(fromURL, fromOptions string) string {
	if fromOptions != "" {
		return fromOptions
	}
	return fromURL
}

func (o Options) prefix() (string, error) {
	if o.Prefix == "" {
		return DefaultPrefix, nil
	}
	if strings.ContainsAny(o.Prefix, "{}") {
		return "", errors.New("store/redis: the key prefix must not contain braces")
	}
	return o.Prefix, nil
}

// secrets lists the strings no error may show.
func (o Options) secrets() []string {
	var s []string
	for _, v := range []string{o.Password, o.SentinelPassword} {
		if v != "" {
			s = append(s, v)
		}
	}
	if u, err := url.Parse(o.URL); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			s = append(s, p, url.QueryEscape(p), url.PathEscape(p))
		}
	}
	return s
}

// redacted hides secrets in an error's message while keeping it matchable with errors.Is.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

func redact(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &redacted{msg: msg, err: err}
}
