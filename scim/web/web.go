// Package web is the HTTP edge of the SCIM server: it writes engine
// responses, turns every error (decoding, parameters, routing, auth,
// panics) into a SCIM Error body with application/scim+json, and holds the
// middleware the server wraps around the generated handlers.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	stdpath "path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimforge/scimforge/scim/exchange"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// MaxBodyBytes bounds request bodies; a SCIM resource is a few KiB.
const MaxBodyBytes = 1 << 20

// WriteResponse sends an engine response (engine.Response is an alias of
// exchange.Response).
func WriteResponse(w http.ResponseWriter, r *exchange.Response) error {
	h := w.Header()
	h.Set("Content-Type", scimerr.ContentType)
	if r.Location != "" {
		// RFC 7644's examples send Location with every resource response
		// (GET §3.4.1, PUT §3.5.1), not only with 201.
		h.Set("Location", r.Location)
		h.Set("Content-Location", r.Location)
	}
	if r.ETag != "" {
		h.Set("ETag", r.ETag)
	}
	w.WriteHeader(r.Status)
	if len(r.Body) > 0 {
		_, err := w.Write(r.Body)
		return err
	}
	return nil
}

// RequestError handles errors oapi-codegen reports before a handler runs:
// undecodable bodies and malformed parameters.
func RequestError(w http.ResponseWriter, r *http.Request, err error) {
	e := classify(err)
	if e.Status == http.StatusBadRequest && e.ScimType == scimerr.InvalidValue {
		if p := paramError(r, err.Error()); p != nil {
			e = p
		}
	}
	scimerr.Write(w, e)
}

// paramError rewrites oapi-codegen's parameter errors, whose text carries
// Go internals ("strconv.ParseInt: parsing …"), into a sentence naming the
// parameter, what it must be, and what was sent; nil for other errors.
func paramError(r *http.Request, msg string) *scimerr.Error {
	if rest, ok := strings.CutPrefix(msg, "Invalid format for parameter "); ok {
		name, detail, _ := strings.Cut(rest, ":")
		if strings.Contains(detail, "multiple values") {
			return scimerr.BadRequest(scimerr.InvalidValue, "the %s parameter was sent more than once; send it once", name)
		}
		want := "a valid value"
		switch {
		case strings.Contains(detail, "ParseInt"), strings.Contains(detail, "Atoi"), strings.Contains(detail, "ParseUint"):
			want = "a whole number"
		case strings.Contains(detail, "ParseBool"):
			want = "true or false"
		case strings.Contains(detail, "ParseFloat"):
			want = "a number"
		}
		got := r.URL.Query().Get(name)
		if len(got) > 64 {
			got = got[:64] + "…"
		}
		return scimerr.BadRequest(scimerr.InvalidValue, "the %s parameter must be %s; got %q", name, want, got)
	}
	if rest, ok := strings.CutPrefix(msg, "Expected one value for "); ok {
		name, _, _ := strings.Cut(rest, ",")
		return scimerr.BadRequest(scimerr.InvalidValue, "the %s parameter was sent more than once; send it once", name)
	}
	if rest, ok := strings.CutPrefix(msg, "Query argument "); ok {
		name, _, _ := strings.Cut(rest, " ")
		return scimerr.BadRequest(scimerr.InvalidValue, "the %s parameter is required", name)
	}
	return nil
}

// classify maps what oapi-codegen reports: body decoding errors (wrapped
// in "can't decode JSON body: …") get the shared JSON mapping, the rest
// are malformed parameters.
func classify(err error) *scimerr.Error {
	if e := scimerr.JSONError(err); e != nil {
		return e
	}
	msg := err.Error()
	if strings.Contains(msg, "can't decode JSON body") {
		return scimerr.FromJSON(err)
	}
	return scimerr.BadRequest(scimerr.InvalidValue, "%s", msg)
}

// ResponseError handles errors returned by handlers.
func ResponseError(log *slog.Logger) func(w http.ResponseWriter, r *http.Request, err error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		if hw, ok := w.(interface{ HeaderWritten() bool }); ok && hw.HeaderWritten() {
			// The status and part of the body are already on their way (the
			// client went away, or the write timed out): nothing can be sent
			// any more, and the request did what its status says.
			log.Warn("response not completed", "method", r.Method, "path", r.URL.Path, "err", err)
			return
		}
		if e := scimerr.As(err); e != nil {
			scimerr.Write(w, e)
			return
		}
		if e := deadlineError(r, err); e != nil {
			log.Warn("request timed out", "method", r.Method, "path", r.URL.Path, "err", err)
			scimerr.Write(w, e)
			return
		}
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		scimerr.Write(w, scimerr.Internal())
	}
}

