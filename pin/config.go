package pin

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/loa"
)

// Config holds the PIN rules that INPS has changed over the years; every number is a setting.
type Config struct {
	// ActivationDays is how long an issued PIN may wait for activation (default 90).
	ActivationDays int `yaml:"activation_days"`
	// ExpiryMonths is the life of a PIN per category (defaults: citizen 6, intermediary 3,
	// official 3).
	ExpiryMonths CategoryInts `yaml:"expiry_months"`
	// LockStep is the lock after the first wrong PIN and what each further error adds
	// (default 3m).
	LockStep time.Duration `yaml:"lock_step"`
	// AttemptLease bounds how long one login attempt holds the per-account verification lease
	// (default 10s); concurrent attempts on one account are refused, not hashed.
	AttemptLease time.Duration `yaml:"attempt_lease"`
	// Argon2 are the Argon2id parameters for new hashes (defaults: time 1, 64 MiB, 1 thread,
	// 32 bytes).
	Argon2 Argon2Params `yaml:"argon2"`
	// PepperFile names a file holding a server-side secret mixed into every hash ("" = none).
	PepperFile string `yaml:"pepper_file"`
	// Pepper is the resolved pepper (from PepperFile, or set directly by code and tests).
	Pepper []byte `yaml:"-"`
	// Eligibility decides who may be issued a PIN and (with Login.RequireEligible) who may
	// still log in.
	Eligibility Eligibility `yaml:"eligibility"`
	// Login switches PIN login per category.
	Login LoginSwitch `yaml:"login"`
	// ACR maps the PIN type to the level of assurance (defaults: ordinario SpidL1,
	// dispositivo SpidL2).
	ACR ACRMap `yaml:"acr"`
	// ConfirmByPhone keeps online requests in state requested until an operator confirms
	// them by phone (default false: the PIN goes out at once).
	ConfirmByPhone bool `yaml:"confirm_by_phone"`
	// RecoveryTTL is the life of a lost-PIN recovery link (default 24h).
	RecoveryTTL time.Duration `yaml:"recovery_ttl"`
	// MaxUpload is the largest conversion document accepted, in bytes (default 1 MiB).
	MaxUpload int64 `yaml:"max_upload"`
	// PhoneChecksPerMinute caps the PIN telefonico checks of one Contact-Center operator
	// (default 30).
	PhoneChecksPerMinute int `yaml:"phone_checks_per_minute"`
	// PublicURL is the broker's base URL, used in the links sent to people.
	PublicURL string `yaml:"public_url"`
	// HashMemoryBudgetMiB bounds the memory of concurrent Argon2id computations (default
	// 512 MiB: 8 at once at 64 MiB each); attempts beyond it wait HashWait, then get a
	// "try again" answer.
	HashMemoryBudgetMiB int `yaml:"hash_memory_budget_mib"`
	// HashWait is how long an attempt waits for a hashing slot (default 2s).
	HashWait time.Duration `yaml:"hash_wait"`
	// PINHistory is how many of the holder's most recent PINs, the current one included, a
	// new PIN may not repeat (default 5; 1 refuses only the current PIN).
	PINHistory int `yaml:"pin_history"`
	// ChangeRetryWindow is how long a committed PIN change is recognised when the same
	// browser sends the same form again, because the answer never reached it (default 10m).
	ChangeRetryWindow time.Duration `yaml:"change_retry_window"`
	// NoticeInterval spaces the notices sent to a holder's registered contacts when someone
	// else asks for a PIN on their fiscal code or fails to activate it: at most one of each
	// kind per interval (default 1h).
	NoticeInterval time.Duration `yaml:"notice_interval"`
}

// CategoryInts holds one number per category.
type CategoryInts struct {
	Citizen      int `yaml:"citizen"`
	Intermediary int `yaml:"intermediary"`
	Official     int `yaml:"official"`
}

func (c CategoryInts) of(cat Category) int {
	switch cat {
	case Intermediary:
		return c.Intermediary
	case Official:
		return c.Official
	}
	return c.Citizen
}

// Argon2Params are Argon2id cost parameters.
type Argon2Params struct {
	Time      uint32 `yaml:"time" json:"t"`
	MemoryKiB uint32 `yaml:"memory_kib" json:"m"`
	Threads   uint8  `yaml:"threads" json:"p"`
	KeyLen    uint32 `yaml:"key_len" json:"l"`
}

// Eligibility policies.
const (
	// EligibleResidentsAbroad: only residents abroad without an Italian identity document
	// (in force since 1 October 2021).
	EligibleResidentsAbroad = "residents_abroad_without_italian_id"
	// EligibleAll: anyone.
	EligibleAll = "all"
	// EligibleNone: no new PINs.
	EligibleNone = "none"
)

