package config

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"
)

// Limits bound what a request may send, store or ask for (docs/limits.md).
// A zero field means the default; Load always fills every field.
type Limits struct {
	// MaxBodyBytes bounds request bodies other than /Bulk's
	// (SCIMFORGE_MAX_BODY_BYTES, e.g. 1MiB); larger bodies get a 413.
	MaxBodyBytes int64
	// MaxValueLength is the most characters of one string value
	// (SCIMFORGE_MAX_VALUE_LENGTH).
	MaxValueLength int
	// MaxValues is the most values of one multi-valued attribute
	// (SCIMFORGE_MAX_VALUES). Group members are not values of the stored
	// document: they are bounded by the body size of each request only.
	MaxValues int
	// MaxFilterLength (bytes) and MaxFilterDepth (nesting of parentheses,
	// not and value paths) bound filters (SCIMFORGE_MAX_FILTER_LENGTH,
	// SCIMFORGE_MAX_FILTER_DEPTH).
	MaxFilterLength, MaxFilterDepth int
	// MaxResults is the most resources of one page (SCIMFORGE_MAX_RESULTS;
	// advertised as filter.maxResults and pagination.maxPageSize).
	MaxResults int
	// BulkMaxOperations and BulkMaxPayloadBytes override the bulk limits of
	// schemas/ServiceProviderConfig.json (SCIMFORGE_BULK_MAX_OPERATIONS,
	// SCIMFORGE_BULK_MAX_PAYLOAD_BYTES; 0: the document's).
	BulkMaxOperations   int
	BulkMaxPayloadBytes int64
	// StrictAttributes refuses POST and PUT bodies with attributes the
	// schemas do not define (SCIMFORGE_STRICT_ATTRIBUTES; default false:
	// ignored, as Entra ID and Okta send attributes an app may not have).
	StrictAttributes bool
}

// Default limits; docs/limits.md says why each is where it is.
const (
	DefaultMaxBodyBytes    = "1MiB"
	DefaultMaxValueLength  = 16384
	DefaultMaxValues       = 1000
	DefaultMaxFilterLength = 4096
	DefaultMaxFilterDepth  = 64
	DefaultMaxResults      = 1000
)