// NotFound answers unknown routes.
func NotFound(w http.ResponseWriter, r *http.Request) {
	scimerr.Write(w, scimerr.NotFound("no SCIM endpoint at %s", r.URL.Path))
}

// MethodNotAllowed answers a known route with a method it does not serve.
func MethodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		e := scimerr.New(http.StatusMethodNotAllowed, "", "%s is not supported on %s; allowed: %s", r.Method, r.URL.Path, allow)
		e.Header = http.Header{"Allow": {allow}}
		scimerr.Write(w, e)
	}
}

// BodyLimit gives the requests to one path a body limit other than
// MaxBodyBytes: the Bulk endpoint accepts the maxPayloadSize it advertises.
type BodyLimit struct {
	// Path is the full request path, e.g. /scim/v2/Bulk, matched the way
	// CanonicalPaths routes it: in any case, with or without a trailing slash.
	// An empty Path sets the limit of every other path (SCIMFORGE_MAX_BODY_BYTES).
	Path  string
	Bytes int64
}

// Edge applies what every request needs before routing: the base URL for
// meta.location, a body size limit (MaxBodyBytes unless limits names the
// path), a content-type check, and panic recovery. base is the configured
// public base URL ("" derives it from the request); with several tenants
// it contains "{tenant}", replaced by the request's tenant (see Tenants).
func Edge(base, path string, log *slog.Logger, next http.Handler, limits ...BodyLimit) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", p)
				scimerr.Write(w, scimerr.Internal())
			}
		}()
		if p := r.URL.Path; p != "/" && stdpath.Clean(p) != strings.TrimSuffix(p, "/") {
			// net/http's ServeMux would answer an HTML redirect to the
			// cleaned path; a SCIM client gets a SCIM error instead, and
			// no request is ever served under a path it did not name.
			scimerr.Write(w, scimerr.NotFound("no endpoint at %q: the path has an empty, \".\" or \"..\" segment", scimerr.Clip(p, 100)))
			return
		}
		b := baseURL(r, base, path)
		if r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch) {
			if ct := r.Header.Get("Content-Type"); ct != "" {
				mt, _, err := mime.ParseMediaType(ct)
				if err != nil || (mt != "application/scim+json" && mt != "application/json") {
					scimerr.Write(w, scimerr.New(http.StatusUnsupportedMediaType, "", "Content-Type %q is not supported; send Content-Type: application/scim+json (with curl: -H 'Content-Type: application/scim+json')", ct))
					return
				}
			}
			data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, bodyLimit(r.URL.Path, limits)))
			if err != nil {
				scimerr.Write(w, classify(err)) // 413 over the limit
				return
			}
			if at := invalidUTF8(data); at >= 0 {
				// encoding/json would store U+FFFD in place of each bad byte.
				scimerr.Write(w, scimerr.BadRequest(scimerr.InvalidSyntax, "the request body is not valid UTF-8 (byte %d); send JSON encoded as UTF-8", at))
				return
			}
			if at := trailingData(data); at >= 0 {
				// json.Decoder, as the handlers use it, would stop after the
				// first value and silently drop the rest.
				scimerr.Write(w, scimerr.BadRequest(scimerr.InvalidSyntax, "the request body continues after its JSON value (at byte %d); send exactly one JSON object", at))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(data))
		}
		if e := badQuery(r.URL.RawQuery); e != nil {
			scimerr.Write(w, e)
			return
		}
		ctx := exchange.WithBaseURL(r.Context(), b)
		if c := exchange.ConditionsOf(r.Header); c != (exchange.Conditions{}) {
			ctx = exchange.WithConditions(ctx, c)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// trailingData returns the offset of what follows the first JSON value of
// data other than white space, or -1 when nothing does or when data does
// not start with a valid value (the handler reports that, as it always has).
// The value is scanned into an empty struct: nothing is kept or copied, and
// a value of another shape (an array) is still consumed whole.
func trailingData(data []byte) int64 {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v struct{}
	if err := dec.Decode(&v); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return -1
		}
	}
	end := dec.InputOffset()
	rest := bytes.TrimLeft(data[end:], " \t\r\n")
	if len(rest) == 0 {
		return -1
	}
	return int64(len(data) - len(rest))
}

func bodyLimit(p string, limits []BodyLimit) int64 {
	p = strings.TrimSuffix(p, "/")
	def := int64(MaxBodyBytes)
	for _, l := range limits {
		if l.Path == "" {
			def = l.Bytes
		} else if strings.EqualFold(p, l.Path) {
			return l.Bytes
		}
	}
	return def
}

// invalidUTF8 returns the offset of the first byte of data that is not
// part of valid UTF-8, or -1.
func invalidUTF8(data []byte) int64 {
	if utf8.Valid(data) {
		return -1
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return int64(i)
		}
		i += size
	}
	return -1
}

