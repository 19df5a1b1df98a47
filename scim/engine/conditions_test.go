package engine

import (
	"net/http"
	"testing"
)

func TestConditionsOf(t *testing.T) {
	h := http.Header{}
	h.Add("If-Match", `W/"1"`)
	h.Add("If-Match", `W/"7"`)
	h.Add("If-None-Match", `"3"`)
	h.Add("If-None-Match", `W/"4", W/"5"`)
	c := ConditionsOf(h)
	for _, v := range []int64{1, 7} {
		if !matchesETag(c.IfMatch, v) {
			t.Errorf("If-Match %q does not match version %d", c.IfMatch, v)
		}
	}
	for _, v := range []int64{3, 4, 5} {
		if !matchesETag(c.IfNoneMatch, v) {
			t.Errorf("If-None-Match %q does not match version %d", c.IfNoneMatch, v)
		}
	}
	if matchesETag(c.IfMatch, 2) {
		t.Errorf("If-Match %q matches version 2", c.IfMatch)
	}
}

// checkIfMatch is RFC 7232 §3.1/§3.2 for the write methods.
func TestCheckPreconditions(t *testing.T) {
	for _, c := range []struct {
		ifMatch, ifNoneMatch string
		fails                bool
	}{
		{"", "", false},
		{`W/"5"`, "", false},
		{`"5"`, "", false},
		{"*", "", false},
		{`W/"4"`, "", true},
		{`W/"4", W/"5"`, "", false},
		{"", "*", true},
		{"", `W/"5"`, true},
		{"", `W/"4"`, false},
		{`W/"5"`, `W/"5"`, true},
		{`W/"4"`, `W/"4"`, true},
	} {
		err := Conditions{IfMatch: c.ifMatch, IfNoneMatch: c.ifNoneMatch}.checkIfMatch(5)
		if (err != nil) != c.fails {
			t.Errorf("If-Match %q, If-None-Match %q at version 5: error %v, want failure %v", c.ifMatch, c.ifNoneMatch, err, c.fails)
		}
	}
}