// Eligibility is the issuance policy.
type Eligibility struct {
	// Policy is one of the Eligible* constants (default EligibleResidentsAbroad).
	Policy string `yaml:"policy"`
	// Exempt lists categories the policy does not restrict (default [official]: municipal
	// officials get a PIN under their municipality's convenzione).
	Exempt []Category `yaml:"exempt"`
}

// LoginSwitch turns PIN login on or off for a population without a code change.
type LoginSwitch struct {
	Citizen      *bool `yaml:"citizen"`
	Intermediary *bool `yaml:"intermediary"`
	Official     *bool `yaml:"official"`
	// RequireEligible refuses login to holders who would not be eligible today (how PINs of
	// residents in Italy stopped working on 30 September 2021). Default false.
	RequireEligible bool `yaml:"require_eligible"`
}

func (l LoginSwitch) enabled(cat Category) bool {
	var b *bool
	switch cat {
	case Citizen:
		b = l.Citizen
	case Intermediary:
		b = l.Intermediary
	case Official:
		b = l.Official
	}
	return b == nil || *b
}

// ACRMap maps PIN types to levels.
type ACRMap struct {
	Ordinario   string `yaml:"ordinario"`
	Dispositivo string `yaml:"dispositivo"`
}

// maxPINHistory bounds Config.PINHistory: every remembered PIN costs one Argon2id
// computation when a new PIN is chosen.
const maxPINHistory = 12

// DefaultArgon2 are the production Argon2id parameters.
var DefaultArgon2 = Argon2Params{Time: 1, MemoryKiB: 64 * 1024, Threads: 1, KeyLen: 32}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.ActivationDays == 0 {
		c.ActivationDays = 90
	}
	if c.ExpiryMonths.Citizen == 0 {
		c.ExpiryMonths.Citizen = 6
	}
	if c.ExpiryMonths.Intermediary == 0 {
		c.ExpiryMonths.Intermediary = 3
	}
	if c.ExpiryMonths.Official == 0 {
		c.ExpiryMonths.Official = 3
	}
	if c.LockStep == 0 {
		c.LockStep = 3 * time.Minute
	}
	if c.HashMemoryBudgetMiB == 0 {
		c.HashMemoryBudgetMiB = 512
	}
	if c.HashWait == 0 {
		c.HashWait = 2 * time.Second
	}
	if c.AttemptLease == 0 {
		c.AttemptLease = 10 * time.Second
	}
	if c.Argon2.Time == 0 {
		c.Argon2.Time = DefaultArgon2.Time
	}
	if c.Argon2.MemoryKiB == 0 {
		c.Argon2.MemoryKiB = DefaultArgon2.MemoryKiB
	}
	if c.Argon2.Threads == 0 {
		c.Argon2.Threads = DefaultArgon2.Threads
	}
	if c.Argon2.KeyLen == 0 {
		c.Argon2.KeyLen = DefaultArgon2.KeyLen
	}
	if c.Eligibility.Policy == "" {
		c.Eligibility.Policy = EligibleResidentsAbroad
	}
	if c.Eligibility.Exempt == nil {
		c.Eligibility.Exempt = []Category{Official}
	}
	if c.ACR.Ordinario == "" {
		c.ACR.Ordinario = loa.SpidL1
	}
	if c.ACR.Dispositivo == "" {
		c.ACR.Dispositivo = loa.SpidL2
	}
	if c.RecoveryTTL == 0 {
		c.RecoveryTTL = 24 * time.Hour
	}
	if c.PhoneChecksPerMinute == 0 {
		c.PhoneChecksPerMinute = 30
	}
	if c.MaxUpload == 0 {
		c.MaxUpload = 1 << 20
	}
	if c.PINHistory == 0 {
		c.PINHistory = 5
	}
	if c.ChangeRetryWindow == 0 {
		c.ChangeRetryWindow = 10 * time.Minute
	}
	if c.NoticeInterval == 0 {
		c.NoticeInterval = time.Hour
	}
	return c
}

// FieldError is a configuration error with its path (config.FieldError).
type FieldError = config.FieldError

// Validate lists every problem of c (after defaults), paths relative to the section; dev
// allows weak settings.
func (c Config) Validate(dev bool) []error {
	return c.validate("", dev)
}

