package naming

import "testing"

func TestNames(t *testing.T) {
	for _, c := range []struct{ in, goName, snake, singular string }{
		{"userName", "UserName", "user_name", "UserName"},
		{"externalId", "ExternalID", "external_id", "ExternalID"},
		{"id", "ID", "id", "ID"},
		{"$ref", "Ref", "ref", "Ref"},
		{"profileUrl", "ProfileURL", "profile_url", "ProfileURL"},
		{"x509Certificates", "X509Certificates", "x509_certificates", "X509Certificate"},
		{"emails", "Emails", "emails", "Email"},
		{"addresses", "Addresses", "addresses", "Address"},
		{"phoneNumbers", "PhoneNumbers", "phone_numbers", "PhoneNumber"},
		{"ims", "IMs", "ims", "IM"},
		{"entitlements", "Entitlements", "entitlements", "Entitlement"},
		{"members", "Members", "members", "Member"},
		{"lastModified", "LastModified", "last_modified", "LastModified"},
	} {
		if got := Go(c.in); got != c.goName {
			t.Errorf("Go(%q) = %q, want %q", c.in, got, c.goName)
		}
		if got := Snake(c.in); got != c.snake {
			t.Errorf("Snake(%q) = %q, want %q", c.in, got, c.snake)
		}
		if got := Singular(c.in); got != c.singular {
			t.Errorf("Singular(%q) = %q, want %q", c.in, got, c.singular)
		}
	}
}
