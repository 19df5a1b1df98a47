package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/scimforge/scimforge/scim/schema"
)

// spcDocument is the part of the ServiceProviderConfig (RFC 7643 §5) the
// document's info and security are derived from.
type spcDocument struct {
	DocumentationURI      string    `json:"documentationUri"`
	AuthenticationSchemes []spcAuth `json:"authenticationSchemes"`
}

// spcAuth is one of the ServiceProviderConfig's authenticationSchemes.
type spcAuth struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	SpecURI     string `json:"specUri"`
	Primary     bool   `json:"primary"`
}

func readSPC(set *schema.Set) (spcDocument, error) {
	var d spcDocument
	if len(set.ServiceProviderConfig) == 0 {
		return d, nil
	}
	if err := json.Unmarshal(set.ServiceProviderConfig, &d); err != nil {
		return d, fmt.Errorf("openapi: %s: %w", set.ServiceProviderFile, err)
	}
	return d, nil
}

// Names of the security schemes derived from RFC 7643 authentication
// scheme types.
const (
	schemeBearer = "bearerAuth"
	schemeBasic  = "basicAuth"
	schemeDigest = "digestAuth"
)

// security sets the security schemes and the top-level security
// requirement: any one of the schemes opens every operation.
//
// Without Options.SecuritySchemes, the schemes are those the
// ServiceProviderConfig announces in authenticationSchemes, the document
// the server serves at /ServiceProviderConfig, so that the two cannot
// disagree: oauthbearertoken is HTTP bearer, httpbasic HTTP basic,
// httpdigest HTTP digest. oauth and oauth2 need what RFC 7643 does not
// say (flows, token URL), so they must be described in Options. A
// document that lists no scheme gets bearer, which scimforge's server
// always accepts.
func (b *builder) security() error {
	schemes := openapi3.SecuritySchemes{}
	var order []string
	if len(b.opt.SecuritySchemes) > 0 {
		for name, s := range b.opt.SecuritySchemes {
			if s == nil || s.Value == nil {
				return fmt.Errorf("openapi: security scheme %q is empty", name)
			}
			if err := s.Value.Validate(context.Background()); err != nil {
				return fmt.Errorf("openapi: security scheme %q: %w", name, err)
			}
			c, err := cloneScheme(s.Value)
			if err != nil {
				return fmt.Errorf("openapi: security scheme %q: %w", name, err)
			}
			schemes[name] = &openapi3.SecuritySchemeRef{Value: c}
			order = append(order, name)
		}
		slices.Sort(order)
	} else {
		spc, err := readSPC(b.set)
		if err != nil {
			return err
		}
		auths := spc.AuthenticationSchemes
		// The primary scheme first; otherwise the document's order.
		slices.SortStableFunc(auths, func(x, y spcAuth) int {
			switch {
			case x.Primary && !y.Primary:
				return -1
			case y.Primary && !x.Primary:
				return 1
			}
			return 0
		})
		for i, a := range auths {
			var name string
			s := &openapi3.SecurityScheme{Type: "http"}
			switch strings.ToLower(a.Type) {
			case "oauthbearertoken":
				name, s.Scheme = schemeBearer, "bearer"
			case "httpbasic":
				name, s.Scheme = schemeBasic, "basic"
			case "httpdigest":
				name, s.Scheme = schemeDigest, "digest"
			default:
				return fmt.Errorf("openapi: %s: authenticationSchemes[%d] has type %q, which says too little for an OpenAPI security scheme (an OAuth flow needs its token URL); describe the schemes under openapi.securitySchemes in schemas/codegen.yaml (docs/openapi.md)", b.set.ServiceProviderFile, i, a.Type)
			}
			if _, dup := schemes[name]; dup {
				continue
			}
			s.Description = schemeDescription(a.Name, a.Description, a.SpecURI)
			schemes[name] = &openapi3.SecuritySchemeRef{Value: s}
			order = append(order, name)
		}
		if len(order) == 0 {
			schemes[schemeBearer] = &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{
				Type: "http", Scheme: "bearer",
				Description: "A bearer token (RFC 6750) in the Authorization header, as SCIM clients such as Microsoft Entra ID and Okta send it (RFC 7644 §2).",
			}}
			order = append(order, schemeBearer)
		}
	}
	b.doc.Components.SecuritySchemes = schemes
	for _, name := range order {
		b.doc.Security = append(b.doc.Security, openapi3.SecurityRequirement{name: []string{}})
	}
	b.schemes = order
	return nil
}

func schemeDescription(name, desc, spec string) string {
	var parts []string
	for _, p := range []string{clean(name), clean(desc)} {
		if p != "" && !slices.Contains(parts, p) {
			parts = append(parts, strings.TrimSuffix(p, "."))
		}
	}
	d := strings.Join(parts, ": ")
	if d != "" {
		d += "."
	}
	if spec != "" {
		d += " Specification: " + spec + "."
	}
	return strings.TrimSpace(d + " Announced in the ServiceProviderConfig's authenticationSchemes (RFC 7643 §5).")
}

// challenge is the WWW-Authenticate challenge a scheme answers a 401 with.
func (b *builder) challenges() string {
	var out []string
	for _, n := range b.schemes {
		s := b.doc.Components.SecuritySchemes[n].Value
		switch {
		case s.Type == "http":
			out = append(out, upperFirst(strings.ToLower(s.Scheme)))
		case s.Type == "oauth2", s.Type == "openIdConnect":
			out = append(out, "Bearer")
		}
	}
	return strings.Join(slices.Compact(out), ", ")
}

// defaultLicense is info.license when the Options have none: the API is
// the service provider's own ("Proprietary"), linked to its documentation
// when the ServiceProviderConfig names it.
func defaultLicense(set *schema.Set) *openapi3.License {
	l := &openapi3.License{Name: "Proprietary"}
	if spc, err := readSPC(set); err == nil && spc.DocumentationURI != "" {
		l.URL = spc.DocumentationURI
	}
	return l
}

func cloneContact(c *openapi3.Contact) *openapi3.Contact {
	if c == nil {
		return nil
	}
	return &openapi3.Contact{Name: c.Name, Email: c.Email, URL: c.URL}
}

func cloneLicense(l *openapi3.License) *openapi3.License {
	if l == nil {
		return nil
	}
	return &openapi3.License{Name: l.Name, URL: l.URL}
}

func cloneServers(in openapi3.Servers) openapi3.Servers {
	out := make(openapi3.Servers, 0, len(in))
	for _, s := range in {
		c := &openapi3.Server{URL: s.URL, Description: s.Description}
		if len(s.Variables) > 0 {
			c.Variables = map[string]*openapi3.ServerVariable{}
			for k, v := range s.Variables {
				c.Variables[k] = &openapi3.ServerVariable{Default: v.Default, Description: v.Description, Enum: slices.Clone(v.Enum)}
			}
		}
		out = append(out, c)
	}
	return out
}

// cloneScheme copies a security scheme, so that the two views share none.
func cloneScheme(s *openapi3.SecurityScheme) (*openapi3.SecurityScheme, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	c := new(openapi3.SecurityScheme)
	return c, json.Unmarshal(raw, c)
}
