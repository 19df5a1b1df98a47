package model

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"

	"github.com/scimforge/scimforge/scim/schema"
)

// OpenAPI is the "openapi" section of the sidecar: what the published
// openapi.yaml says about the API beyond the schemas (RFC 7643 documents
// have no place for a title, a contact or server URLs). Every field is
// optional; the generator fills in defaults (docs/openapi.md).
type OpenAPI struct {
	Title          string
	Version        string
	Description    string
	TermsOfService string
	Contact        *OpenAPIContact
	License        *OpenAPILicense
	Servers        []OpenAPIServer
	// SecuritySchemes, when set, replaces the security schemes derived
	// from the ServiceProviderConfig's authenticationSchemes: each value
	// is an OpenAPI 3.0 Security Scheme Object, for what RFC 7643's
	// document cannot say (an OAuth 2.0 token URL); each is checked with
	// kin-openapi (SecurityScheme).
	SecuritySchemes map[string]map[string]any
}

// OpenAPIContact is info.contact.
type OpenAPIContact struct {
	Name  string
	Email string
	URL   string
}

// OpenAPILicense is info.license. Identifier is an SPDX license id
// (OpenAPI 3.1); openapi.yaml is 3.0.3, so it is written as the SPDX URL.
type OpenAPILicense struct {
	Name       string
	URL        string
	Identifier string
}

// OpenAPIServer is one entry of servers.
type OpenAPIServer struct {
	URL         string
	Description string
	Variables   map[string]OpenAPIServerVariable
}

// OpenAPIServerVariable substitutes a {name} in a server URL.
type OpenAPIServerVariable struct {
	Default     string
	Enum        []string
	Description string
}

