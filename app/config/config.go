// Package config reads the server configuration from the environment
// (SCIMFORGE_*), with command-line flags that mirror each variable.
package config

import (
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/scimforge/scimforge/scim/web"
)

// Config is everything the server needs to start.
type Config struct {
	Listen      string // SCIMFORGE_LISTEN
	DatabaseURL string // SCIMFORGE_DATABASE_URL
	// Token is the static bearer token of the default tenant
	// (SCIMFORGE_TOKEN); optional when tokens are stored (scimforge token
	// create), ignored with path or host tenancy.
	Token string
	// BaseURL is the public SCIM base URL (SCIMFORGE_BASE_URL, optional);
	// with path or host tenancy it must contain {tenant}.
	BaseURL string
	// Tenancy is how a request names its tenant (SCIMFORGE_TENANCY).
	Tenancy web.Tenancy
	// RowCache is how many bytes of resources to keep in memory for GET
	// by id (SCIMFORGE_ROW_CACHE, e.g. 64MiB; 0 turns the cache off). Only
	// a SQLite store that holds its file's lock has one: with PostgreSQL
	// other instances write the same rows.
	RowCache int64
	// AllowedDomains restricts userName domains (SCIMFORGE_ALLOWED_DOMAINS,
	// comma-separated; empty allows all). Enforced by app/hooks.
	AllowedDomains []string
	// LogFormat is "text" or "json" (SCIMFORGE_LOG_FORMAT); LogLevel is
	// debug, info, warn or error (SCIMFORGE_LOG_LEVEL).
	LogFormat string
	LogLevel  slog.Level
	// TLSCertFile and TLSKeyFile serve HTTPS from a PEM certificate chain
	// and key (SCIMFORGE_TLS_CERT_FILE, SCIMFORGE_TLS_KEY_FILE; both or
	// neither), reloaded when they change.
	TLSCertFile, TLSKeyFile string
	// SQLiteShared lets other processes use the SQLite file while the
	// server runs (SCIMFORGE_SQLITE_SHARED; see sqlstore.Options.Shared).
	SQLiteShared bool

	// EventsRetention is how long the change feed keeps events
	// (SCIMFORGE_EVENTS_RETENTION, e.g. 7d or 168h; 0 keeps them all).
	EventsRetention time.Duration
	// EventsMaxAge is how long an event is kept at most while a durable
	// cursor (the webhook's) has not passed it (SCIMFORGE_EVENTS_MAX_AGE;
	// 0: until it has). Never below EventsRetention.
	EventsMaxAge time.Duration
	// WebhookURL receives the change feed as signed POSTs
	// (SCIMFORGE_WEBHOOK_URL; empty: no webhooks).
	WebhookURL string
	// WebhookSecret signs them (SCIMFORGE_WEBHOOK_SECRET, or the file
	// SCIMFORGE_WEBHOOK_SECRET_FILE names); required with WebhookURL.
	WebhookSecret string

	Ops // proxies, limits, timeouts, shutdown, metrics (ops.go)

	// Limits bound requests (limits.go, docs/limits.md).
	Limits Limits
	// Auth is how clients authenticate (app/config/auth.go).
	Auth Auth
}

// BasePath is where the SCIM API is mounted (under /t/{tenant} with path
// tenancy).
const BasePath = "/scim/v2"

// Defaults.
const (
	DefaultListen = "127.0.0.1:8080"
	DefaultDB     = "sqlite://scimforge.db"
	// DefaultRowCache keeps about 15,000 typical Entra users: enough for
	// the working set of a sync cycle, small enough that a server with a
	// million users stays well under 150 MiB resident.
	DefaultRowCache = "16MiB"
	// DefaultEventsRetention is a week: long enough for a consumer to be
	// down over a weekend.
	DefaultEventsRetention = "7d"
	// DefaultEventsMaxAge bounds what an unreachable webhook receiver (or
	// an abandoned cursor) holds back from retention.
	DefaultEventsMaxAge = "30d"
)

// parseDuration reads a duration in Go's syntax ("168h", "90m") or whole
// days ("7d"), or "0".
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("want a whole number of days such as 7d, or a duration such as 168h")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("want a duration such as 7d, 168h or 90m (0 keeps every event)")
	}
	return d, nil
}

// parseSize reads a memory size with its unit ("64MiB", "200MB", "1GiB")
// or "0". A bare number is refused: the setting counted resources before
// it counted bytes, and "50000" read as bytes would silently shrink the
// cache to nothing.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	if _, err := strconv.ParseUint(s, 10, 64); err == nil {
		return 0, fmt.Errorf("give a size with its unit, e.g. 64MiB (0 turns the cache off)")
	}
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return 0, fmt.Errorf("want a size such as 64MiB or 0: %v", err)
	}
	if n > 1<<40 {
		return 0, fmt.Errorf("more than 1 TiB")
	}
	return int64(n), nil
}