// limitFlags registers the limits' flags on fs (defaults from the
// environment) and returns the function that checks and stores them once
// fs is parsed.
func limitFlags(fs *flag.FlagSet, c *Config) func() error {
	body := fs.String("max-body-bytes", Env("SCIMFORGE_MAX_BODY_BYTES", DefaultMaxBodyBytes), "largest request body, e.g. 1MiB; /Bulk has its own (SCIMFORGE_MAX_BODY_BYTES)")
	valueLen := fs.String("max-value-length", Env("SCIMFORGE_MAX_VALUE_LENGTH", strconv.Itoa(DefaultMaxValueLength)), "most characters of one string value (SCIMFORGE_MAX_VALUE_LENGTH)")
	values := fs.String("max-values", Env("SCIMFORGE_MAX_VALUES", strconv.Itoa(DefaultMaxValues)), "most values of one multi-valued attribute; group members excepted (SCIMFORGE_MAX_VALUES)")
	filterLen := fs.String("max-filter-length", Env("SCIMFORGE_MAX_FILTER_LENGTH", strconv.Itoa(DefaultMaxFilterLength)), "longest filter, in bytes (SCIMFORGE_MAX_FILTER_LENGTH)")
	filterDepth := fs.String("max-filter-depth", Env("SCIMFORGE_MAX_FILTER_DEPTH", strconv.Itoa(DefaultMaxFilterDepth)), "deepest nesting of parentheses, not and value paths in a filter (SCIMFORGE_MAX_FILTER_DEPTH)")
	results := fs.String("max-results", Env("SCIMFORGE_MAX_RESULTS", strconv.Itoa(DefaultMaxResults)), "most resources of one page; a larger count is lowered to it (SCIMFORGE_MAX_RESULTS)")
	bulkOps := fs.String("bulk-max-operations", Env("SCIMFORGE_BULK_MAX_OPERATIONS", "0"), "most operations of one bulk request; 0: bulk.maxOperations of schemas/ServiceProviderConfig.json (SCIMFORGE_BULK_MAX_OPERATIONS)")
	bulkBytes := fs.String("bulk-max-payload-bytes", Env("SCIMFORGE_BULK_MAX_PAYLOAD_BYTES", "0"), "largest bulk request body, e.g. 4MiB; 0: bulk.maxPayloadSize of schemas/ServiceProviderConfig.json (SCIMFORGE_BULK_MAX_PAYLOAD_BYTES)")
	strict := fs.String("strict-attributes", Env("SCIMFORGE_STRICT_ATTRIBUTES", "false"), "true refuses POST and PUT bodies with attributes the schemas do not define (SCIMFORGE_STRICT_ATTRIBUTES)")
	return func() error {
		l := &c.Limits
		var err error
		if l.MaxBodyBytes, err = limitBytes("SCIMFORGE_MAX_BODY_BYTES", *body, 1<<10, 1<<30, false); err != nil {
			return err
		}
		if l.MaxValueLength, err = limitInt("SCIMFORGE_MAX_VALUE_LENGTH", *valueLen, 1, 1<<30, false); err != nil {
			return err
		}
		if l.MaxValues, err = limitInt("SCIMFORGE_MAX_VALUES", *values, 1, 1<<30, false); err != nil {
			return err
		}
		if l.MaxFilterLength, err = limitInt("SCIMFORGE_MAX_FILTER_LENGTH", *filterLen, 1, 1<<20, false); err != nil {
			return err
		}
		// Filters are parsed by recursive descent: a few thousand levels
		// cost nothing, a million would cost a deep stack per request.
		if l.MaxFilterDepth, err = limitInt("SCIMFORGE_MAX_FILTER_DEPTH", *filterDepth, 1, 1000, false); err != nil {
			return err
		}
		if l.MaxResults, err = limitInt("SCIMFORGE_MAX_RESULTS", *results, 1, 1_000_000, false); err != nil {
			return err
		}
		if l.BulkMaxOperations, err = limitInt("SCIMFORGE_BULK_MAX_OPERATIONS", *bulkOps, 1, 1_000_000, true); err != nil {
			return err
		}
		if l.BulkMaxPayloadBytes, err = limitBytes("SCIMFORGE_BULK_MAX_PAYLOAD_BYTES", *bulkBytes, 1<<10, 1<<30, true); err != nil {
			return err
		}
		if l.StrictAttributes, err = strconv.ParseBool(*strict); err != nil {
			return fmt.Errorf("SCIMFORGE_STRICT_ATTRIBUTES %q: want true or false", *strict)
		}
		return nil
	}
}

// limitInt reads a whole number in [lo, hi] (or 0 when zeroOK).
func limitInt(name, s string, lo, hi int, zeroOK bool) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err == nil && zeroOK && n == 0 {
		return 0, nil
	}
	if err != nil || n < lo || n > hi {
		zero := ""
		if zeroOK {
			zero = " (or 0 for the default)"
		}
		return 0, fmt.Errorf("%s %q: want a whole number from %d to %d%s", name, s, lo, hi, zero)
	}
	return n, nil
}

// limitBytes reads a size ("1MiB", "500KB", or a number of bytes) in
// [lo, hi] (or 0 when zeroOK).
func limitBytes(name, s string, lo, hi int64, zeroOK bool) (int64, error) {
	t := strings.TrimSpace(s)
	if zeroOK && t == "0" {
		return 0, nil
	}
	n, err := humanize.ParseBytes(t)
	if err != nil || int64(n) < lo || int64(n) > hi || n > 1<<62 {
		zero := ""
		if zeroOK {
			zero = " (or 0 for the default)"
		}
		return 0, fmt.Errorf("%s %q: want a size from %s to %s, e.g. 1MiB%s", name, s, humanize.IBytes(uint64(lo)), humanize.IBytes(uint64(hi)), zero)
	}
	return int64(n), nil
}
