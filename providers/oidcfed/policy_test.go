package oidcfed

import (
	"errors"
	"reflect"
	"testing"
)

func TestMetadataPolicy(t *testing.T) {
	arr := func(v ...any) []any { return v }
	md := map[string]any{
		"grant_types":                   arr("authorization_code", "refresh_token", "implicit"),
		"token_endpoint_auth_method":    "private_key_jwt",
		"id_token_signing_alg_values":   arr("RS256", "ES256"),
		"response_types":                arr("code"),
		"contacts":                      arr("ops@example.it"),
		"userinfo_encryption_supported": true,
	}
	t.Run("operators apply in order", func(t *testing.T) {
		ta := Policy{EntityOP: {
			"grant_types":                 {"subset_of": arr("authorization_code", "refresh_token"), "superset_of": arr("authorization_code")},
			"token_endpoint_auth_method":  {"one_of": arr("private_key_jwt")},
			"contacts":                    {"add": arr("agid@example.it")},
			"client_registration_types":   {"default": arr("automatic")},
			"id_token_signing_alg_values": {"essential": true},
		}}
		mid := Policy{EntityOP: {"response_types": {"value": arr("code")}}}
		merged, err := MergePolicies(ta, mid)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ApplyPolicy(merged[EntityOP], md)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"grant_types":                 arr("authorization_code", "refresh_token"),
			"contacts":                    arr("ops@example.it", "agid@example.it"),
			"client_registration_types":   arr("automatic"),
			"response_types":              arr("code"),
			"token_endpoint_auth_method":  "private_key_jwt",
			"id_token_signing_alg_values": arr("RS256", "ES256"),
		}
		for k, v := range want {
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		if !reflect.DeepEqual(md["grant_types"], arr("authorization_code", "refresh_token", "implicit")) {
			t.Error("ApplyPolicy changed its input")
		}
	})
	violations := []struct {
		name   string
		policy []Policy
	}{
		{"value set twice with different values", []Policy{{EntityOP: {"response_types": {"value": arr("code")}}}, {EntityOP: {"response_types": {"value": arr("token")}}}}},
		{"one_of left empty by a subordinate", []Policy{{EntityOP: {"a": {"one_of": arr("x")}}}, {EntityOP: {"a": {"one_of": arr("y")}}}}},
		{"value outside one_of", []Policy{{EntityOP: {"a": {"one_of": arr("x"), "value": "y"}}}}},
		{"metadata outside one_of", []Policy{{EntityOP: {"token_endpoint_auth_method": {"one_of": arr("client_secret_basic")}}}}},
		{"superset_of not met", []Policy{{EntityOP: {"grant_types": {"superset_of": arr("client_credentials")}}}}},
		{"essential parameter missing", []Policy{{EntityOP: {"jwks": {"essential": true}}}}},
		{"unknown operator", []Policy{{EntityOP: {"a": {"regexp": "x"}}}}},
		{"operator of the wrong type", []Policy{{EntityOP: {"a": {"subset_of": "x"}}}}},
	}
	for _, v := range violations {
		t.Run(v.name, func(t *testing.T) {
			merged, err := MergePolicies(v.policy...)
			if err == nil {
				_, err = ApplyPolicy(merged[EntityOP], md)
			}
			if !errors.Is(err, ErrPolicy) {
				t.Fatalf("err = %v, want ErrPolicy", err)
			}
		})
	}
}
