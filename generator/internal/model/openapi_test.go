package model

import (
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestOpenAPISection checks that each mistake in the sidecar's openapi
// section is reported with its YAML path and a hint, and that good
// sections pass.
func TestOpenAPISection(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		want       []string // substrings of the problems; none for a good section
	}{
		{"full", `
title: Acme SCIM
version: 2.1.0
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
		{"blank title", `title: " "`, []string{"openapi.title: is blank"}},
		{"bad email", `contact: {email: "Support <s@example.org>"}`, []string{"openapi.contact.email", "write it bare"}},
		{"empty contact", `contact: {}`, []string{"openapi.contact: give at least one"}},
		{"relative contact url", `contact: {url: acme.example.org}`, []string{"openapi.contact.url", "absolute http(s) URL"}},
		{"license without name", `license: {url: https://x.example.org/l}`, []string{"openapi.license.name: is required"}},
		{"license without url", `license: {name: MIT}`, []string{"openapi.license: give url"}},
		{"license with both", `license: {name: MIT, url: https://x.example.org/l, identifier: MIT}`, []string{"not both"}},
		{"bad spdx", `license: {name: MIT, identifier: "MIT License"}`, []string{"openapi.license.identifier", "SPDX"}},
		{"bad terms", `termsOfService: ftp://x.example.org`, []string{"openapi.termsOfService"}},
		{"server without url", `servers: [{description: x}]`, []string{"openapi.servers[0].url: is required"}},
		{"server trailing slash", `servers: [{url: /scim/v2/}]`, []string{"openapi.servers[0].url", "ends with '/'"}},
		{"server relative", `servers: [{url: scim/v2}]`, []string{"openapi.servers[0].url", "neither an absolute"}},
		{"server query", `servers: [{url: "https://x.example.org/scim/v2?a=b"}]`, []string{"no query"}},
		{"duplicate server", `servers: [{url: /scim/v2}, {url: /scim/v2}]`, []string{"openapi.servers[1].url", "servers[0] too"}},
		{"undefined variable", `servers: [{url: "https://{tenant}.example.org/scim/v2"}]`, []string{"openapi.servers[0].variables", "{tenant}"}},
		{"unused variable", `servers: [{url: /scim/v2, variables: {x: {default: a}}}]`, []string{"openapi.servers[0].variables.x: the url has no {x}"}},
		{"variable without default", `servers: [{url: "/t/{t}/scim/v2", variables: {t: {}}}]`, []string{"openapi.servers[0].variables.t.default: is required"}},
		{"default not in enum", `servers: [{url: "/t/{t}/scim/v2", variables: {t: {default: a, enum: [b]}}}]`, []string{"not one of enum"}},
		{"bad scheme name", `securitySchemes: {"bearer auth": {type: http, scheme: bearer}}`, []string{"openapi.securitySchemes.bearer auth"}},
		{"empty scheme", `securitySchemes: {bearerAuth: {}}`, []string{"openapi.securitySchemes.bearerAuth: is empty"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var o OpenAPI
			dec := yaml.NewDecoder(strings.NewReader(c.yaml))
			dec.KnownFields(true)
			if err := dec.Decode(&o); err != nil && c.yaml != "" {
				t.Fatal(err)
			}
			var got []string
			o.check(func(format string, args ...any) { got = append(got, fmt.Sprintf(format, args...)) })
			if len(c.want) == 0 {
				if len(got) > 0 {
					t.Errorf("problems %q, want none", got)
				}
				return
			}
			all := strings.Join(got, "\n")
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems %q lack %q", got, w)
				}
			}
		})
	}
}
