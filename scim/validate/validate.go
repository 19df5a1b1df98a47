// Package validate runs go-playground/validator over generated resource
// structs with the SCIM rules registered (dateTime, reference, canonical
// values), and reports failures as SCIM errors naming the attribute path a
// client sent ("emails[0].type", "urn:…:User:manager.value").
package validate

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/scimforge/scimforge/scim/scimerr"
)

// New returns a validator with the SCIM rules registered. Register* calls
// are not safe for concurrent use, so this runs once at package init of the
// generated code; applications may register more rules before serving.
func New() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	// A required string of only white space ("   ") is as absent as "":
	// stored, it would be a userName nobody can type or find.
	must(v.RegisterValidation("scim_notblank", func(fl validator.FieldLevel) bool {
		return strings.TrimSpace(fl.Field().String()) != ""
	}))
	must(v.RegisterValidation("scim_datetime", func(fl validator.FieldLevel) bool {
		_, err := time.Parse(time.RFC3339Nano, fl.Field().String())
		return err == nil
	}))
	must(v.RegisterValidation("scim_binary", func(fl validator.FieldLevel) bool {
		_, err := base64.StdEncoding.DecodeString(fl.Field().String())
		return err == nil
	}))
	must(v.RegisterValidation("scim_uri", func(fl validator.FieldLevel) bool {
		s := fl.Field().String()
		u, err := url.Parse(s)
		return err == nil && !strings.ContainsAny(s, " \t\r\n") && (u.Scheme != "" || u.Path != "")
	}))
	must(v.RegisterValidation("scim_canonical", func(fl validator.FieldLevel) bool {
		s := fl.Field().String()
		for _, c := range strings.Fields(fl.Param()) {
			if strings.EqualFold(c, s) {
				return true
			}
		}
		return false
	}))
	return v
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// Struct validates v and returns a 400 invalidValue *scimerr.Error naming
// the first failing attributes, or nil. extensions lists the extension
// URNs of the resource type, to turn "User.urn:…:2.0:User.employeeNumber"
// back into the SCIM path "urn:…:2.0:User:employeeNumber".
func Struct(v *validator.Validate, s any, extensions []string) error {
	err := v.Struct(s)
	if err == nil {
		return nil
	}
	var fes validator.ValidationErrors
	if !errors.As(err, &fes) {
		return scimerr.BadRequest(scimerr.InvalidValue, "%v", err)
	}
	var msgs []string
	for i, fe := range fes {
		if i == 5 {
			msgs = append(msgs, fmt.Sprintf("and %d more", len(fes)-5))
			break
		}
		msgs = append(msgs, message(path(fe.Namespace(), extensions), fe))
	}
	return scimerr.BadRequest(scimerr.InvalidValue, "%s", strings.Join(msgs, "; "))
}

// path turns a validator namespace into a SCIM attribute path.
func path(ns string, extensions []string) string {
	_, rest, ok := strings.Cut(ns, ".")
	if !ok {
		return ns
	}
	for _, urn := range extensions {
		if strings.HasPrefix(rest, urn+".") {
			return urn + ":" + strings.TrimPrefix(rest, urn+".")
		}
	}
	return rest
}

func message(p string, fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return p + " is required"
	case "scim_notblank":
		return p + " is required and may not be blank (only white space)"
	case "scim_datetime":
		return fmt.Sprintf("%s: %q is not an xsd:dateTime (RFC 3339, e.g. 2024-05-01T12:00:00Z)", p, fe.Value())
	case "scim_binary":
		return fmt.Sprintf("%s: not valid base64", p)
	case "scim_uri":
		return fmt.Sprintf("%s: %q is not a URI reference", p, fe.Value())
	case "scim_canonical":
		return fmt.Sprintf("%s: %q is not one of the canonical values %s", p, fe.Value(), strings.Join(strings.Fields(fe.Param()), ", "))
	case "max":
		return fmt.Sprintf("%s: longer than %s characters", p, fe.Param())
	}
	return fmt.Sprintf("%s: fails rule %q", p, fe.Tag())
}

// Normalize makes "no value" one shape before a resource is validated and
// stored (RFC 7643 §2.5 treats null, "" and [] alike): empty slices become
// nil, slice elements that are entirely empty are dropped, and pointers to
// structs whose fields are all empty become nil.
func Normalize(v any) {
	normalize(reflect.ValueOf(v))
}

func normalize(v reflect.Value) bool { // reports whether v is now empty
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return true
		}
		if v.Elem().Kind() == reflect.Struct {
			if normalize(v.Elem()) && v.CanSet() {
				v.Set(reflect.Zero(v.Type()))
				return true
			}
			return false
		}
		return false
	case reflect.Struct:
		empty := true
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() && !normalize(v.Field(i)) {
				empty = false
			}
		}
		return empty
	case reflect.Slice:
		if v.IsNil() {
			return true
		}
		kept := 0
		for i := 0; i < v.Len(); i++ {
			e := v.Index(i)
			if e.Kind() == reflect.Struct && normalize(e) {
				continue
			}
			if e.Kind() != reflect.Struct && e.IsZero() {
				continue
			}
			if kept != i {
				v.Index(kept).Set(e)
			}
			kept++
		}
		if kept == 0 {
			if v.CanSet() {
				v.Set(reflect.Zero(v.Type()))
			}
			return true
		}
		if v.CanSet() {
			v.SetLen(kept)
		}
		return false
	case reflect.String:
		return v.Len() == 0
	}
	return v.IsZero()
}
