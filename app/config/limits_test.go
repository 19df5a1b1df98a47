package config

import (
	"strings"
	"testing"
)

var limitEnv = []string{
	"SCIMFORGE_MAX_BODY_BYTES", "SCIMFORGE_MAX_VALUE_LENGTH", "SCIMFORGE_MAX_VALUES",
	"SCIMFORGE_MAX_FILTER_LENGTH", "SCIMFORGE_MAX_FILTER_DEPTH", "SCIMFORGE_MAX_RESULTS",
	"SCIMFORGE_BULK_MAX_OPERATIONS", "SCIMFORGE_BULK_MAX_PAYLOAD_BYTES", "SCIMFORGE_STRICT_ATTRIBUTES",
}

func TestLimitsDefaults(t *testing.T) {
	for _, k := range append(limitEnv, "SCIMFORGE_TOKEN") {
		t.Setenv(k, "")
	}
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Limits{MaxBodyBytes: 1 << 20, MaxValueLength: DefaultMaxValueLength, MaxValues: DefaultMaxValues,
		MaxFilterLength: DefaultMaxFilterLength, MaxFilterDepth: DefaultMaxFilterDepth, MaxResults: DefaultMaxResults}
	if c.Limits != want {
		t.Fatalf("defaults %+v, want %+v", c.Limits, want)
	}
}

func TestLimitsFromEnvAndFlags(t *testing.T) {
	for _, k := range append(limitEnv, "SCIMFORGE_TOKEN") {
		t.Setenv(k, "")
	}
	t.Setenv("SCIMFORGE_MAX_BODY_BYTES", "2MiB")
	t.Setenv("SCIMFORGE_MAX_VALUES", "50")
	t.Setenv("SCIMFORGE_STRICT_ATTRIBUTES", "true")
	t.Setenv("SCIMFORGE_BULK_MAX_PAYLOAD_BYTES", "8MiB")
	c, err := Load([]string{"-max-values", "60", "-max-results", "200", "-max-filter-depth", "10", "-max-value-length", "300", "-max-filter-length", "999", "-bulk-max-operations", "5"})
	if err != nil {
		t.Fatal(err)
	}
	want := Limits{MaxBodyBytes: 2 << 20, MaxValueLength: 300, MaxValues: 60, MaxFilterLength: 999, MaxFilterDepth: 10,
		MaxResults: 200, BulkMaxOperations: 5, BulkMaxPayloadBytes: 8 << 20, StrictAttributes: true}
	if c.Limits != want {
		t.Fatalf("got %+v, want %+v", c.Limits, want)
	}
}

// Every bad value fails at start, naming the setting.
func TestLimitsRefused(t *testing.T) {
	for _, k := range append(limitEnv, "SCIMFORGE_TOKEN") {
		t.Setenv(k, "")
	}
	for _, c := range []struct{ env, value string }{
		{"SCIMFORGE_MAX_BODY_BYTES", "lots"},
		{"SCIMFORGE_MAX_BODY_BYTES", "0"},
		{"SCIMFORGE_MAX_BODY_BYTES", "10"}, // below 1 KiB: nothing would fit
		{"SCIMFORGE_MAX_BODY_BYTES", "5GiB"},
		{"SCIMFORGE_MAX_VALUE_LENGTH", "0"},
		{"SCIMFORGE_MAX_VALUE_LENGTH", "-5"},
		{"SCIMFORGE_MAX_VALUE_LENGTH", "1e3"},
		{"SCIMFORGE_MAX_VALUES", "many"},
		{"SCIMFORGE_MAX_VALUES", "0"},
		{"SCIMFORGE_MAX_FILTER_LENGTH", "0"},
		{"SCIMFORGE_MAX_FILTER_LENGTH", "99999999"},
		{"SCIMFORGE_MAX_FILTER_DEPTH", "1001"},
		{"SCIMFORGE_MAX_FILTER_DEPTH", "x"},
		{"SCIMFORGE_MAX_RESULTS", "0"},
		{"SCIMFORGE_MAX_RESULTS", "2000000"},
		{"SCIMFORGE_BULK_MAX_OPERATIONS", "-1"},
		{"SCIMFORGE_BULK_MAX_PAYLOAD_BYTES", "1"},
		{"SCIMFORGE_STRICT_ATTRIBUTES", "yes please"},
	} {
		t.Run(c.env+"="+c.value, func(t *testing.T) {
			t.Setenv(c.env, c.value)
			_, err := Load(nil)
			if err == nil || !strings.Contains(err.Error(), c.env) || !strings.Contains(err.Error(), c.value) {
				t.Fatalf("error %v does not name %s and %q", err, c.env, c.value)
			}
		})
	}
	// A flag is checked the same way and named by its variable.
	if _, err := Load([]string{"-max-values", "none"}); err == nil || !strings.Contains(err.Error(), "SCIMFORGE_MAX_VALUES") {
		t.Fatalf("flag: %v", err)
	}
}