func (c Config) validate(prefix string, dev bool) []error {
	var errs []error
	bad := func(path, format string, args ...any) {
		if prefix != "" {
			path = prefix + "." + path
		}
		errs = append(errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if c.ActivationDays < 1 {
		bad("activation_days", "must be at least 1")
	}
	for _, e := range []struct {
		name string
		v    int
	}{{"citizen", c.ExpiryMonths.Citizen}, {"intermediary", c.ExpiryMonths.Intermediary}, {"official", c.ExpiryMonths.Official}} {
		if e.v < 1 || e.v > 60 {
			bad("expiry_months."+e.name, "must be between 1 and 60")
		}
	}
	if c.LockStep < time.Second {
		bad("lock_step", "must be at least 1s")
	}
	if c.AttemptLease < time.Second {
		bad("attempt_lease", "must be at least 1s")
	}
	if c.Argon2.Threads < 1 {
		bad("argon2.threads", "must be at least 1")
	}
	if c.Argon2.MemoryKiB < 8*uint32(c.Argon2.Threads) {
		bad("argon2.memory_kib", "must be at least 8 KiB per thread")
	} else if !dev && c.Argon2.MemoryKiB < 19*1024 {
		bad("argon2.memory_kib", "below 19 MiB is allowed only in dev mode")
	}
	if c.Argon2.KeyLen < 16 {
		bad("argon2.key_len", "must be at least 16")
	}
	switch c.Eligibility.Policy {
	case EligibleResidentsAbroad, EligibleAll, EligibleNone:
	default:
		bad("eligibility.policy", "unknown policy %q (want %s, %s or %s)", c.Eligibility.Policy, EligibleResidentsAbroad, EligibleAll, EligibleNone)
	}
	for i, cat := range c.Eligibility.Exempt {
		if !cat.Valid() {
			bad(fmt.Sprintf("eligibility.exempt[%d]", i), "unknown category %q", cat)
		}
	}
	for path, acr := range map[string]string{"acr.ordinario": c.ACR.Ordinario, "acr.dispositivo": c.ACR.Dispositivo} {
		if loa.LevelOf(acr) == 0 {
			bad(path, "unknown level %q", acr)
		}
	}
	if c.RecoveryTTL < time.Minute {
		bad("recovery_ttl", "must be at least 1m")
	}
	if c.PhoneChecksPerMinute < 1 {
		bad("phone_checks_per_minute", "must be at least 1")
	}
	if c.MaxUpload < 1024 {
		bad("max_upload", "must be at least 1024 bytes")
	}
	if c.PINHistory < 1 || c.PINHistory > maxPINHistory {
		bad("pin_history", "must be between 1 and %d", maxPINHistory)
	}
	if c.ChangeRetryWindow < time.Minute || c.ChangeRetryWindow > time.Hour {
		bad("change_retry_window", "must be between 1m and 1h")
	}
	if c.NoticeInterval < time.Minute {
		bad("notice_interval", "must be at least 1m")
	}
	return errs
}

// DecodeConfig decodes the provider section node strictly (unknown keys refused; type and
// enabled are the broker's), applies the defaults, reads the pepper file and validates. Every
// error is a *FieldError carrying its path relative to the section.
func DecodeConfig(node *yaml.Node, dev bool) (*Config, []error) {
	return DecodeConfigAt(node, "", dev)
}

// DecodeConfigAt is DecodeConfig with error paths under path (for example "providers.pin").
// Relative file paths are read as written (from the working directory).
func DecodeConfigAt(node *yaml.Node, path string, dev bool) (*Config, []error) {
	return decodeConfig(node, path, dev, func(p string) string { return p })
}

// FromProvider decodes the section of provider id like DecodeConfigAt, with relative file
// paths (pepper_file) resolved against the configuration file's directory.
func FromProvider(id string, p *config.Provider, dev bool) (*Config, []error) {
	return decodeConfig(&p.Node, "providers."+id, dev, p.Resolver.Path)
}

func decodeConfig(node *yaml.Node, path string, dev bool, resolve func(string) string) (*Config, []error) {
	var c Config
	if errs := config.DecodeSection(node, path, &c); len(errs) > 0 {
		return nil, errs
	}
	if c.PepperFile != "" {
		c.PepperFile = resolve(c.PepperFile)
	}
	c = c.WithDefaults()
	errs := c.validate(path, dev)
	if c.PepperFile != "" {
		at := "pepper_file"
		if path != "" {
			at = path + "." + at
		}
		b, err := os.ReadFile(c.PepperFile)
		switch {
		case err != nil:
			errs = append(errs, &FieldError{Path: at, Msg: "cannot read the pepper file"})
		case len(bytes.TrimSpace(b)) < 16:
			errs = append(errs, &FieldError{Path: at, Msg: "pepper must hold at least 16 bytes"})
		default:
			c.Pepper = bytes.TrimSpace(b)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &c, nil
}
