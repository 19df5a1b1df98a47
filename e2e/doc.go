// Package e2e holds the end-to-end acceptance tests of scimforge: they build
// the real server binary once, start it on 127.0.0.1 over a fresh SQLite file
// per test, and talk to it over HTTP the way Microsoft Entra ID and Okta do
// (see shared/reference/clients.md for the cases AZ-*, OK-*, Q* and E*).
//
// Run them with:
//
//	go test ./e2e/ -count=1
package e2e
