package conformance

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/scimforge/scimforge/scim/schema"
)

// Samples are a resource type's sample values: for every simple attribute
// and sub-attribute, by its key (see Key), the JSON text of one value. The
// generator writes them into each generated conformance test (from
// BaseSamples), so the values a test sends are in the test file; the run
// derives the value of the k-th resource it creates from them (Vary), so
// that values are distinct per resource where the type allows it.
type Samples map[string]string

// Key names an attribute in Samples: its path inside the core schema
// ("userName", "name.givenName", "externalId"), or, for an extension
// attribute, the URN-qualified path
// ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value").
// It is also the attribute's path in filters, sortBy and PATCH.
func Key(rt *schema.ResourceType, a *schema.Attribute) string {
	top := a
	if a.Parent != nil {
		top = a.Parent
	}
	if top.Schema == nil || top.Schema == rt.Core {
		return a.Path()
	}
	return a.FullPath()
}

// BaseSamples is the deterministic sample of every simple attribute and
// sub-attribute of rt, the common externalId included. Values respect the
// attribute's type, canonicalValues and referenceTypes; strings mix cases,
// so that caseExact is observable.
func BaseSamples(rt *schema.ResourceType) Samples {
	s := Samples{}
	add := func(a *schema.Attribute) {
		if a.Type == schema.Complex {
			for _, sub := range a.SubAttributes {
				s[Key(rt, sub)] = base(sub)
			}
			return
		}
		s[Key(rt, a)] = base(a)
	}
	add(schema.Common("externalId"))
	for _, sc := range append([]*schema.Schema{rt.Core}, rt.Extensions...) {
		for _, a := range sc.Attributes {
			add(a)
		}
	}
	return s
}

// base is the JSON text of one sample value of a simple attribute.
func base(a *schema.Attribute) string {
	var v any
	switch a.Type {
	case schema.Boolean:
		v = true
	case schema.Integer:
		v = 3
	case schema.Decimal:
		v = 1.5
	case schema.DateTime:
		v = "2024-03-01T09:30:00Z"
	case schema.Binary:
		v = base64.StdEncoding.EncodeToString([]byte(a.Name))
	case schema.Reference:
		v = "https://example.com/" + strings.TrimPrefix(a.Name, "$")
		for _, t := range a.ReferenceTypes {
			if t == "uri" {
				v = "urn:example:conformance:" + strings.TrimPrefix(a.Name, "$")
			}
		}
	default:
		if len(a.CanonicalValues) > 0 {
			v = a.CanonicalValues[0]
		} else {
			v = strings.ToUpper(a.Name[:1]) + a.Name[1:]
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Vary returns the k-th variant (k ≥ 0) of a sample: distinct for distinct
// k wherever the type has that many values (canonical values cycle,
// booleans alternate), ordered by k for numbers, dates and plain strings,
// which start with k as three digits ("k007-DisplayName"). It reports an
// error when the sample does not fit the attribute's type.
func Vary(a *schema.Attribute, sample string, k int) (any, error) {
	var v any
	d := json.NewDecoder(strings.NewReader(sample))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("sample of %s: %w", a.Name, err)
	}
	bad := func() (any, error) {
		return nil, fmt.Errorf("sample %s does not fit %s of type %s", sample, a.Name, a.Type)
	}
	switch a.Type {
	case schema.Boolean:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		return b != (k%2 == 1), nil
	case schema.Integer:
		n, ok := v.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil {
			return bad()
		}
		return json.Number(strconv.FormatInt(i+int64(k), 10)), nil
	case schema.Decimal:
		n, ok := v.(json.Number)
		f, err := n.Float64()
		if !ok || err != nil {
			return bad()
		}
		return json.Number(strconv.FormatFloat(f+float64(k), 'f', -1, 64)), nil
	}
	s, ok := v.(string)
	if !ok {
		return bad()
	}
	switch {
	case a.Type == schema.DateTime:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return bad()
		}
		return t.Add(time.Duration(k) * (24*time.Hour + time.Minute)).UTC().Format(time.RFC3339), nil
	case a.Type == schema.Binary:
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return bad()
		}
		return base64.StdEncoding.EncodeToString(fmt.Appendf(raw, "-k%03d", k)), nil
	case a.Type == schema.Reference:
		return fmt.Sprintf("%s/k%03d", s, k), nil
	case len(a.CanonicalValues) > 0:
		return a.CanonicalValues[k%len(a.CanonicalValues)], nil
	}
	return fmt.Sprintf("k%03d-%s", k, s), nil
}

// swapCase turns upper case into lower case and back: a value that equals
// s when compared without case, and differs from it with.
func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		if u := strings.ToUpper(string(r)); u != string(r) {
			return []rune(u)[0]
		}
		return []rune(strings.ToLower(string(r)))[0]
	}, s)
}

// number is a JSON number as a float64 (NaN when it is none).
func number(v any) float64 {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		if err == nil {
			return f
		}
	case float64:
		return n
	case int:
		return float64(n)
	}
	return math.NaN()
}
