package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/scim/scimerr"
	"github.com/scimforge/scimforge/scim/scimtype"
)

func decodeErr(body string, v any) error {
	return fmt.Errorf("can't decode JSON body: %w", json.Unmarshal([]byte(body), v))
}

func TestClassify(t *testing.T) {
	var u struct {
		UserName string            `json:"userName"`
		Active   *scimtype.Boolean `json:"active"`
	}
	cases := []struct {
		err    error
		status int
		typ    scimerr.Type
	}{
		{decodeErr(`{bad`, &u), 400, scimerr.InvalidSyntax},
		{decodeErr(`{"userName":5}`, &u), 400, scimerr.InvalidValue},
		{decodeErr(`{"active":"yes"}`, &u), 400, scimerr.InvalidValue},
		{decodeErr(`[]`, &u), 400, scimerr.InvalidSyntax},
		{fmt.Errorf("can't decode JSON body: %w", io.EOF), 400, scimerr.InvalidSyntax},
		{&http.MaxBytesError{Limit: 10}, 413, ""},
		{errors.New("Invalid format for parameter count: strconv.Atoi"), 400, scimerr.InvalidValue},
		{scimerr.Conflict("x"), 409, scimerr.Uniqueness},
	}
	for _, c := range cases {
		e := classify(c.err)
		if e.Status != c.status || e.ScimType != c.typ {
			t.Errorf("%v: got %d %q, want %d %q", c.err, e.Status, e.ScimType, c.status, c.typ)
		}
	}
}

// TestParamErrorsNameTheParameter: a malformed query parameter is answered
// in words, never with Go's parser messages.
func TestParamErrorsNameTheParameter(t *testing.T) {
	for _, c := range []struct{ target, err, want string }{
		{"/Users?startIndex=abc", `Invalid format for parameter startIndex: error binding string parameter: strconv.ParseInt: parsing "abc": invalid syntax`, `the startIndex parameter must be a whole number; got "abc"`},
		{"/Users?count=1&count=2", "Expected one value for count, got 2", "the count parameter was sent more than once; send it once"},
		{"/Users", "Query argument filter is required, but not found", "the filter parameter is required"},
	} {
		rec := httptest.NewRecorder()
		RequestError(rec, httptest.NewRequest("GET", c.target, nil), errors.New(c.err))
		var got struct{ Detail, ScimType string }
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 400 || got.Detail != c.want || got.ScimType != "invalidValue" {
			t.Errorf("%s: %d %s, want 400 invalidValue %q", c.target, rec.Code, rec.Body, c.want)
		}
	}
}

func TestBearerAuth(t *testing.T) {
	// The authenticator accepts one token of tenant acme.
	auth := AuthenticatorFunc(func(ctx context.Context, tn, tok string) (string, bool, error) {
		if tok == "boom" {
			return "", false, errors.New("database down")
		}
		return "id1", tn == "acme" && tok == "s3cret-token-value", nil
	})
	var gotID string
	h := Tenants(TenancyPath, BearerAuth(auth, slog.New(slog.DiscardHandler), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotID = TokenID(r.Context())
		w.WriteHeader(204)
	})))
	var unauthorized string
	for _, c := range []struct {
		path, header string
		want         int
	}{
		{"/t/acme/scim/v2/Users", "", 401},
		{"/t/acme/scim/v2/Users", "Bearer wrong", 401},
		{"/t/acme/scim/v2/Users", "Basic czNjcmV0", 401},
		{"/t/acme/scim/v2/Users", "non-token", 401},
		{"/t/other/scim/v2/Users", "Bearer s3cret-token-value", 401},
		{"/t/acme/scim/v2/Users", "Bearer boom", 500},
		{"/t/acme/scim/v2/Users", "Bearer s3cret-token-value", 204},
		{"/t/acme/scim/v2/Users", "bearer s3cret-token-value", 204},
	} {
		header, want := c.header, c.want
		r := httptest.NewRequest("GET", c.path, nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != want {
			t.Errorf("%s %q: status %d, want %d", c.path, header, rec.Code, want)
		}
		if want == 204 && gotID != "id1" {
			t.Errorf("%q: token id in context %q", header, gotID)
		}
		// A wrong token and another tenant's token get the same body.
		if want == 401 && strings.HasPrefix(header, "Bearer ") {
			if unauthorized == "" {
				unauthorized = rec.Body.String()
			} else if rec.Body.String() != unauthorized {
				t.Errorf("%s %q: 401 body %s differs from %s", c.path, header, rec.Body, unauthorized)
			}
		}
		if want == 401 && (rec.Header().Get("WWW-Authenticate") == "" || rec.Header().Get("Content-Type") != scimerr.ContentType) {
			t.Errorf("%q: 401 without WWW-Authenticate or SCIM content type: %v", header, rec.Header())
		}
	}
}

