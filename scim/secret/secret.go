// Package secret hashes writeOnly, never-returned attributes (the User
// password) before they reach the database; the plain value is never stored.
package secret

import "golang.org/x/crypto/bcrypt"

// Hash returns a bcrypt hash of s. bcrypt caps input at 72 bytes and
// rejects longer values; such passwords are rejected by validation first.
func Hash(s string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(s), bcrypt.DefaultCost)
	return string(h), err
}

// Check reports whether s matches hash.
func Check(hash, s string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(s)) == nil
}
