package pin

import (
	"testing"
)

// BenchmarkVerifyPIN measures PIN verifications at the production Argon2id parameters
// (time 1, 64 MiB, 1 thread): one right-PIN login per iteration.
func BenchmarkVerifyPIN(b *testing.B) {
	e := newEnv(b, func(c *Config) { c.Argon2 = DefaultArgon2 })
	e.holder(b, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}

// BenchmarkLockedAttempt measures a refused attempt on a locked account: no Argon2id at all.
func BenchmarkLockedAttempt(b *testing.B) {
	e := newEnv(b, func(c *Config) { c.Argon2 = DefaultArgon2 })
	e.holder(b, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
	e.svc.Authenticate(ctx, cfAnna, "WRONG123")
	before := e.svc.Hashes()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4")
	}
	b.StopTimer()
	if e.svc.Hashes() != before {
		b.Fatal("a locked attempt ran Argon2id")
	}
}
