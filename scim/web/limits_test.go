package web

import "testing"

func TestBodyLimitDefault(t *testing.T) {
	limits := []BodyLimit{{Bytes: 2048}, {Path: "/scim/v2/Bulk", Bytes: 4 << 20}}
	for p, want := range map[string]int64{"/scim/v2/Users": 2048, "/scim/v2/bulk/": 4 << 20, "/scim/v2/Bulk": 4 << 20} {
		if got := bodyLimit(p, limits); got != want {
			t.Errorf("%s: %d, want %d", p, got, want)
		}
	}
	if got := bodyLimit("/scim/v2/Users", nil); got != MaxBodyBytes {
		t.Errorf("no limits: %d", got)
	}
}

func TestBadQuery(t *testing.T) {
	for raw, bad := range map[string]bool{
		"":                                    false,
		"count=5&filter=userName+pr":          false,
		"filter=userName%20eq%20%22%C3%A9%22": false, // é
		"filter=%FF":                          true,
		"attributes=%C3%28":                   true,
		"%FF=1":                               true,
		"aadOptscim062020":                    false,
		"filter=a;b&count=%zz":                false, // pairs Go cannot read are dropped, as before
		"filter=\xff":                         true,  // a raw byte, not escaped
	} {
		if got := badQuery(raw) != nil; got != bad {
			t.Errorf("%q: refused %v, want %v", raw, got, bad)
		}
	}
	if invalidUTF8([]byte("ok é")) != -1 || invalidUTF8([]byte("ab\xffc")) != 2 {
		t.Error("invalidUTF8")
	}
}