// Load reads the flags in args, the environment, then the configuration
// file (-config, SCIMFORGE_CONFIG_FILE), each winning over the next; an
// error about a value from the file names its line.
func Load(args []string) (*Config, error) {
	st := &fileState{}
	c, err := load(args, st)
	if err != nil {
		return nil, st.annotate(err)
	}
	return c, nil
}

func load(args []string, file *fileState) (*Config, error) {
	env := Env
	c := &Config{}
	var err error
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	configFile := fs.String("config", env("SCIMFORGE_CONFIG_FILE", ""), "file of NAME=value lines setting these variables, below flags and the environment (SCIMFORGE_CONFIG_FILE; see docs/configuration.md)")
	fs.StringVar(&c.Listen, "listen", env("SCIMFORGE_LISTEN", DefaultListen), "address to listen on (SCIMFORGE_LISTEN)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("SCIMFORGE_DATABASE_URL", DefaultDB), "sqlite://PATH (SCIMFORGE_DATABASE_URL)")
	// No -token flag: a secret on the command line is visible to every
	// user of the machine (ps, /proc/PID/cmdline). The environment or a file.
	fs.StringVar(&c.LogFormat, "log-format", env("SCIMFORGE_LOG_FORMAT", "text"), "log lines as text (key=value) or json (SCIMFORGE_LOG_FORMAT)")
	level := fs.String("log-level", env("SCIMFORGE_LOG_LEVEL", "info"), "debug, info, warn or error (SCIMFORGE_LOG_LEVEL)")
	fs.StringVar(&c.TLSCertFile, "tls-cert-file", env("SCIMFORGE_TLS_CERT_FILE", ""), "PEM certificate chain to serve HTTPS with (SCIMFORGE_TLS_CERT_FILE; with SCIMFORGE_TLS_KEY_FILE)")
	fs.StringVar(&c.TLSKeyFile, "tls-key-file", env("SCIMFORGE_TLS_KEY_FILE", ""), "PEM private key of the certificate (SCIMFORGE_TLS_KEY_FILE)")
	tokenFile := fs.String("token-file", env("SCIMFORGE_TOKEN_FILE", ""), "file holding the bearer token clients must send (SCIMFORGE_TOKEN_FILE; or SCIMFORGE_TOKEN)")
	fs.StringVar(&c.BaseURL, "base-url", env("SCIMFORGE_BASE_URL", ""), "public base URL for meta.location, e.g. https://scim.example.com/scim/v2 (SCIMFORGE_BASE_URL; default: from each request)")
	rowCache := fs.String("row-cache", env("SCIMFORGE_ROW_CACHE", DefaultRowCache), "memory for resources kept for GET by id, e.g. 64MiB; 0 disables (SCIMFORGE_ROW_CACHE; SQLite only)")
	domains := fs.String("allowed-domains", env("SCIMFORGE_ALLOWED_DOMAINS", ""), "comma-separated userName domains to accept (SCIMFORGE_ALLOWED_DOMAINS; default: all)")
	shared := fs.String("sqlite-shared", env("SCIMFORGE_SQLITE_SHARED", "false"), "true lets other processes read and write the SQLite file while the server runs; slower, no row cache (SCIMFORGE_SQLITE_SHARED)")
	retention := fs.String("events-retention", env("SCIMFORGE_EVENTS_RETENTION", DefaultEventsRetention), "how long the change feed keeps events, e.g. 7d or 168h; 0 keeps them all (SCIMFORGE_EVENTS_RETENTION)")
	maxAge := fs.String("events-max-age", env("SCIMFORGE_EVENTS_MAX_AGE", DefaultEventsMaxAge), "how long events a webhook or cursor has not received yet are kept at most (SCIMFORGE_EVENTS_MAX_AGE)")
	fs.StringVar(&c.WebhookURL, "webhook-url", env("SCIMFORGE_WEBHOOK_URL", ""), "deliver the change feed as signed POSTs to this URL (SCIMFORGE_WEBHOOK_URL)")
	secretFile := fs.String("webhook-secret-file", env("SCIMFORGE_WEBHOOK_SECRET_FILE", ""), "file holding the webhook signing secret (SCIMFORGE_WEBHOOK_SECRET_FILE; or SCIMFORGE_WEBHOOK_SECRET)")
	tenancy := fs.String("tenancy", env("SCIMFORGE_TENANCY", string(web.TenancyNone)), "how a request names its tenant: none, path (/t/{tenant}/scim/v2) or host (first label of the host name) (SCIMFORGE_TENANCY)")
	checkLimits := limitFlags(fs, c)
	checkOps := c.Ops.opsFlags(fs)
	checkAuthFlags := authFlags(fs, c)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := file.apply(fs, *configFile); err != nil {
		return nil, err
	}
	if err := checkOps(); err != nil {
		return nil, err
	}
	if err := checkLimits(); err != nil {
		return nil, err
	}
	if c.Tenancy, err = web.ParseTenancy(*tenancy); err != nil {
		return nil, err
	}
	for _, d := range strings.Split(*domains, ",") {
		if d = strings.TrimSpace(d); d != "" {
			c.AllowedDomains = append(c.AllowedDomains, strings.ToLower(d))
		}
	}
	if c.SQLiteShared, err = strconv.ParseBool(*shared); err != nil {
		return nil, fmt.Errorf("SCIMFORGE_SQLITE_SHARED %q: want true or false", *shared)
	}
	if c.RowCache, err = parseSize(*rowCache); err != nil {
		return nil, fmt.Errorf("SCIMFORGE_ROW_CACHE %q: %v", *rowCache, err)
	}
	if c.EventsRetention, err = parseDuration(*retention); err != nil {
		return nil, fmt.Errorf("SCIMFORGE_EVENTS_RETENTION %q: %v", *retention, err)
	}
	if c.EventsMaxAge, err = parseDuration(*maxAge); err != nil {
		return nil, fmt.Errorf("SCIMFORGE_EVENTS_MAX_AGE %q: %v", *maxAge, err)
	}
	if c.EventsMaxAge != 0 && c.EventsMaxAge < c.EventsRetention {
		c.EventsMaxAge = c.EventsRetention
	}
	if err := c.loadWebhook(*secretFile); err != nil {
		return nil, err
	}
	// A missing SCIMFORGE_TOKEN is checked at start (server.New), where the
	// stored tokens are known.
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return nil, fmt.Errorf("SCIMFORGE_LOG_FORMAT %q: want text or json", c.LogFormat)
	}
	if err := c.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return nil, fmt.Errorf("SCIMFORGE_LOG_LEVEL %q: want debug, info, warn or error", *level)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return nil, fmt.Errorf("set both SCIMFORGE_TLS_CERT_FILE and SCIMFORGE_TLS_KEY_FILE to serve HTTPS, or neither")
	}
	if c.Token, err = secret("SCIMFORGE_TOKEN", "SCIMFORGE_TOKEN_FILE", *tokenFile); err != nil {
		return nil, err
	}
	if c.Token != "" && len(c.Token) < 16 {
		return nil, fmt.Errorf("SCIMFORGE_TOKEN is %d characters; use at least 16 (e.g. openssl rand -hex 32)", len(c.Token))
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Tenancy != web.TenancyNone && c.BaseURL != "" && !strings.Contains(c.BaseURL, web.TenantPlaceholder) {
		return nil, fmt.Errorf("SCIMFORGE_BASE_URL %q: with SCIMFORGE_TENANCY=%s it must contain %s, e.g. %s", c.BaseURL, c.Tenancy, web.TenantPlaceholder, exampleBase[c.Tenancy])
	}
	if err := c.checkAddresses(); err != nil {
		return nil, err
	}
	if err := checkAuthFlags(); err != nil {
		return nil, err
	}
	return c, nil
}

