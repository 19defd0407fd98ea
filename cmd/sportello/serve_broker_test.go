package main

import (
	"context"
	"net"
	"net/http/httptest"
	"testing"

	"github.com/inps/sportello/broker"
	"github.com/inps/sportello/broker/keys"
	"github.com/inps/sportello/config"
)

// serveBroker serves a broker with the dev configuration (changed by editCfg) and the options
// editOpts sets (its providers), on a real listener; it returns the broker and its base URL.
func serveBroker(t *testing.T, editCfg func(*config.Config), editOpts func(*broker.Options)) (*broker.Broker, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.DevConfig(ln.Addr().String(), "127.0.0.1:0", t.TempDir(), config.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if editCfg != nil {
		editCfg(cfg)
	}
	secret := func(s config.Secret) []byte {
		k, err := config.DecodeKey(s.Value)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	st := memStore(t)
	o := broker.Options{Config: cfg, Store: st, SubjectKey: secret(cfg.Subject.Key), CryptoKey: secret(cfg.Keys.CryptoKey),
		Keys: &keys.StoreSource{Store: st, CryptoKey: secret(cfg.Keys.CryptoKey), Bootstrap: &keys.FileSource{Dir: cfg.Keys.Dir, Generate: true}}}
	editOpts(&o)
	b, err := broker.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(b)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return b, "http://" + ln.Addr().String()
}
