package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// harness holds what every scenario shares.
type harness struct {
	target  string
	users   int
	codes   int
	timeout time.Duration
	api     *apiClient   // discovery, JWKS and the token-family endpoints
	web     *http.Client // set-up requests of the harness itself
	cieTLS  *tls.Config
	// cleanups run when the harness ends (servers a scenario started).
	cleanups []func()
	disc     struct {
		Authorize  string `json:"authorization_endpoint"`
		Token      string `json:"token_endpoint"`
		Introspect string `json:"introspection_endpoint"`
		JWKS       string `json:"jwks_uri"`
	}
}

// result is one scenario's figures.
type result struct {
	name, note string
	ops, errs  int
	elapsed    time.Duration
	lat        []time.Duration
	firstErr   error
	skipped    string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("sportello-load", flag.ContinueOnError)
	fl.SetOutput(stderr)
	target := fl.String("target", "http://127.0.0.1:8080", "broker issuer URL (loopback only)")
	users := fl.Int("users", 2*runtime.NumCPU(), "concurrent virtual users")
	duration := fl.Duration("duration", 5*time.Second, "timed phase of each scenario")
	requests := fl.Int("requests", 0, "stop a scenario after this many operations (0: duration only)")
	codes := fl.Int("codes", 500, "authorization codes obtained before the code_exchange phase")
	only := fl.String("scenarios", "", "comma-separated scenarios (default: all)")
	markdown := fl.Bool("markdown", false, "print the table as Markdown")
	testdata := fl.String("testdata", "", "the repository's testdata directory (default: found upwards)")
	timeout := fl.Duration("timeout", 20*time.Second, "timeout of one HTTP request")
	paced := fl.Float64("paced", 0, "after each API scenario, run it again at this fraction of the rate it reached (e.g. 0.8), paced open-loop")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *users < 1 || *users > 1024 || *duration <= 0 || *duration > 10*time.Minute || *codes < 1 || *codes > 100000 || *paced < 0 || *paced >= 1 {
		fmt.Fprintln(stderr, "sportello-load: --users 1..1024, --duration up to 10m, --codes 1..100000, --paced 0..0.99")
		return 2
	}
	if err := loopbackOnly(*target); err != nil {
		fmt.Fprintln(stderr, "sportello-load:", err)
		return 2
	}
	td, err := findTestdata(*testdata)
	if err != nil {
		fmt.Fprintln(stderr, "sportello-load:", err)
		return 2
	}
	pki := filepath.Join(td, "pki")
	files := tlsFiles{filepath.Join(pki, "server-ca.crt"), filepath.Join(pki, "mario-rossi-cie.crt"), filepath.Join(pki, "mario-rossi-cie.key")}
	cieTLS, err := files.tlsConfig(true)
	if err != nil {
		fmt.Fprintln(stderr, "sportello-load: dev PKI:", err)
		return 2
	}
	h := &harness{target: strings.TrimSuffix(*target, "/"), users: *users, codes: *codes, timeout: *timeout, cieTLS: cieTLS}
	h.api = newAPIClient(*users, *timeout)
	h.web = &http.Client{Timeout: *timeout, Transport: sharedTransport(nil),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	p, err := get(h.web, h.target+"/.well-known/openid-configuration")
	if err != nil || p.resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(p.body), &h.disc) != nil {
		fmt.Fprintf(stderr, "sportello-load: no discovery document at %s (is `sportello dev` running?): %v\n", h.target, err)
		return 1
	}
	for _, u := range []string{h.disc.Authorize, h.disc.Token, h.disc.Introspect, h.disc.JWKS} {
		if err := loopbackOnly(u); err != nil {
			fmt.Fprintln(stderr, "sportello-load: discovery:", err)
			return 1
		}
	}
	var selected []scenario
	for _, s := range scenarios {
		if *only == "" || slices.Contains(strings.Split(*only, ","), s.name) {
			selected = append(selected, s)
		}
	}
	if len(selected) == 0 {
		fmt.Fprintln(stderr, "sportello-load: no such scenario; known:", names())
		return 2
	}
	defer func() {
		for _, c := range h.cleanups {
			c()
		}
	}()
	var results []result
	for _, s := range selected {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(stderr, "%s: preparing…\n", s.name)
		r := h.runScenario(ctx, s, *duration, *requests, 0)
		results = append(results, r)
		if *paced > 0 && pacedScenarios[s.name] && r.firstErr == nil && r.ops > 0 && ctx.Err() == nil {
			rate := *paced * float64(r.ops) / r.elapsed.Seconds()
			fmt.Fprintf(stderr, "%s: again at %.0f/s (%.0f %% of %.0f/s)…\n", s.name, rate, *paced*100, float64(r.ops)/r.elapsed.Seconds())
			p := h.runScenario(ctx, s, *duration, *requests, rate)
			p.name = fmt.Sprintf("%s @%.0f%%", s.name, *paced*100)
			p.note = strings.TrimSpace(fmt.Sprintf("paced at %.0f/s; latency from the scheduled start %s", rate, p.note))
			results = append(results, p)
		}
	}
	fmt.Fprintf(stdout, "target %s, %d users, %s per scenario, GOMAXPROCS %d%s\n\n", h.target, h.users, *duration, runtime.GOMAXPROCS(0), loadAverage())
	printTable(stdout, results, *markdown)
	failed := false
	for _, r := range results {
		if r.firstErr != nil {
			failed = true
			fmt.Fprintf(stdout, "\n%s: %d errors, first: %v", r.name, r.errs, r.firstErr)
		}
	}
	if failed {
		fmt.Fprintln(stdout)
		return 1
	}
	return 0
}

