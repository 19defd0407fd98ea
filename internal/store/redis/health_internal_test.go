package redis

import (
	"strings"
	"testing"
)

// INFO answers as servers and proxies in front of them shape them: CRLF or LF lines, section
// headers, values holding colons, junk. Only "field:value" lines count.
func TestInfoFieldsHostileInput(t *testing.T) {
	f := infoFields("# Replication\r\nrole:master\r\nconnected_slaves:1\r\nslave0:ip=::1,port=6380,state=online,offset=5,lag=0\r\n\r\n#junk:1\nnocolon\n:empty-key\naof_enabled:1\n")
	want := map[string]string{"role": "master", "connected_slaves": "1", "slave0": "ip=::1,port=6380,state=online,offset=5,lag=0", "aof_enabled": "1", "": "empty-key"}
	if len(f) != len(want) {
		t.Fatalf("fields %v, want %v", f, want)
	}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%q = %q, want %q", k, f[k], v)
		}
	}
}

// FuzzInfoFields: whatever a server answers, parsing never panics and every field comes from
// one line "field:value" of the answer.
func FuzzInfoFields(f *testing.F) {
	f.Add("# Persistence\r\naof_enabled:1\r\n")
	f.Add("role:slave\nmaster_host:127.0.0.1\nslave0:state=online\n")
	f.Add("\x00:\xff\r\n:::\r\n#:x")
	f.Fuzz(func(t *testing.T, info string) {
		for k, v := range infoFields(info) {
			if strings.ContainsAny(k, "\n") || strings.ContainsAny(v, "\n") || strings.HasPrefix(k, "#") {
				t.Fatalf("field %q = %q from %q", k, v, info)
			}
		}
	})
}
