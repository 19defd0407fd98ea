package broker

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/inps/sportello/internal/loa"
)

type metrics struct {
	gatherer           prometheus.Gatherer
	requests           *prometheus.CounterVec
	tokens             *prometheus.CounterVec
	logins             *prometheus.CounterVec
	clientAuthFailures prometheus.Counter
	duration           *prometheus.HistogramVec
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
	}
	reg.MustRegister(m.requests, m.tokens, m.logins, m.clientAuthFailures, m.duration)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}
