package broker

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	gatherer           prometheus.Gatherer
	requests           *prometheus.CounterVec
	tokens             *prometheus.CounterVec
	logins             *prometheus.CounterVec
	clientAuthFailures prometheus.Counter
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
			Help: "Login outcomes by provider (or method) and outcome."}, []string{"provider", "outcome"}),
		clientAuthFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "sportello_client_auth_failures_total",
			Help: "Failed client authentications at the token-side endpoints."}),
	}
	reg.MustRegister(m.requests, m.tokens, m.logins, m.clientAuthFailures)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}
