package model

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// OpenAPI is the "openapi" section of the sidecar: what the published
// openapi.yaml says about the API beyond the schemas (RFC 7643 documents
// have no place for a title, a contact or server URLs). Every field is
// optional; the generator fills in defaults (docs/openapi.md).
type OpenAPI struct {
	Title          string          `yaml:"title"`
	Version        string          `yaml:"version"`
	Description    string          `yaml:"description"`
	TermsOfService string          `yaml:"termsOfService"`
	Contact        *OpenAPIContact `yaml:"contact"`
	License        *OpenAPILicense `yaml:"license"`
	Servers        []OpenAPIServer `yaml:"servers"`
	// SecuritySchemes, when set, replaces the security schemes derived
	// from the ServiceProviderConfig's authenticationSchemes: each value
	// is an OpenAPI 3.0 Security Scheme Object, for what RFC 7643's
	// document cannot say (an OAuth 2.0 token URL). The openapi package
	// checks them.
	SecuritySchemes map[string]map[string]any `yaml:"securitySchemes"`
}

// OpenAPIContact is info.contact.
type OpenAPIContact struct {
	Name  string `yaml:"name"`
	Email string `yaml:"email"`
	URL   string `yaml:"url"`
}

// OpenAPILicense is info.license. Identifier is an SPDX license id
// (OpenAPI 3.1); openapi.yaml is 3.0.3, so it is written as the SPDX URL.
type OpenAPILicense struct {
	Name       string `yaml:"name"`
	URL        string `yaml:"url"`
	Identifier string `yaml:"identifier"`
}

// OpenAPIServer is one entry of servers.
type OpenAPIServer struct {
	URL         string                           `yaml:"url"`
	Description string                           `yaml:"description"`
	Variables   map[string]OpenAPIServerVariable `yaml:"variables"`
}

// OpenAPIServerVariable substitutes a {name} in a server URL.
type OpenAPIServerVariable struct {
	Default     string   `yaml:"default"`
	Enum        []string `yaml:"enum"`
	Description string   `yaml:"description"`
}

// spdxID is the form of an SPDX license identifier (or expression-free
// LicenseRef), e.g. MIT, Apache-2.0, LicenseRef-Acme.
var spdxID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+-]*$`)

// serverVar matches a {variable} in a server URL.
var serverVar = regexp.MustCompile(`\{([^{}]*)\}`)

// SPDXURL is the URL written for license.identifier.
func SPDXURL(id string) string { return "https://spdx.org/licenses/" + id + ".html" }

// check reports every problem of the section through fail, each prefixed
// with its YAML path ("openapi.servers[0].url").
func (o *OpenAPI) check(fail func(format string, args ...any)) {
	if o == nil {
		return
	}
	for _, f := range []struct{ path, v string }{{"title", o.Title}, {"version", o.Version}} {
		if f.v != "" && strings.TrimSpace(f.v) == "" {
			fail("openapi.%s: is blank; leave it out for the default", f.path)
		}
	}
	if o.TermsOfService != "" {
		if err := webURL(o.TermsOfService); err != nil {
			fail("openapi.termsOfService: %v", err)
		}
	}
	if c := o.Contact; c != nil {
		if c.Name == "" && c.Email == "" && c.URL == "" {
			fail("openapi.contact: give at least one of name, email and url")
		}
		if c.Email != "" {
			if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
				fail("openapi.contact.email: %q is not an e-mail address (write it bare: support@example.com)", c.Email)
			}
		}
		if c.URL != "" {
			if err := webURL(c.URL); err != nil {
				fail("openapi.contact.url: %v", err)
			}
		}
	}
	if l := o.License; l != nil {
		if strings.TrimSpace(l.Name) == "" {
			fail("openapi.license.name: is required (e.g. Proprietary, or Apache 2.0)")
		}
		switch {
		case l.URL != "" && l.Identifier != "":
			fail("openapi.license: give url or identifier, not both")
		case l.URL != "":
			if err := webURL(l.URL); err != nil {
				fail("openapi.license.url: %v", err)
			}
		case l.Identifier != "":
			if !spdxID.MatchString(l.Identifier) {
				fail("openapi.license.identifier: %q is not an SPDX license identifier (e.g. MIT, Apache-2.0)", l.Identifier)
			}
		default:
			fail("openapi.license: give url (where the license text is) or identifier (an SPDX id such as Apache-2.0)")
		}
	}
	seen := map[string]int{}
	for i, s := range o.Servers {
		at := fmt.Sprintf("openapi.servers[%d]", i)
		if j, ok := seen[s.URL]; ok {
			fail("%s.url: %q is servers[%d] too", at, s.URL, j)
		}
		seen[s.URL] = i
		if err := serverURL(s.URL); err != nil {
			fail("%s.url: %v", at, err)
		}
		used := map[string]bool{}
		for _, m := range serverVar.FindAllStringSubmatch(s.URL, -1) {
			used[m[1]] = true
			if _, ok := s.Variables[m[1]]; !ok {
				fail("%s.variables: the url uses {%s}; define it (variables: {%s: {default: ...}})", at, m[1], m[1])
			}
		}
		names := make([]string, 0, len(s.Variables))
		for n := range s.Variables {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			v := s.Variables[n]
			if !used[n] {
				fail("%s.variables.%s: the url has no {%s}", at, n, n)
			}
			if v.Default == "" {
				fail("%s.variables.%s.default: is required (the value a reader sees first)", at, n)
			}
			if len(v.Enum) > 0 && !slices.Contains(v.Enum, v.Default) {
				fail("%s.variables.%s: default %q is not one of enum %v", at, n, v.Default, v.Enum)
			}
		}
	}
	names := make([]string, 0, len(o.SecuritySchemes))
	for n := range o.SecuritySchemes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !componentName.MatchString(n) {
			fail("openapi.securitySchemes.%s: a scheme name may hold only letters, digits, '.', '-' and '_'", n)
		}
		if len(o.SecuritySchemes[n]) == 0 {
			fail("openapi.securitySchemes.%s: is empty; give an OpenAPI Security Scheme Object (type: http, scheme: bearer)", n)
		}
	}
}

// componentName is what OpenAPI 3.0 allows as a components key.
var componentName = regexp.MustCompile(`^[a-zA-Z0-9.\-_]+$`)

// webURL accepts an absolute http or https URL.
func webURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

// serverURL accepts what a SCIM client can use as a base URL: an absolute
// http(s) URL or an absolute path, relative to where the document is
// served ("/scim/v2"), without a trailing slash (RFC 7644 §3.13 appends
// "/Users"), a query or a fragment. {variables} may stand for any part.
func serverURL(s string) error {
	if s == "" {
		return fmt.Errorf("is required (e.g. https://scim.example.com/scim/v2, or /scim/v2 relative to where openapi.yaml is served)")
	}
	plain := serverVar.ReplaceAllString(s, "x")
	if strings.ContainsAny(plain, "{} ") {
		return fmt.Errorf("%q has unbalanced braces or spaces", s)
	}
	u, err := url.Parse(plain)
	switch {
	case err != nil:
		return fmt.Errorf("%q: %v", s, err)
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(plain, "?") || strings.Contains(plain, "#"):
		return fmt.Errorf("%q: a base URL has no query or fragment", s)
	case strings.HasSuffix(s, "/"):
		return fmt.Errorf("%q ends with '/': endpoints are appended to it (%s/Users)", s, strings.TrimRight(s, "/"))
	case u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/"):
		return nil
	case (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
		return nil
	}
	return fmt.Errorf("%q is neither an absolute http(s) URL nor an absolute path such as /scim/v2", s)
}
