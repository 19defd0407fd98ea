package broker

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

type metrics struct {
	gatherer           prometheus.Gatherer
	requests           *prometheus.CounterVec
	tokens             *prometheus.CounterVec
	logins             *prometheus.CounterVec
	clientAuthFailures prometheus.Counter
	duration           *prometheus.HistogramVec
	backchannel        *prometheus.CounterVec
}

// levelLabel is the metric label of a SPID level URI: L1, L2, L3 or none.
func levelLabel(acr string) string {
	if l := loa.LevelOf(acr); l >= 1 && l <= 3 {
		return "L" + strconv.Itoa(l)
	}
	return "none"
}

func newMetrics(reg prometheus.Registerer, g prometheus.Gatherer) *metrics {
	if reg == nil {
		r := prometheus.NewRegistry()
		r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		reg, g = r, r
	}
	m := &metrics{
		gatherer: g,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_http_requests_total",
			Help: "HTTP requests by endpoint and status code."}, []string{"endpoint", "status"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_tokens_issued_total",
			Help: "Token responses issued, by grant type."}, []string{"grant"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_logins_total",
			Help: "Logins by method (spid, cie, cns, pin; unknown when a login failed before a credential was tried), level (asked when started; reached on success and on failure, none when nobody was verified) and outcome (started, success or the OAuth error)."},
			[]string{"method", "level", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sportello_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by endpoint.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"endpoint"}),
		clientAuthFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "sportello_client_auth_failures_total",
			Help: "Failed client authentications at the token-side endpoints."}),
		backchannel: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sportello_backchannel_logout_total",
			Help: "Back-channel logout tokens by outcome: enqueued, enqueue_failed (a store failure: the client is not told), delivered, retried (a failed attempt, tried again after a backoff), given_up (failed every attempt)."},
			[]string{"outcome"}),
	}
	reg.MustRegister(m.requests, m.tokens, m.logins, m.clientAuthFailures, m.duration, m.backchannel)
	return m
}

// The outcomes of the console's login counts (Options.CountLogin), a coarser view of the
// outcome label of sportello_logins_total.
const (
	LoginStarted     = "started"
	LoginOK          = "ok"
	LoginFailed      = "failed"      // refused: bad credential, level not reached, a rule
	LoginCancelled   = "cancelled"   // the person cancelled at the provider or the IdP
	LoginUnavailable = "unavailable" // the Store, the provider or the IdP could not answer
)

// LoginOutcome is the console's outcome of a finished login: ok when err is nil.
func LoginOutcome(err error, oauthError string) string {
	switch {
	case err == nil:
		return LoginOK
	case errors.Is(err, providers.ErrCancelled):
		return LoginCancelled
	case oauthError == string(errTemporarilyUnavailable().ErrorType): // RFC 6749 §4.1.2.1
		return LoginUnavailable
	}
	return LoginFailed
}

// count passes one login to Options.CountLogin: kind "provider" with the credential's
// method ("unknown" when the login failed before one was tried) and, when the login names
// one, kind "idp" with the identity provider (a SPID IdP's entityID, a federation OP).
func (b *Broker) count(method, idp, outcome string) {
	if b.countLogin == nil {
		return
	}
	b.countLogin("provider", method, outcome)
	if idp != "" {
		b.countLogin("idp", idp, outcome)
	}
}

// identityIdP is the identity provider a verified identity names ("" for none).
func identityIdP(id *providers.Identity) string {
	if id == nil {
		return ""
	}
	for _, s := range []string{id.SPIDIdP, id.SPIDOP, id.CIEOP} {
		if s != "" {
			return s
		}
	}
	return ""
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}