// badQuery refuses a query string whose parameters, once decoded, are not
// valid UTF-8 (a filter "%FF" would otherwise reach the database as a
// replacement character or raw bytes). Only a query with an escape or a
// non-ASCII byte is decoded, so the common request pays one scan.
func badQuery(raw string) *scimerr.Error {
	plain := true
	for i := 0; i < len(raw); i++ {
		if raw[i] == '%' || raw[i] >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return nil
	}
	// A pair ParseQuery cannot read is left out, as net/http's Query does
	// for the handlers; it cannot carry text to the store.
	q, _ := url.ParseQuery(raw)
	for k, vs := range q {
		if !utf8.ValidString(k) {
			return scimerr.BadRequest(scimerr.InvalidValue, "a query parameter name is not valid UTF-8")
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				name := k
				if len(name) > 32 {
					name = name[:32] + "…"
				}
				return scimerr.BadRequest(scimerr.InvalidValue, "the %s parameter is not valid UTF-8; percent-encode UTF-8 text", name)
			}
		}
	}
	return nil
}

// statusRecorder remembers the status for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	bytes  int64
}

// WriteHeader passes on the first status only: the one the client got.
// A later call (a handler reporting an error after the response started)
// would be refused by net/http with "superfluous response.WriteHeader
// call" and must not be what the access log reports.
func (s *statusRecorder) WriteHeader(code int) {
	if s.wrote {
		return
	}
	s.status, s.wrote = code, true
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true // an implicit 200
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// HeaderWritten says whether the response has started (see ResponseError).
func (s *statusRecorder) HeaderWritten() bool { return s.wrote }

// Unwrap lets http.ResponseController reach the connection's writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// AccessLog logs one line per request. It logs the path, the tenant and the
// id of the token that authenticated it (never the token), but not the query
// string or bodies: filters and resources carry personal data. Each request
// has an id: the client's X-Request-Id when it is a plausible one (up to
// 128 letters, digits, '.', '_', '-'), else a new random one; it is sent
// back in X-Request-Id and logged as request_id, so a client's report can
// be found in the log. It logs the route template and operation when
// Routes ran, and the client address as ClientAddr finds it (Proxies).
// Each observer is called with the request's outcome (metrics).
func AccessLog(log *slog.Logger, next http.Handler, observers ...func(*http.Request, Outcome)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !plausibleID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		note := &logNote{}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), logNoteKey{}, note)))
		o := Outcome{Route: note.route, Method: r.Method, Status: rec.status, Duration: time.Since(start), Bytes: rec.bytes}
		o.Operation = Operation(r.Method, o.Route)
		attrs := []any{"request_id", id, "method", r.Method, "path", r.URL.Path, "route", o.Route, "op", o.Operation,
			"status", rec.status, "duration", o.Duration, "bytes", rec.bytes, "client", ClientAddr(r)}
		if note.tenant != "" {
			attrs = append(attrs, "tenant", note.tenant)
		}
		if note.tokenID != "" {
			attrs = append(attrs, "token_id", note.tokenID)
		}
		log.Info("request", attrs...)
		for _, f := range observers {
			f(r, o)
		}
	})
}

func plausibleID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// CanonicalPaths accepts endpoint names in any case and a trailing slash
// after a collection ("/scim/v2/users", "/scim/v2/Users/?filter=…"), as
// Microsoft's SCIM test collection sends them, by rewriting the path to the
// canonical endpoint before routing; "/.search" after an endpoint matches in
// any case too. endpoints are the names under basePath, e.g. "Users",
// "Groups", "Schemas". aliases maps further names (any case) to one of the
// endpoints: {"serviceConfiguration": "ServiceProviderConfig"} serves the
// document Microsoft's collection reads under that name, through the same
// route and 405 fallback.
func CanonicalPaths(basePath string, endpoints []string, aliases map[string]string, next http.Handler) http.Handler {
	canon := make(map[string]string, len(endpoints)+len(aliases))
	for _, e := range endpoints {
		canon[strings.ToLower(e)] = e
	}
	for a, e := range aliases {
		canon[strings.ToLower(a)] = e
	}
	prefix := basePath + "/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if ok {
			seg, tail, hasTail := strings.Cut(rest, "/")
			search := strings.EqualFold(tail, ".search") && tail != ".search"
			if search {
				tail = ".search"
			}
			if c, known := canon[strings.ToLower(seg)]; known && (c != seg || search || (hasTail && tail == "")) {
				p := prefix + c
				if hasTail && tail != "" {
					p += "/" + tail
				}
				u := *r.URL
				u.Path, u.RawPath = p, ""
				r2 := *r
				r2.URL = &u
				r = &r2
			}
		}
		next.ServeHTTP(w, r)
	})
}