// secret reads a secret from the environment variable name, or from the
// file path (named by fileName), not both; a trailing newline in the file
// is not part of it.
func secret(name, fileName, path string) (string, error) {
	v := Env(name, "")
	if path == "" {
		return v, nil
	}
	if v != "" {
		return "", fmt.Errorf("set %s or %s, not both", name, fileName)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %v", fileName, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// loadWebhook checks the webhook URL and reads its secret.
func (c *Config) loadWebhook(secretFile string) error {
	secret, err := secret("SCIMFORGE_WEBHOOK_SECRET", "SCIMFORGE_WEBHOOK_SECRET_FILE", secretFile)
	if err != nil {
		return err
	}
	if c.WebhookURL == "" {
		return nil
	}
	u, err := url.Parse(c.WebhookURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("SCIMFORGE_WEBHOOK_URL %q: want an absolute http:// or https:// URL", c.WebhookURL)
	}
	if secret == "" {
		return fmt.Errorf("SCIMFORGE_WEBHOOK_URL is set but no secret signs the webhooks: set SCIMFORGE_WEBHOOK_SECRET or SCIMFORGE_WEBHOOK_SECRET_FILE (e.g. openssl rand -hex 32)")
	}
	if len(secret) < 16 {
		return fmt.Errorf("SCIMFORGE_WEBHOOK_SECRET is %d characters; use at least 16 (e.g. openssl rand -hex 32)", len(secret))
	}
	c.WebhookSecret = secret
	return nil
}

var exampleBase = map[web.Tenancy]string{
	web.TenancyPath: "https://scim.example.com/t/{tenant}/scim/v2",
	web.TenancyHost: "https://{tenant}.scim.example.com/scim/v2",
}

// NoTokenError is the start-up error when nothing can authenticate.
const NoTokenError = "SCIMFORGE_TOKEN is not set and no token is stored: the server never runs without authentication (make run generates a token for you; or run: scimforge token create)"

// Env returns the environment variable k, or def when it is unset or empty.
func Env(k, def string) string {
	if v, ok := os.LookupEnv(k); ok && v != "" {
		return v
	}
	return def
}