func TestCanonicalPaths(t *testing.T) {
	var got string
	h := CanonicalPaths("/scim/v2", []string{"Users", "Groups", "Schemas", "ServiceProviderConfig"},
		map[string]string{"serviceConfiguration": "ServiceProviderConfig"},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.URL.Path + "?" + r.URL.RawQuery }))
	for in, want := range map[string]string{
		"/scim/v2/users":                   "/scim/v2/Users?",
		"/scim/v2/USERS/abc":               "/scim/v2/Users/abc?",
		"/scim/v2/Users/?filter=x":         "/scim/v2/Users?filter=x",
		"/scim/v2/Users":                   "/scim/v2/Users?",
		"/scim/v2/serviceproviderconfig":   "/scim/v2/ServiceProviderConfig?",
		"/scim/v2/Nope":                    "/scim/v2/Nope?",
		"/scim/v2/serviceConfiguration":    "/scim/v2/ServiceProviderConfig?",
		"/scim/v2/SERVICECONFIGURATION/":   "/scim/v2/ServiceProviderConfig?",
		"/scim/v2/Schemas/urn:x:Y":         "/scim/v2/Schemas/urn:x:Y?",
		"/other/users":                     "/other/users?",
		"/scim/v2/groups/g1?attributes=id": "/scim/v2/Groups/g1?attributes=id",
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", in, nil))
		if got != want {
			t.Errorf("%s routed as %s, want %s", in, got, want)
		}
	}
}

// TestTrailingDataRefused: a body with anything after its JSON value is a
// 400 invalidSyntax before any handler runs; white space after it is fine.
func TestTrailingDataRefused(t *testing.T) {
	reached := 0
	h := Edge("", "/scim/v2", slog.New(slog.DiscardHandler), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	for _, c := range []struct {
		body   string
		status int
	}{
		{`{"userName":"a"}`, 200},
		{"{\"userName\":\"a\"}\n\t ", 200},
		{`{"userName":"a"}{"userName":"b"}`, 400},
		{`{"userName":"a"} x`, 400},
		{`{"userName":"a"}]`, 400},
		{`{"userName":`, 200}, // malformed: the handler's decoder reports it
		{`[1] [2]`, 400},
		{`[1,2]`, 200},
	} {
		before := reached
		req := httptest.NewRequest("POST", "/scim/v2/Users", strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/scim+json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.status {
			t.Errorf("%q: %d %s, want %d", c.body, rec.Code, rec.Body, c.status)
		}
		if c.status == 400 && (reached != before || !strings.Contains(rec.Body.String(), "invalidSyntax")) {
			t.Errorf("%q: reached the handler or wrong error: %s", c.body, rec.Body)
		}
		if c.status == 200 && rec.Body.String() != c.body {
			t.Errorf("%q: the handler read %q", c.body, rec.Body)
		}
	}
}

// TestErrorAfterResponseStarted: a handler that fails after its 201 went
// out (the client hung up mid-body) is logged as such; the access log keeps
// the 201 and nothing tries to send a second status.
func TestErrorAfterResponseStarted(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	onErr := ResponseError(log)
	h := AccessLog(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		onErr(w, r, errors.New("write tcp: broken pipe"))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/scim/v2/Users", nil))
	if rec.Code != http.StatusCreated || rec.Body.Len() != 0 {
		t.Fatalf("client got %d %q", rec.Code, rec.Body)
	}
	out := logs.String()
	if !strings.Contains(out, "status=201") || strings.Contains(out, "status=500") || !strings.Contains(out, "response not completed") {
		t.Fatalf("log:\n%s", out)
	}
}

// TestRequestID: a plausible client id is kept, anything else replaced;
// either way it is answered and logged with the status and bytes, and the
// query string is not logged.
func TestRequestID(t *testing.T) {
	var logs bytes.Buffer
	h := AccessLog(slog.New(slog.NewJSONHandler(&logs, nil)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello"))
	}))
	for _, c := range []struct{ sent, keep string }{{"abc-123_x.y", "abc-123_x.y"}, {"bad id\n", ""}, {"", ""}} {
		logs.Reset()
		req := httptest.NewRequest("GET", "/scim/v2/Users?filter=userName%20eq%20%22secret%22", nil)
		if c.sent != "" {
			req.Header.Set("X-Request-Id", c.sent)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		id := rec.Header().Get("X-Request-Id")
		if c.keep != "" && id != c.keep || c.keep == "" && (len(id) != 24 || id == c.sent) {
			t.Errorf("sent %q, answered %q", c.sent, id)
		}
		var line map[string]any
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		if line["request_id"] != id || line["bytes"] != float64(5) || line["status"] != float64(200) || strings.Contains(logs.String(), "secret") {
			t.Errorf("log line %s", logs.String())
		}
	}
}
