package model

import (
	"strings"
	"testing"
)

// TestOpenAPISection checks that each mistake in the sidecar's openapi
// section is reported with its JSON Pointer and a hint, and that good
// sections pass and are read whole.
func TestOpenAPISection(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		want       []string // substrings of the problems; none for a good section
	}{
		{"full", `
title: Acme SCIM
version: 2.1
description: Provisioning for Acme.
termsOfService: https://acme.example.org/terms
contact: {name: Identity team, email: identity@acme.example.org, url: https://acme.example.org/support}
license: {name: Apache 2.0, identifier: Apache-2.0}
servers:
  - {url: "https://scim.acme.example.org/t/{tenant}/scim/v2", description: Production, variables: {tenant: {default: acme, enum: [acme, beta]}}}
  - {url: /scim/v2}
securitySchemes:
  bearerAuth: {type: http, scheme: bearer}
`, nil},
		{"empty", ``, nil},
		{"unknown key", `titel: x`, []string{`codegen.yaml#/openapi/titel: unknown key "titel"`}},
		{"blank title", `title: ""`, []string{"#/openapi/title: must be text"}},
		{"not a mapping", `contact: [a]`, []string{"#/openapi/contact: must be a mapping"}},
		{"bad email", `contact: {email: "Support <s@example.org>"}`, []string{"#/openapi/contact/email", "write the address bare"}},
		{"empty contact", `contact: {}`, []string{"#/openapi/contact: is empty"}},
		{"relative contact url", `contact: {url: acme.example.org}`, []string{"#/openapi/contact/url", "absolute http(s) URL"}},
		{"license without name", `license: {url: "https://x.example.org/l"}`, []string{"#/openapi/license/name: is required"}},
		{"license without url", `license: {name: MIT}`, []string{"#/openapi/license/url: is required", "SPDX"}},
		{"license with both", `license: {name: MIT, url: "https://x.example.org/l", identifier: MIT}`, []string{"#/openapi/license: gives both"}},
		{"bad spdx", `license: {name: MIT, identifier: "MIT License"}`, []string{"#/openapi/license/identifier", "SPDX"}},
		{"bad terms", `termsOfService: ftp://x.example.org`, []string{"#/openapi/termsOfService"}},
		{"server without url", `servers: [{description: x}]`, []string{"#/openapi/servers/0/url: is required"}},
		{"server trailing slash", `servers: [{url: /scim/v2/}]`, []string{"#/openapi/servers/0/url", "ends with '/'"}},
		{"server relative", `servers: [{url: scim/v2}]`, []string{"#/openapi/servers/0/url", "neither an absolute"}},
		{"server query", `servers: [{url: "https://x.example.org/scim/v2?a=b"}]`, []string{"no query"}},
		{"duplicate server", `servers: [{url: /scim/v2}, {url: /scim/v2}]`, []string{"#/openapi/servers/1/url", "servers[0] too"}},
		{"undefined variable", `servers: [{url: "https://{tenant}.example.org/scim/v2"}]`, []string{"#/openapi/servers/0/variables/tenant", "not defined"}},
		{"unused variable", `servers: [{url: /scim/v2, variables: {x: {default: a}}}]`, []string{"#/openapi/servers/0/variables/x: the url has no {x}"}},
		{"variable without default", `servers: [{url: "/t/{t}/scim/v2", variables: {t: {enum: [a]}}}]`, []string{"#/openapi/servers/0/variables/t/default: is required"}},
		{"default not in enum", `servers: [{url: "/t/{t}/scim/v2", variables: {t: {default: a, enum: [b]}}}]`, []string{"not one of enum"}},
		{"bad scheme name", `securitySchemes: {"bearer auth": {type: http, scheme: bearer}}`, []string{"#/openapi/securitySchemes/bearer auth"}},
		{"empty scheme", `securitySchemes: {bearerAuth: {}}`, []string{"#/openapi/securitySchemes/bearerAuth: is empty"}},
		{"invalid scheme", `securitySchemes: {bearerAuth: {type: http}}`, []string{"#/openapi/securitySchemes/bearerAuth"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := "openapi:\n"
			for _, l := range strings.Split(strings.TrimPrefix(c.yaml, "\n"), "\n") {
				body += "  " + l + "\n"
			}
			side, ps := parseSidecar("schemas/codegen.yaml", []byte(body))
			all := ps.Error()
			if len(c.want) == 0 {
				if len(ps) > 0 {
					t.Errorf("problems:\n%s\nwant none", all)
				}
				return
			}
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems:\n%s\nlack %q", all, w)
				}
			}
			_ = side
		})
	}
	side, ps := parseSidecar("c.yaml", []byte("openapi:\n  version: 2.10\n  servers: [{url: /scim/v2, variables: {}}]\n  contact: {name: x}\n"))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if o := side.OpenAPI; o == nil || o.Version != "2.10" || len(o.Servers) != 1 || o.Contact.Name != "x" {
		t.Errorf("read %+v", side.OpenAPI)
	}
}
