// Package migrations is the database's migration history: one folder of
// SQL migrations per engine (sqlite/, postgres/) and, in history/, the
// engine-neutral changes each migration makes, from which make generate
// knows the shape every database has.
//
// This is durable state, not generated output: make generate adds a
// migration when the schemas need one and never rewrites or removes one.
// Names are UTC timestamps, so branches that each add an attribute merge
// without renumbering. To start a new app's history afresh (before any
// database exists), delete the three folders and run make generate.
package migrations

import "embed"

// FS holds sqlite/ and postgres/, the folders sqlstore.Open applies, and
// history/, from which it checks the tables it migrated.
//
//go:embed sqlite postgres history
var FS embed.FS
