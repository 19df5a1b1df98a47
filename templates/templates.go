// Package templates holds the text templates the generator renders where
// text is the better tool than jennifer (files that are mostly fixed text,
// or that need directives such as //go:embed that jennifer cannot place).
package templates

import "embed"

// FS holds every *.tmpl file of this folder.
//
//go:embed *.tmpl
var FS embed.FS