// spdxID is the form of an SPDX license identifier (or expression-free
// LicenseRef), e.g. MIT, Apache-2.0, LicenseRef-Acme.
var spdxID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+-]*$`)

// serverVar matches a {variable} in a server URL.
var serverVar = regexp.MustCompile(`\{([^{}]*)\}`)

// SPDXURL is the URL written for license.identifier.
func SPDXURL(id string) string { return "https://spdx.org/licenses/" + id + ".html" }

// openAPIKeys are the keys of the openapi section.
var openAPIKeys = []string{"title", "version", "description", "termsOfService", "contact", "license", "servers", "securitySchemes"}

// openAPI reads the openapi section at n, reporting every problem with its
// JSON Pointer (ptr is the section's), and returns it, or nil when it is
// not a mapping.
func (p *sidecarParser) openAPI(n *yaml.Node, ptr string) *OpenAPI {
	o := &OpenAPI{}
	if !p.mapping(n, ptr, openAPIKeys, func(key string, v *yaml.Node, kp string) {
		switch key {
		case "title":
			o.Title = p.text(v, kp)
		case "version":
			o.Version = p.text(v, kp)
		case "description":
			o.Description = p.text(v, kp)
		case "termsOfService":
			o.TermsOfService = p.text(v, kp)
		case "contact":
			o.Contact = &OpenAPIContact{}
			p.mapping(v, kp, []string{"name", "email", "url"}, func(key string, v *yaml.Node, kp string) {
				switch key {
				case "name":
					o.Contact.Name = p.text(v, kp)
				case "email":
					o.Contact.Email = p.text(v, kp)
				case "url":
					o.Contact.URL = p.text(v, kp)
				}
			})
		case "license":
			o.License = &OpenAPILicense{}
			p.mapping(v, kp, []string{"name", "url", "identifier"}, func(key string, v *yaml.Node, kp string) {
				switch key {
				case "name":
					o.License.Name = p.text(v, kp)
				case "url":
					o.License.URL = p.text(v, kp)
				case "identifier":
					o.License.Identifier = p.text(v, kp)
				}
			})
		case "servers":
			p.sequence(v, kp, func(i int, v *yaml.Node, sp string) {
				var s OpenAPIServer
				p.mapping(v, sp, []string{"url", "description", "variables"}, func(key string, v *yaml.Node, kp string) {
					switch key {
					case "url":
						s.URL = p.text(v, kp)
					case "description":
						s.Description = p.text(v, kp)
					case "variables":
						s.Variables = map[string]OpenAPIServerVariable{}
						p.mapping(v, kp, nil, func(name string, v *yaml.Node, vp string) {
							var sv OpenAPIServerVariable
							p.mapping(v, vp, []string{"default", "enum", "description"}, func(key string, v *yaml.Node, kp string) {
								switch key {
								case "default":
									sv.Default = p.text(v, kp)
								case "description":
									sv.Description = p.text(v, kp)
								case "enum":
									p.sequence(v, kp, func(_ int, v *yaml.Node, ep string) { sv.Enum = append(sv.Enum, p.text(v, ep)) })
								}
							})
							s.Variables[name] = sv
						})
					}
				})
				o.Servers = append(o.Servers, s)
			})
		case "securitySchemes":
			o.SecuritySchemes = map[string]map[string]any{}
			p.mapping(v, kp, nil, func(name string, v *yaml.Node, np string) {
				var raw map[string]any
				if err := deref(v).Decode(&raw); err != nil || raw == nil {
					p.fail(np, "give an OpenAPI Security Scheme Object, e.g. {type: http, scheme: bearer}", "must be a mapping, not %s", describe(deref(v)))
					return
				}
				o.SecuritySchemes[name] = raw
			})
		}
	}) {
		return nil
	}
	o.check(func(ptr2, fix, format string, args ...any) { p.fail(ptr+ptr2, fix, format, args...) })
	return o
}

// text is a scalar's text; a number or a date is taken as written
// (version: 1.0 is "1.0"). Empty and non-scalars are reported.
func (p *sidecarParser) text(n *yaml.Node, ptr string) string {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || strings.TrimSpace(n.Value) == "" {
		p.fail(ptr, "leave the key out for the default", "must be text, not %s", describe(n))
		return ""
	}
	return n.Value
}

// check reports every problem of the section's values through fail, with a
// JSON Pointer relative to the section ("/servers/0/url").
func (o *OpenAPI) check(fail func(ptr, fix, format string, args ...any)) {
	if o.TermsOfService != "" {
		if err := webURL(o.TermsOfService); err != nil {
			fail(schema.Pointer("termsOfService"), "", "%v", err)
		}
	}
	if c := o.Contact; c != nil {
		if c.Name == "" && c.Email == "" && c.URL == "" {
			fail(schema.Pointer("contact"), "give at least one of name, email and url, or remove contact", "is empty")
		}
		if c.Email != "" {
			if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
				fail(schema.Pointer("contact", "email"), "write the address bare: support@example.com", "%q is not an e-mail address", c.Email)
			}
		}
		if c.URL != "" {
			if err := webURL(c.URL); err != nil {
				fail(schema.Pointer("contact", "url"), "", "%v", err)
			}
		}
	}
	if l := o.License; l != nil {
		if l.Name == "" {
			fail(schema.Pointer("license", "name"), "e.g. name: Proprietary, or name: Apache 2.0", "is required")
		}
		switch {
		case l.URL != "" && l.Identifier != "":
			fail(schema.Pointer("license"), "keep one of them", "gives both url and identifier")
		case l.URL != "":
			if err := webURL(l.URL); err != nil {
				fail(schema.Pointer("license", "url"), "", "%v", err)
			}
		case l.Identifier != "":
			if !spdxID.MatchString(l.Identifier) {
				fail(schema.Pointer("license", "identifier"), "use an SPDX id such as MIT or Apache-2.0", "%q is not an SPDX license identifier", l.Identifier)
			}
		default:
			fail(schema.Pointer("license", "url"), "add url (where the license text is) or identifier (an SPDX id such as Apache-2.0)", "is required")
		}
	}
	seen := map[string]int{}
	for i, s := range o.Servers {
		at := schema.Pointer("servers", i)
		if j, ok := seen[s.URL]; ok && s.URL != "" {
			fail(at+schema.Pointer("url"), "remove one of them", "%q is servers[%d] too", s.URL, j)
		}
		seen[s.URL] = i
		if err := serverURL(s.URL); err != nil {
			fail(at+schema.Pointer("url"), "", "%v", err)
		}
		used := map[string]bool{}
		for _, m := range serverVar.FindAllStringSubmatch(s.URL, -1) {
			used[m[1]] = true
			if _, ok := s.Variables[m[1]]; !ok {
				fail(at+schema.Pointer("variables", m[1]), fmt.Sprintf("add variables: {%s: {default: ...}}", m[1]), "the url uses {%s}, which is not defined", m[1])
			}
		}
		for _, n := range slices.Sorted(maps.Keys(s.Variables)) {
			v := s.Variables[n]
			vp := at + schema.Pointer("variables", n)
			if !used[n] {
				fail(vp, "remove it, or use {"+n+"} in the url", "the url has no {%s}", n)
			}
			if v.Default == "" {
				fail(vp+schema.Pointer("default"), "the value a reader sees first", "is required")
			}
			if len(v.Enum) > 0 && !slices.Contains(v.Enum, v.Default) {
				fail(vp, "add the default to enum", "default %q is not one of enum %v", v.Default, v.Enum)
			}
		}
	}
	for _, n := range slices.Sorted(maps.Keys(o.SecuritySchemes)) {
		np := schema.Pointer("securitySchemes", n)
		if !componentName.MatchString(n) {
			fail(np, "rename it", "a scheme name may hold only letters, digits, '.', '-' and '_'")
			continue
		}
		if _, err := SecurityScheme(o.SecuritySchemes[n]); err != nil {
			fail(np, "see the Security Scheme Object of OpenAPI 3.0, e.g. {type: http, scheme: bearer}", "%v", err)
		}
	}
}

// SecurityScheme is one entry of securitySchemes as kin-openapi reads it,
// checked.
func SecurityScheme(raw map[string]any) (*openapi3.SecurityScheme, error) {
	if len(raw) == 0 {
		return nil, errors.New("is empty")
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	s := new(openapi3.SecurityScheme)
	if err := json.Unmarshal(b, s); err != nil {
		return nil, err
	}
	if err := s.Validate(context.Background()); err != nil {
		return nil, err
	}
	return s, nil
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
