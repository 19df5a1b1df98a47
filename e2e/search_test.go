package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

const searchURN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"

// TestSearch runs POST .search (RFC 7644 §3.4.3) per resource type and at
// the root, and RFC 9865 cursor paging, over HTTP against the real server;
// every exchange is validated against openapi.yaml.
func TestSearch(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.needs(t, "User", "emails")
	c := loadContract(t, s)
	var users []string
	for i := range 7 {
		u := newUser(fmt.Sprintf("search%d@example.com", i))
		if i%2 == 0 {
			u["displayName"] = fmt.Sprintf("Searcher %d", i)
		}
		users = append(users, str(c.send(t, exchange{method: http.MethodPost, target: "/Users", body: u, status: http.StatusCreated}).JSON, "id"))
	}
	group := str(c.send(t, exchange{method: http.MethodPost, target: "/Groups", body: obj{"schemas": arr{groupURN}, "displayName": "Searchers"}, status: http.StatusCreated}).JSON, "id")

	t.Run("type search equals GET", func(t *testing.T) {
		get := s.do(t, "GET", "/Users?"+filterQ(`userName sw "search"`, "sortBy", "userName", "sortOrder", "descending", "startIndex", "2", "count", "3", "attributes", "userName"), nil).list(t)
		body := obj{
			"schemas": arr{searchURN}, "filter": `userName sw "search"`, "sortBy": "userName", "sortOrder": "descending",
			"startIndex": 2, "count": 3, "attributes": arr{"userName"},
		}
		for _, target := range []string{"/Users/.search", "/users/.SEARCH"} {
			var r listResponse
			if target == "/Users/.search" {
				r = c.send(t, exchange{method: http.MethodPost, target: target, status: http.StatusOK, body: body}).list(t)
			} else { // the document has one spelling; the server takes any case
				r = s.do(t, http.MethodPost, target, body).list(t)
			}
			if !slices.Equal(r.ids(), get.ids()) || r.Total != get.Total || r.StartIndex != 2 {
				t.Errorf("POST %s: %v (total %d), GET gave %v (total %d)", target, r.ids(), r.Total, get.ids(), get.Total)
			}
			if _, ok := r.Resources[0]["emails"]; ok {
				t.Errorf("POST %s: attributes=[userName] returned emails", target)
			}
		}
	})
	t.Run("missing schemas accepted", func(t *testing.T) {
		r := c.send(t, exchange{method: http.MethodPost, target: "/Groups/.search", body: obj{"filter": `displayName eq "Searchers"`}, status: http.StatusOK}).list(t)
		if !slices.Equal(r.ids(), []string{group}) {
			t.Errorf("ids %v, want [%s]", r.ids(), group)
		}
	})
	t.Run("bad bodies", func(t *testing.T) {
		for _, b := range []struct {
			body     any
			scimType string
			badDoc   bool // the document itself rejects the body
		}{
			{`{"filter":`, "invalidSyntax", true},
			{`[1]`, "invalidSyntax", true},
			{obj{"schemas": arr{userURN}}, "invalidSyntax", false},
			{obj{"count": "ten"}, "invalidValue", true},
			{obj{"count": 1.5}, "invalidValue", true},
			{obj{"attributes": "userName"}, "invalidValue", true},
			{obj{"attributes": arr{"userName,emails"}}, "invalidValue", false},
			{obj{"filter": `userName eq`}, "invalidFilter", false},
			{obj{"sortOrder": "descending", "sortBy": "noSuchAttr"}, "invalidValue", false},
			{obj{"cursor": "nonsense"}, "invalidCursor", false},
			{obj{"cursor": "", "count": 5000}, "invalidCount", false},
		} {
			r := c.send(t, exchange{method: http.MethodPost, target: "/Users/.search", body: b.body, status: http.StatusBadRequest, badRequest: b.badDoc})
			r.wantError(t, http.StatusBadRequest, b.scimType)
		}
		c.send(t, exchange{method: http.MethodPost, target: "/Users/.search", body: "", status: http.StatusBadRequest, badRequest: true}).wantError(t, http.StatusBadRequest, "invalidSyntax")
	})
	t.Run("root search", func(t *testing.T) {
		all := c.send(t, exchange{method: http.MethodPost, target: "/.search", body: obj{"schemas": arr{searchURN}, "attributes": arr{"userName", "displayName"}}, status: http.StatusOK}).list(t)
		if want := append(slices.Clone(users), group); !slices.Equal(all.ids(), want) || all.Total != 8 {
			t.Errorf("root search: %v (total %d), want users in creation order then the group: %v", all.ids(), all.Total, want)
		}
		// Paging over the concatenation.
		p := c.send(t, exchange{method: http.MethodPost, target: "/.search", body: obj{"startIndex": 6, "count": 3}, status: http.StatusOK}).list(t)
		if !slices.Equal(p.ids(), append(slices.Clone(users[5:]), group)) || p.Total != 8 {
			t.Errorf("startIndex 6: %v (total %d)", p.ids(), p.Total)
		}
		// displayName is in both; userName only in User: Groups contribute nothing.
		f := c.send(t, exchange{method: http.MethodPost, target: "/.search", body: obj{"filter": `userName eq "search1@example.com" or displayName eq "x"`}, status: http.StatusOK}).list(t)
		if !slices.Equal(f.ids(), []string{users[1]}) {
			t.Errorf("userName filter at the root: %v", f.ids())
		}
		d := c.send(t, exchange{method: http.MethodPost, target: "/.search", body: obj{"filter": `displayName sw "Search"`}, status: http.StatusOK}).list(t)
		if d.Total != 5 || d.ids()[4] != group {
			t.Errorf("displayName filter at the root: %v (total %d), want 4 users and the group", d.ids(), d.Total)
		}
		c.send(t, exchange{method: http.MethodPost, target: "/.search", body: obj{"filter": `noSuchAttr eq "x"`}, status: http.StatusBadRequest}).wantError(t, 400, "invalidFilter")
		c.send(t, exchange{method: http.MethodPost, target: "/.search", body: obj{"sortBy": "noSuchAttr"}, status: http.StatusBadRequest}).wantError(t, 400, "invalidValue")
		c.send(t, exchange{method: http.MethodPost, target: "/.search", body: obj{"attributes": arr{"noSuchAttr"}}, status: http.StatusBadRequest}).wantError(t, 400, "invalidValue")
		// GET on the root search is not a route.
		if r := s.do(t, "GET", "/.search", nil); r.Status != http.StatusMethodNotAllowed {
			t.Errorf("GET /.search: %d, want 405", r.Status)
		}
	})
	t.Run("cursor paging", func(t *testing.T) {
		// Forwards over users and the group at the root, 3 per page.
		var ids []string
		cursor := ""
		for page := 0; ; page++ {
			r := c.send(t, exchange{method: http.MethodPost, target: "/.search", body: obj{"cursor": cursor, "count": 3}, status: http.StatusOK})
			if page == 0 {
				if has(r.JSON, "previousCursor") || !has(r.JSON, "totalResults") {
					t.Errorf("first page: %s", r.Body)
				}
			}
			if has(r.JSON, "startIndex") {
				t.Errorf("cursor page with startIndex: %s", r.Body)
			}
			ids = append(ids, resIDs(r)...)
			next := str(r.JSON, "nextCursor")
			if next == "" {
				// Back one page from the last.
				prev := str(r.JSON, "previousCursor")
				b := c.send(t, exchange{method: http.MethodPost, target: "/.search", body: obj{"cursor": prev, "count": 3}, status: http.StatusOK})
				if got := resIDs(b); !slices.Equal(got, users[3:6]) {
					t.Errorf("previous page: %v, want %v", got, users[3:6])
				}
				break
			}
			cursor = next
			if page > 5 {
				t.Fatal("no last page")
			}
		}
		if want := append(slices.Clone(users), group); !slices.Equal(ids, want) {
			t.Errorf("cursor walk: %v, want %v", ids, want)
		}
		// GET with cursor, and a cursor replayed with another filter.
		r := c.send(t, exchange{method: http.MethodGet, target: "/Users?cursor=&count=2", status: http.StatusOK})
		next := str(r.JSON, "nextCursor")
		c.send(t, exchange{method: http.MethodGet, target: "/Users?count=2&cursor=" + url.QueryEscape(next), status: http.StatusOK})
		c.send(t, exchange{method: http.MethodGet, target: "/Users?count=2&" + filterQ(`userName pr`) + "&cursor=" + url.QueryEscape(next), status: http.StatusBadRequest}).wantError(t, 400, "invalidCursor")
		c.send(t, exchange{method: http.MethodGet, target: "/Groups?cursor=" + url.QueryEscape(next), status: http.StatusBadRequest}).wantError(t, 400, "invalidCursor")
	})
	t.Run("service provider config", func(t *testing.T) {
		r := c.send(t, exchange{method: http.MethodGet, target: "/ServiceProviderConfig", status: http.StatusOK})
		p, _ := r.JSON["pagination"].(map[string]any)
		if p["cursor"] != true || p["index"] != true || p["defaultPaginationMethod"] != "index" {
			t.Errorf("pagination %v", p)
		}
		if n, _ := intOf(p["maxPageSize"]); n != 1000 {
			t.Errorf("maxPageSize %v, want 1000 (engine.MaxResults)", p["maxPageSize"])
		}
		if n, _ := intOf(p["defaultPageSize"]); n != 100 {
			t.Errorf("defaultPageSize %v, want 100 (engine.DefaultCount)", p["defaultPageSize"])
		}
	})
}

// resIDs returns the ids of a ListResponse's Resources.
func resIDs(r *response) []string {
	var ids []string
	res, _ := r.JSON["Resources"].([]any)
	for _, x := range res {
		ids = append(ids, str(x, "id"))
	}
	return ids
}