func names() string {
	var n []string
	for _, s := range scenarios {
		n = append(n, s.name)
	}
	return strings.Join(n, ",")
}

// loopbackOnly refuses any target that is not this machine.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%q is not an http(s) URL", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil && a.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s is not a loopback address: the harness only loads this machine", host)
}

// pacedScenarios are re-run at a fraction of their peak with --paced: the API scenarios whose
// operations can repeat without a pool running dry.
var pacedScenarios = map[string]bool{"discovery": true, "jwks": true, "client_credentials": true, "introspection": true, "token_exchange": true}

// runScenario prepares s, then runs its users for d or until max operations. With rate > 0 the
// users start operations on a fixed schedule adding up to rate per second (open loop), and a
// latency runs from the scheduled start, so a stall is not hidden by the requests it delayed
// (no coordinated omission).
func (h *harness) runScenario(ctx context.Context, s scenario, d time.Duration, max int, rate float64) result {
	r := result{name: s.name}
	o, note, err := s.prepare(ctx, h)
	r.note = note
	if err != nil {
		r.firstErr = fmt.Errorf("preparing: %w", err)
		return r
	}
	if o == nil {
		r.skipped = note
		return r
	}
	tctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		count atomic.Int64
		mu    sync.Mutex
		wg    sync.WaitGroup
	)
	users := h.users
	if m := maxUsers[s.name]; m > 0 && m < users {
		users = m
		r.note += fmt.Sprintf(" (%d users)", users)
	}
	start := time.Now()
	for u := 0; u < users; u++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs := 0
			var first error
			var interval time.Duration
			next := start
			if rate > 0 {
				interval = time.Duration(float64(users) / rate * float64(time.Second))
				next = start.Add(interval * time.Duration(u) / time.Duration(users))
			}
			for tctx.Err() == nil && (max == 0 || count.Add(1) <= int64(max)) {
				t0 := time.Now()
				if rate > 0 {
					if wait := time.Until(next); wait > 0 {
						time.Sleep(wait) // at most one interval
						if tctx.Err() != nil {
							break
						}
					}
					t0 = next
					next = next.Add(interval)
				}
				err := o(tctx, u)
				if errors.Is(err, errDone) {
					break
				}
				if tctx.Err() != nil && err != nil {
					break // cut by the deadline: neither a result nor an error
				}
				lat = append(lat, time.Since(t0))
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
				}
			}
			mu.Lock()
			r.lat = append(r.lat, lat...)
			r.errs += errs
			if r.firstErr == nil {
				r.firstErr = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	r.ops = len(r.lat)
	slices.Sort(r.lat)
	return r
}

func pct(l []time.Duration, q float64) string {
	if len(l) == 0 {
		return "-"
	}
	i := int(q*float64(len(l))+0.999999) - 1
	i = max(0, min(i, len(l)-1))
	return fmt.Sprintf("%.2f", float64(l[i].Microseconds())/1000)
}

func printTable(w io.Writer, results []result, markdown bool) {
	header := []string{"scenario", "ops", "errors", "ops/s", "p50 ms", "p90 ms", "p99 ms", "notes"}
	rows := [][]string{header}
	for _, r := range results {
		if r.skipped != "" {
			rows = append(rows, []string{r.name, "-", "-", "-", "-", "-", "-", "not available: " + r.skipped})
			continue
		}
		rate := "-"
		if r.elapsed > 0 {
			rate = fmt.Sprintf("%.0f", float64(r.ops)/r.elapsed.Seconds())
		}
		rows = append(rows, []string{r.name, fmt.Sprint(r.ops), fmt.Sprint(r.errs), rate, pct(r.lat, .5), pct(r.lat, .9), pct(r.lat, .99), r.note})
	}
	if markdown {
		for i, row := range rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
			if i == 0 {
				fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|---|")
			}
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	tw.Flush()
}

// loadAverage reports the machine's load where /proc tells it: figures from a busy machine
// are not comparable with a quiet one's.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return ", load average " + strings.Join(f[:3], " ")
}
