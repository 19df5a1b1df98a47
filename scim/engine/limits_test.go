package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestCheckDoc(t *testing.T) {
	l := Limits{MaxValueLength: 5, MaxValues: 3}.WithDefaults()
	for _, c := range []struct {
		doc, old string
		want     string // "" : accepted; else words of the error
	}{
		{`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"abcde"}`, "", ""},
		{`{"userName":"abcdef"}`, "", "attribute userName: the value is 6 characters"},
		{`{"userName":"ééééé"}`, "", ""},              // 10 bytes, 5 characters
		{`{"userName":"\u00e9\u00e9\u00e9"}`, "", ""}, // escapes are longer than what they stand for
		{`{"userName":"a\"b\\c"}`, "", ""},            // escaped quote does not end the string
		{`{"name":{"givenName":"abcdefg"}}`, "", "attribute name.givenName"},
		{`{"emails":[{"value":"a"},{"value":"b"},{"value":"c"}]}`, "", ""},
		{`{"emails":[{"value":"a"},{"value":"b"},{"value":"c"},{"value":"d"}]}`, "", "attribute emails: 4 values"},
		{`{"emails":[{"value":"a"},{"value":"abcdefgh"}]}`, "", "attribute emails.value"},
		{`{"tags":[[1,2],[3],[4],[5]]}`, "", "attribute tags: 4 values"},
		{`{"tags":[[1,2,3],[4,5,6]]}`, "", ""}, // nested arrays count apart
		{`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"abcdefgh"}}`, "", "attribute urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"},
		{`{"urn:x:2.0:User":{"manager":{"value":"abcdefgh"}}}`, "", "attribute urn:x:2.0:User:manager.value"},
		// What was stored before a lower limit can still be changed elsewhere…
		{`{"userName":"abcdefgh","title":"x"}`, `{"userName":"abcdefgh"}`, ""},
		// …but not grown into another violation.
		{`{"userName":"ab","title":"abcdefgh"}`, `{"userName":"abcdefgh"}`, "attribute title"},
	} {
		var old []byte
		if c.old != "" {
			old = []byte(c.old)
		}
		err := l.checkDoc([]byte(c.doc), old)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.doc, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.doc, err, c.want)
		}
	}
}

// The byte scan never lets through what the decoding walk refuses.
func TestCheckDocScanAgreesWithWalk(t *testing.T) {
	l := Limits{MaxValueLength: 4, MaxValues: 2}.WithDefaults()
	docs := []string{`{"a":"abcd"}`, `{"a":"abcde"}`, `{"a":["x","y"]}`, `{"a":["x","y","z"]}`, `{"a":[{"b":["1","2","3"]}]}`,
		`{"a":"\n\n\n\n\n"}`, `{"a":[ "x" , "y" ]}`, `{"a":[]}`, `{"a":[[],[],[]]}`}
	for i := 0; i < 50; i++ {
		docs = append(docs, fmt.Sprintf(`{"a":%q}`, strings.Repeat("é", i%7)))
	}
	for _, d := range docs {
		p, _ := l.violation([]byte(d))
		if p != "" && !l.suspect([]byte(d)) {
			t.Errorf("%s: the walk finds %s, the scan nothing", d, p)
		}
	}
}

// FuzzCheckDoc: for any JSON document, the byte scan flags every document
// the decoding walk finds over a limit (the scan is the only thing standing
// between a request and the walk), and neither panics.
func FuzzCheckDoc(f *testing.F) {
	for _, s := range []string{`{"a":"abcde"}`, `{"a":["x","y","z"]}`, `{"a":[{"b":"\u00e9\u00e9\u00e9\u00e9\u00e9"}]}`, `{"urn:x:User":{"d":"abcdef"}}`, `[[],[[]],"\\\""]`, `"é"`} {
		f.Add(s, 3, 2)
	}
	f.Fuzz(func(t *testing.T, doc string, maxLen, maxValues int) {
		if !json.Valid([]byte(doc)) || maxLen < 1 || maxValues < 1 || maxLen > 64 || maxValues > 64 {
			return
		}
		l := Limits{MaxValueLength: maxLen, MaxValues: maxValues}.WithDefaults()
		if p, _ := l.violation([]byte(doc)); p != "" && !l.suspect([]byte(doc)) {
			t.Fatalf("%s: the walk finds %s over the limits %d/%d, the scan nothing", doc, p, maxLen, maxValues)
		}
		_ = l.checkDoc([]byte(doc), []byte(doc))
	})
}

// BenchmarkCheckDoc is the cost every write pays: a typical Entra user's
// document within the limits.
func BenchmarkCheckDoc(b *testing.B) {
	doc := []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"ann.example@contoso.onmicrosoft.com","externalId":"0f3c5e8a-1d2b-4c6d-9e7f-8a9b0c1d2e3f","name":{"formatted":"Ann Example","familyName":"Example","givenName":"Ann"},"displayName":"Ann Example","title":"Senior Engineer","active":true,"emails":[{"value":"ann@contoso.com","type":"work","primary":true}],"phoneNumbers":[{"value":"+1 555 0100","type":"work"},{"value":"+1 555 0101","type":"mobile"}],"addresses":[{"type":"work","streetAddress":"1 Main St","locality":"Redmond","region":"WA","postalCode":"98052","country":"US","primary":true}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1234","department":"Engineering","manager":{"value":"9a8b7c6d"}}}`)
	l := Limits{}.WithDefaults()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if err := l.checkDoc(doc, nil); err != nil {
			b.Fatal(err)
		}
	}
}
