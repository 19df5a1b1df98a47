// Package scimforge holds what lives at the repository root: the published
// OpenAPI document, embedded so that the server can serve it
// (GET /scim/v2/openapi.yaml, app/server).
package scimforge

import _ "embed"

// OpenAPI is openapi.yaml as make generate wrote it.
//
//go:embed openapi.yaml
var OpenAPI []byte
