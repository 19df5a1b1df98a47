package scimerr

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// JSONError maps an error from decoding a JSON request body with
// encoding/json (and the lenient SCIM types' UnmarshalJSON) to the SCIM
// error the client sees. It returns nil when err is none of the decoding
// errors it knows; FromJSON never does.
//
// The HTTP edge (oapi-codegen's body binding) and the engine's JSON entry
// points (used by Bulk) both decode bodies, and share this mapping so the
// same bad body gets the same answer whichever way it arrives.
func JSONError(err error) *Error {
	if e := As(err); e != nil {
		return e
	}
	var mb *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mb):
		return New(http.StatusRequestEntityTooLarge, "", "request body is larger than %d bytes", mb.Limit)
	case errors.As(err, &se):
		return BadRequest(InvalidSyntax, "request body is not valid JSON (at byte %d): %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest(InvalidSyntax, "request body is not valid JSON: it ends before the JSON value is complete (truncated?)")
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return BadRequest(InvalidSyntax, "request body must be a JSON object")
		}
		what := "a JSON " + te.Value
		if strings.HasPrefix(te.Value, `"`) {
			what = te.Value // a value our lenient types rejected, e.g. "yes" for a boolean
		}
		return BadRequest(InvalidValue, "attribute %q: %s is not a valid %s", field, what, typeName(te))
	case errors.Is(err, io.EOF):
		return BadRequest(InvalidSyntax, "the request body is empty")
	}
	return nil
}

// FromJSON is JSONError for an error known to come from decoding a body:
// anything JSONError does not recognise (an UnmarshalJSON method's own
// error) is a 400 invalidSyntax.
func FromJSON(err error) *Error {
	if e := JSONError(err); e != nil {
		return e
	}
	return BadRequest(InvalidSyntax, "request body is not valid SCIM JSON: %v", innermost(err))
}

// innermost is the error at the bottom of a wrap chain: "can't decode JSON
// body: …" prefixes say nothing to a SCIM client.
func innermost(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

func typeName(te *json.UnmarshalTypeError) string {
	switch te.Type.Kind().String() {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int64", "int", "float64":
		return "number"
	case "slice":
		return "multi-valued attribute (JSON array)"
	case "struct", "ptr", "map":
		return "complex attribute (JSON object)"
	}
	return te.Type.String()
}
