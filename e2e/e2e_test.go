package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/generated/discovery"
)

// TestEntraUserSequence replays what Microsoft Entra ID sends for a user
// (shared/reference/clients.md A.1-A.2), minus PATCH.
func TestEntraUserSequence(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.needs(t, "User", "active", "addresses", "emails", "name.givenName", "name.familyName", "name.formatted", "password", "phoneNumbers", "preferredLanguage", "roles", "title")
	// Entra sends the enterprise extension; an app without it ignores
	// that data, and the checks of it are left out (those about the
	// manager skip, saying so).
	ent := s.has(t, "User", enterpriseURN+":employeeNumber") && s.has(t, "User", enterpriseURN+":manager") && s.has(t, "User", enterpriseURN+":department")
	if !ent {
		t.Logf("this app's User has no enterprise employeeNumber, manager and department: the extension's checks are left out")
	}

	upn := "Test_User_7c1f@contoso.com"
	mail := "Test.User@Contoso.com"
	ext := "TestUser7c1f"

	// AZ-1: test connection with a random GUID, and AZ-U2: zero results.
	for _, f := range []string{
		`userName eq "2d6c4fb2-65a8-4b8e-9c1a-5f3b3a0d91e7"`,
		`userName eq "non-existent user"`,
	} {
		r := s.do(t, http.MethodGet, "/Users?"+filterQ(f), nil)
		l := r.list(t)
		if l.Total != 0 || len(l.Resources) != 0 || l.StartIndex != 1 {
			t.Errorf("%s: totalResults %d startIndex %d with %d Resources, want 0, 1, []", r.desc, l.Total, l.StartIndex, len(l.Resources))
		}
	}

	// AZ-U3: create with Entra's exact body shape: null-valued keys, meta,
	// roles:[], the typo URN in schemas, and the enterprise extension
	// present although its URN is missing from schemas; manager as a bare
	// string (AZ-U10 / Q8).
	mgr := s.create(t, "/Users", newUser("manager.7c1f@contoso.com"))
	mgrID := str(mgr, "id")
	body := fmt.Sprintf(`{
		"schemas": ["%s", "%s"],
		"externalId": "%s",
		"userName": "%s",
		"active": true,
		"addresses": null,
		"displayName": "Test User",
		"emails": [{"primary": true, "type": "work", "value": "%s"}],
		"meta": {"resourceType": "User"},
		"name": {"formatted": "Test User", "familyName": "User", "givenName": "Test"},
		"phoneNumbers": null,
		"preferredLanguage": null,
		"roles": [],
		"title": null,
		"%s": {"department": null, "employeeNumber": "E-7c1f", "manager": "%s"}
	}`, userURN, entraTypoURN, ext, upn, mail, enterpriseURN, mgrID)
	r := s.do(t, http.MethodPost, "/Users", body).want(t, http.StatusCreated)
	u := r.JSON
	id := str(u, "id")
	if id == "" || id == ext || strings.EqualFold(id, upn) {
		t.Fatalf("POST /Users: id %q must be server-assigned (E5)", id)
	}
	if loc := r.Header.Get("Location"); loc == "" || loc != str(u, "meta", "location") || loc != s.base+"/Users/"+id {
		t.Errorf("POST /Users: Location %q, meta.location %q; want both %s", loc, str(u, "meta", "location"), s.base+"/Users/"+id)
	}
	checkEntraUser := func(desc string, u map[string]any) {
		t.Helper()
		for _, c := range []struct {
			path []any
			want string
		}{
			{[]any{"id"}, id},
			{[]any{"userName"}, upn},
			{[]any{"externalId"}, ext},
			{[]any{"displayName"}, "Test User"},
			{[]any{"name", "givenName"}, "Test"},
			{[]any{"name", "familyName"}, "User"},
			{[]any{"name", "formatted"}, "Test User"},
			{[]any{"emails", 0, "value"}, mail},
			{[]any{"emails", 0, "type"}, "work"},
			{[]any{"meta", "resourceType"}, "User"},
			{[]any{enterpriseURN, "employeeNumber"}, "E-7c1f"},
			{[]any{enterpriseURN, "manager", "value"}, mgrID},
		} {
			if c.path[0] == enterpriseURN && !ent {
				continue
			}
			if got := str(u, c.path...); got != c.want {
				t.Errorf("%s: %v = %q, want %q", desc, c.path, got, c.want)
			}
		}
		if at(u, "active") != true {
			t.Errorf("%s: active = %#v, want true", desc, at(u, "active"))
		}
		if at(u, "emails", 0, "primary") != true {
			t.Errorf("%s: emails[0].primary = %#v, want true", desc, at(u, "emails", 0, "primary"))
		}
		if str(u, "meta", "created") == "" || str(u, "meta", "lastModified") == "" {
			t.Errorf("%s: meta.created/lastModified missing: %v", desc, at(u, "meta"))
		}
		sch := strs(u["schemas"])
		if !slices.Contains(sch, userURN) || slices.Contains(sch, enterpriseURN) != ent {
			t.Errorf("%s: schemas %v, want the core User URN, and the enterprise one exactly when the app has it", desc, sch)
		}
		if slices.Contains(sch, entraTypoURN) {
			t.Errorf("%s: schemas %v echo the client's unknown typo URN", desc, sch)
		}
		for _, k := range []string{"title", "addresses", "phoneNumbers", "preferredLanguage", "password"} {
			if has(u, k) {
				t.Errorf("%s: %q returned (%#v); null input means no value", desc, k, u[k])
			}
		}
		if rs, ok := u["roles"].([]any); has(u, "roles") && (!ok || len(rs) != 0) {
			t.Errorf("%s: roles = %#v, want none", desc, u["roles"])
		}
		if has(at(u, enterpriseURN), "department") {
			t.Errorf("%s: enterprise department returned for a null input", desc)
		}
		if _, ok := at(u, enterpriseURN, "manager").(map[string]any); !ok && ent {
			t.Errorf("%s: manager = %#v, want the RFC complex form {\"value\":…} (AZ-U10)", desc, at(u, enterpriseURN, "manager"))
		}
		noNulls(t, desc, u)
	}
	checkEntraUser("POST /Users (Entra shape)", u)

	// AZ-U4: GET by id returns the full user.
	g := s.do(t, http.MethodGet, "/Users/"+id, nil).want(t, http.StatusOK)
	checkEntraUser("GET /Users/{id}", g.JSON)

	// AZ-U1: the matching query finds it; userName compares case-
	// insensitively and comes back exactly as provisioned (E15).
	t.Run("AZ-U1 filter by userName", func(t *testing.T) {
		for _, v := range []string{upn, strings.ToLower(upn), strings.ToUpper(upn)} {
			l := s.find(t, "/Users", `userName eq "`+v+`"`)
			if l.Total != 1 || len(l.Resources) != 1 || str(l.Resources[0], "id") != id {
				t.Errorf("filter userName eq %q: total %d ids %v, want exactly %s", v, l.Total, l.ids(), id)
				continue
			}
			if got := str(l.Resources[0], "userName"); got != upn {
				t.Errorf("filter userName eq %q returned userName %q, want %q as stored", v, got, upn)
			}
		}
	})

	// AZ-U1b: the other matching filters.
	t.Run("AZ-U1b externalId and email value path", func(t *testing.T) {
		cases := []struct {
			filter string
			want   int64
		}{
			{`externalId eq "` + ext + `"`, 1},
			{`externalId eq ` + ext, 1}, // Q19: unquoted, as in older Microsoft docs
			{`emails[type eq "work"].value eq "` + mail + `"`, 1},
			{`emails[type eq "work"].value eq "` + strings.ToLower(mail) + `"`, 1},
			{`emails[type eq "home"].value eq "` + mail + `"`, 0},
			{`emails[type eq "work"].value eq "someone.else@contoso.com"`, 0},
			{`emails.value eq "` + mail + `"`, 1},
		}
		for _, c := range cases {
			l := s.find(t, "/Users", c.filter)
			if l.Total != c.want {
				t.Errorf("filter %s: totalResults %d, want %d", c.filter, l.Total, c.want)
			}
			if c.want == 1 && len(l.Resources) == 1 && str(l.Resources[0], "id") != id {
				t.Errorf("filter %s: found %s, want %s", c.filter, str(l.Resources[0], "id"), id)
			}
		}
	})

	// Q15/Q22/Q18: encodings, unknown parameters, keyword and name case.
	t.Run("filter encodings and case", func(t *testing.T) {
		raw := []string{
			// Microsoft validator: "+" for spaces and raw quotes.
			`filter=userName+eq+"` + upn + `"`,
			// Okta: %20 and %22, with paging parameters.
			"filter=" + pct(`userName eq "`+upn+`"`) + "&startIndex=1&count=100",
			// Q22: the Entra flag token appended to the tenant URL.
			"aadOptscim062020&filter=" + pct(`userName eq "`+upn+`"`),
			"filter=" + pct(`userName eq "`+upn+`"`) + "&aadOptscim062020",
			"filter=" + pct(`userName eq "`+upn+`"`) + "&someUnknownParam=1",
			// Operator and logical keywords in any case.
			"filter=" + pct(`userName EQ "`+upn+`" AND externalId Eq "`+ext+`"`),
			"filter=" + pct(`userName eq "nobody" OR externalId eq "`+ext+`"`),
			// Q18: attribute names in any case.
			"filter=" + pct(`USERNAME eq "`+upn+`"`),
			"filter=" + pct(`emails[TYPE eq "work"].VALUE eq "`+mail+`"`),
			"filter=" + pct(`name.FamilyName eq "User" and Name.givenname eq "Test"`),
			"filter=" + pct(userURN+`:userName eq "`+upn+`"`),
		}
		if ent {
			raw = append(raw, "filter="+pct(enterpriseURN+`:employeeNumber eq "E-7c1f"`), "filter="+pct(`employeeNumber eq "e-7c1f"`))
		}
		for _, q := range raw {
			r := s.do(t, http.MethodGet, "/Users?"+q, nil)
			l := r.list(t)
			if l.Total != 1 || len(l.Resources) != 1 || str(l.Resources[0], "id") != id {
				t.Errorf("%s: totalResults %d ids %v, want only %s", r.desc, l.Total, l.ids(), id)
			}
		}
	})

	// AZ-U9: "id eq … and manager eq …&attributes=id". Entra asks this to
	// decide whether to set the manager; the sane answer is 200 with at
	// most the id, manager meaning its "value" whether written plainly or
	// fully qualified.
	t.Run("AZ-U9 manager check", func(t *testing.T) {
		s.needs(t, "User", enterpriseURN+":manager.value")
		for _, c := range []struct {
			filter string
			want   int64
		}{
			{`id eq "` + id + `" and ` + enterpriseURN + `:manager.value eq "` + mgrID + `"`, 1},
			{`id eq "` + id + `" and manager.value eq "` + mgrID + `"`, 1},
			{`id eq "` + id + `" and manager.value eq "not-the-manager"`, 0},
			{`id eq "` + id + `" and manager eq "` + mgrID + `"`, 1},
			{`id eq "` + id + `" and ` + enterpriseURN + `:manager eq "` + mgrID + `"`, 1},
			{`id eq "` + id + `" and manager eq "not-the-manager"`, 0},
		} {
			r := s.do(t, http.MethodGet, "/Users?"+filterQ(c.filter, "attributes", "id"), nil)
			if !r.check(t, http.StatusOK) {
				continue
			}
			l := r.list(t)
			if l.Total != c.want {
				t.Errorf("%s: totalResults %d, want %d", r.desc, l.Total, c.want)
			}
			for _, res := range l.Resources {
				if str(res, "id") != id {
					t.Errorf("%s: returned id %q, want %q", r.desc, str(res, "id"), id)
				}
				for _, k := range keys(res) {
					if k != "id" && k != "schemas" {
						t.Errorf("%s: attributes=id returned %q too: %v", r.desc, k, keys(res))
					}
				}
			}
		}
	})

	// AZ-U10 / Q8: the other manager shapes Entra sends in POST bodies
	// all come back in the RFC form.
	t.Run("AZ-U10 manager shapes", func(t *testing.T) {
		s.needs(t, "User", enterpriseURN+":manager.value")
		for i, m := range []any{
			obj{"value": mgrID, "$ref": s.base + "/Users/" + mgrID},
			arr{obj{"value": mgrID, "$ref": s.base + "/Users/" + mgrID}},
			mgrID,
		} {
			b := newUser(fmt.Sprintf("managed.%d@contoso.com", i))
			b[enterpriseURN] = obj{"manager": m}
			u := s.create(t, "/Users", b)
			if str(u, enterpriseURN, "manager", "value") != mgrID {
				t.Errorf("manager sent as %#v came back as %#v", m, at(u, enterpriseURN, "manager"))
			}
			if l := s.find(t, "/Users", enterpriseURN+`:manager.value eq "`+mgrID+`"`, "attributes", "userName"); !slices.Contains(l.ids(), str(u, "id")) {
				t.Errorf("manager sent as %#v: filter on manager.value does not find the user", m)
			}
			s.do(t, http.MethodDelete, "/Users/"+str(u, "id"), nil).want(t, http.StatusNoContent)
		}
	})

	// AZ-U8: hard delete.
	d := s.do(t, http.MethodDelete, "/Users/"+id, nil)
	d.want(t, http.StatusNoContent)
	s.do(t, http.MethodGet, "/Users/"+id, nil).wantError(t, http.StatusNotFound)
	if n := s.count(t, "/Users", `userName eq "`+upn+`"`); n != 0 {
		t.Errorf("after DELETE, filter userName eq finds %d users, want 0", n)
	}
	s.do(t, http.MethodDelete, "/Users/"+id, nil).wantError(t, http.StatusNotFound)
	// The manager is untouched.
	s.do(t, http.MethodGet, "/Users/"+mgrID, nil).want(t, http.StatusOK)
}

// TestEntraGroupSequence replays Entra's group calls (A.3) without PATCH.
func TestEntraGroupSequence(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.needs(t, "User", "groups")
	name := "Entra Group 42"

	// AZ-2: the group probe finds nothing.
	l := s.do(t, http.MethodGet, "/Groups?"+qs("excludedAttributes", "members", "filter", `displayName eq "f3b1c0de-0000-4000-8000-000000000000"`), nil).list(t)
	if l.Total != 0 || len(l.Resources) != 0 {
		t.Errorf("group probe: totalResults %d, want 0", l.Total)
	}

	// AZ-G2: create with the extra Microsoft schema URI and no members.
	g := s.create(t, "/Groups", obj{
		"schemas":     arr{groupURN, msGroupURN},
		"externalId":  "8b4b0a4e-entra-object-id",
		"displayName": name,
		"meta":        obj{"resourceType": "Group"},
	})
	gid := str(g, "id")
	if str(g, "displayName") != name || str(g, "externalId") != "8b4b0a4e-entra-object-id" || str(g, "meta", "resourceType") != "Group" {
		t.Errorf("POST /Groups: got %v", g)
	}
	if m, ok := g["members"].([]any); !ok || len(m) != 0 {
		t.Errorf("POST /Groups without members: members = %#v, want []", g["members"])
	}
	if sch := strs(g["schemas"]); !slices.Equal(sch, []string{groupURN}) {
		t.Errorf("POST /Groups: schemas %v, want [%s]", sch, groupURN)
	}
	noNulls(t, "POST /Groups", g)

	// A member, so that excluding members is observable.
	u := s.create(t, "/Users", newUser("member.g42@contoso.com"))
	uid := str(u, "id")
	s.do(t, http.MethodPut, "/Groups/"+gid, obj{
		"schemas": arr{groupURN}, "displayName": name, "externalId": "8b4b0a4e-entra-object-id",
		"members": arr{obj{"value": uid}},
	}).want(t, http.StatusOK)

	// AZ-G1: find by displayName (case-insensitive), without members.
	for _, v := range []string{name, strings.ToUpper(name)} {
		r := s.do(t, http.MethodGet, "/Groups?"+qs("excludedAttributes", "members", "filter", `displayName eq "`+v+`"`), nil)
		l := r.list(t)
		if l.Total != 1 || len(l.Resources) != 1 || str(l.Resources[0], "id") != gid {
			t.Errorf("%s: totalResults %d ids %v, want %s", r.desc, l.Total, l.ids(), gid)
			continue
		}
		if has(l.Resources[0], "members") {
			t.Errorf("%s: members returned although excluded (E12)", r.desc)
		}
		if str(l.Resources[0], "displayName") != name {
			t.Errorf("%s: displayName %q, want %q", r.desc, str(l.Resources[0], "displayName"), name)
		}
	}

	// AZ-G3: GET by id without members; plain GET has them.
	r := s.do(t, http.MethodGet, "/Groups/"+gid+"?excludedAttributes=members", nil).want(t, http.StatusOK)
	if has(r.JSON, "members") || str(r.JSON, "id") != gid || str(r.JSON, "displayName") != name {
		t.Errorf("%s: want the group without members, got %s", r.desc, r.Body)
	}
	r = s.do(t, http.MethodGet, "/Groups/"+gid, nil).want(t, http.StatusOK)
	if str(r.JSON, "members", 0, "value") != uid {
		t.Errorf("%s: members %v, want [%s]", r.desc, r.JSON["members"], uid)
	}
	s.do(t, http.MethodGet, "/Groups/5e1b9f6e-0000-4000-8000-000000000000?excludedAttributes=members", nil).wantError(t, http.StatusNotFound)

	// AZ-G7: delete.
	s.do(t, http.MethodDelete, "/Groups/"+gid, nil).want(t, http.StatusNoContent)
	s.do(t, http.MethodGet, "/Groups/"+gid, nil).wantError(t, http.StatusNotFound)
	if n := s.count(t, "/Groups", `displayName eq "`+name+`"`); n != 0 {
		t.Errorf("after DELETE the group filter finds %d groups", n)
	}
	r = s.do(t, http.MethodGet, "/Users/"+uid, nil).want(t, http.StatusOK)
	if gs, ok := r.JSON["groups"].([]any); ok && len(gs) != 0 {
		t.Errorf("after deleting the group, the member still lists groups %v", gs)
	}
}

// TestOktaRunscopeSpec follows Okta's connection probe (OK-1) and the
// "Okta SCIM 2.0 SPEC Test" (OK-R1..R12).
func TestOktaRunscopeSpec(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.needs(t, "User", "active", "emails")
	seed := s.create(t, "/Users", newUser("seed.user@okta.local"))

	// OK-1: save-configuration probes.
	l := s.do(t, http.MethodGet, "/Users?startIndex=1&count=2", nil).list(t)
	if l.Total != 1 || l.StartIndex != 1 || len(l.Resources) != 1 {
		t.Errorf("GET /Users?startIndex=1&count=2: total %d startIndex %d items %d, want 1 1 1", l.Total, l.StartIndex, len(l.Resources))
	}
	l = s.do(t, http.MethodGet, "/Groups?startIndex=1&count=100", nil).list(t)
	if l.Total != 0 || l.StartIndex != 1 {
		t.Errorf("GET /Groups?startIndex=1&count=100: total %d startIndex %d, want 0 1", l.Total, l.StartIndex)
	}

	// OK-R1.
	l = s.do(t, http.MethodGet, "/Users?count=1&startIndex=1", nil).list(t)
	if len(l.Resources) == 0 {
		t.Fatalf("OK-R1: no Resources")
	}
	r0 := l.Resources[0]
	for _, p := range [][]any{{"id"}, {"name", "familyName"}, {"name", "givenName"}, {"userName"}, {"emails", 0, "value"}} {
		if str(r0, p...) == "" {
			t.Errorf("OK-R1: Resources[0] lacks %v: %v", p, r0)
		}
	}
	if _, ok := r0["active"].(bool); !ok {
		t.Errorf("OK-R1: Resources[0].active = %#v, want a boolean", r0["active"])
	}

	// OK-R2.
	r := s.do(t, http.MethodGet, "/Users/"+str(r0, "id"), nil).want(t, http.StatusOK)
	if str(r.JSON, "id") != str(r0, "id") || str(r.JSON, "userName") != str(seed, "userName") || str(r.JSON, "name", "familyName") != str(seed, "name", "familyName") {
		t.Errorf("OK-R2: got %s", r.Body)
	}

	// OK-R3 / OK-R5: unknown userNames give 200 and zero results.
	for _, v := range []string{"not-an-email", "random.8f2c91@example.com"} {
		if n := s.count(t, "/Users", `userName eq "`+v+`"`); n != 0 {
			t.Errorf("filter userName eq %q: %d results, want 0", v, n)
		}
	}

	// OK-R4 / OK-R12: unknown ids.
	for _, id := range []string{"00919288221112222", "010101010101010101010101"} {
		s.do(t, http.MethodGet, "/Users/"+id, nil).wantError(t, http.StatusNotFound)
	}

	// OK-R6 / OK-R7 (Runscope POSTs with application/json).
	body := obj{
		"schemas":     arr{userURN},
		"userName":    "Runscope.User-8d1e@Atko.com",
		"name":        obj{"givenName": "Runscope", "familyName": "McRunscope"},
		"emails":      arr{obj{"primary": true, "value": "runscope.user-8d1e@atko.com", "type": "work"}},
		"displayName": "Runscope McRunscope",
		"active":      true,
	}
	r = s.do(t, http.MethodPost, "/Users", body, "Content-Type", "application/json").want(t, http.StatusCreated)
	nid := str(r.JSON, "id")
	if nid == "" || r.JSON["active"] != true || str(r.JSON, "userName") != "Runscope.User-8d1e@Atko.com" ||
		str(r.JSON, "name", "givenName") != "Runscope" || str(r.JSON, "name", "familyName") != "McRunscope" ||
		!slices.Contains(strs(r.JSON["schemas"]), userURN) {
		t.Errorf("OK-R6: got %s", r.Body)
	}
	r = s.do(t, http.MethodGet, "/Users/"+nid, nil, "Content-Type", "application/scim+json; charset=utf-8").want(t, http.StatusOK)
	if str(r.JSON, "userName") != "Runscope.User-8d1e@Atko.com" || str(r.JSON, "name", "givenName") != "Runscope" {
		t.Errorf("OK-R7: got %s", r.Body)
	}

	// OK-R8: duplicate userName, also in another case, is a 409.
	s.do(t, http.MethodPost, "/Users", body, "Content-Type", "application/json").wantError(t, http.StatusConflict, "uniqueness")
	body["userName"] = "RUNSCOPE.USER-8D1E@ATKO.COM"
	s.do(t, http.MethodPost, "/Users", body, "Content-Type", "application/scim+json; charset=utf-8").wantError(t, http.StatusConflict, "uniqueness")
	body["userName"] = "runscope.user-8d1e@atko.com"
	s.do(t, http.MethodPost, "/Users", body).wantError(t, http.StatusConflict, "uniqueness")
	if n := s.count(t, "/Users", ""); n != 2 {
		t.Errorf("after the rejected duplicates there are %d users, want 2", n)
	}

	// OK-R9: username case sensitivity check.
	l = s.find(t, "/Users", `userName eq "RUNSCOPE.USER-8D1E@ATKO.COM"`)
	if l.Total != 1 || len(l.Resources) != 1 || str(l.Resources[0], "userName") != "Runscope.User-8d1e@Atko.com" {
		t.Errorf("OK-R9: total %d, resources %v; want the user with its original userName", l.Total, l.Resources)
	}

	// OK-R10.
	s.do(t, http.MethodGet, "/Groups", nil).list(t)

	// OK-R11: a non-token Authorization header.
	r = s.do(t, http.MethodGet, "/Users?"+filterQ(`userName eq "x"`), nil, "Authorization", "non-token")
	r.wantError(t, http.StatusUnauthorized)
	if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(strings.ToLower(h), "bearer") {
		t.Errorf("OK-R11: WWW-Authenticate %q, want a Bearer challenge", h)
	}
}

// TestOktaUserLifecycle: OK-U2 create with password, OK-U5 PUT replace,
// and deactivation through PUT (AIW apps).
func TestOktaUserLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.needs(t, "User", "active", "groups", "locale", "nickName", "password", "phoneNumbers", "title")
	const password = "t1Zq-okta-random-Pw!"

	// OK-U2.
	body := newUser("test.user@okta.local")
	body["displayName"] = "Test User"
	body["locale"] = "en-US"
	body["externalId"] = "00ujl29u0le5T6Aj10h7"
	body["groups"] = arr{}
	body["password"] = password
	body["title"] = "Engineer"
	r := s.do(t, http.MethodPost, "/Users", body).want(t, http.StatusCreated)
	noPassword(t, r)
	id := str(r.JSON, "id")
	if str(r.JSON, "locale") != "en-US" || str(r.JSON, "externalId") != "00ujl29u0le5T6Aj10h7" || str(r.JSON, "meta", "resourceType") != "User" {
		t.Errorf("OK-U2: got %s", r.Body)
	}
	if gs, ok := r.JSON["groups"].([]any); ok && len(gs) != 0 {
		t.Errorf("OK-U2: groups %v, want none", gs)
	}

	// The password is never returned, whatever the request.
	for _, target := range []string{
		"/Users/" + id,
		"/Users/" + id + "?attributes=password",
		"/Users/" + id + "?attributes=password,userName",
		"/Users?" + filterQ(`userName eq "test.user@okta.local"`),
		"/Users?attributes=password",
		"/Users",
	} {
		r := s.do(t, http.MethodGet, target, nil).want(t, http.StatusOK)
		noPassword(t, r)
		if strings.Contains(string(r.Body), password) || strings.Contains(string(r.Body), "$2a$") {
			t.Errorf("%s: the password or its hash leaks: %s", r.desc, r.Body)
		}
	}

	// OK-U5: GET, modify, PUT the whole thing back (id, meta, groups:[]).
	got := s.do(t, http.MethodGet, "/Users/"+id, nil).want(t, http.StatusOK).JSON
	created := str(got, "meta", "created")
	got["userName"] = "renamed.user@okta.local"
	got["name"].(map[string]any)["givenName"] = "Renamed"
	got["groups"] = arr{}
	got["password"] = password
	r = s.do(t, http.MethodPut, "/Users/"+id, got).want(t, http.StatusOK)
	noPassword(t, r)
	if str(r.JSON, "id") != id || str(r.JSON, "userName") != "renamed.user@okta.local" || str(r.JSON, "name", "givenName") != "Renamed" ||
		str(r.JSON, "title") != "Engineer" || str(r.JSON, "locale") != "en-US" {
		t.Errorf("OK-U5 PUT: got %s", r.Body)
	}
	if str(r.JSON, "meta", "created") != created {
		t.Errorf("OK-U5 PUT changed meta.created from %s to %s", created, str(r.JSON, "meta", "created"))
	}
	if !after(str(r.JSON, "meta", "lastModified"), created) {
		t.Errorf("OK-U5 PUT: meta.lastModified %s is not after meta.created %s", str(r.JSON, "meta", "lastModified"), created)
	}
	if n := s.count(t, "/Users", `userName eq "test.user@okta.local"`); n != 0 {
		t.Errorf("after the rename the old userName still finds %d users", n)
	}
	if l := s.find(t, "/Users", `userName eq "renamed.user@okta.local"`); l.Total != 1 || len(l.Resources) != 1 || str(l.Resources[0], "id") != id {
		t.Errorf("after the rename the new userName finds %v", l.ids())
	}

	// A PUT is a full replace: omitted attributes are cleared.
	put := newUser("renamed.user@okta.local")
	r = s.do(t, http.MethodPut, "/Users/"+id, put).want(t, http.StatusOK)
	for _, k := range []string{"title", "locale", "displayName", "externalId"} {
		if has(r.JSON, k) {
			t.Errorf("PUT without %q kept it: %v", k, r.JSON[k])
		}
	}
	g := s.do(t, http.MethodGet, "/Users/"+id, nil).want(t, http.StatusOK)
	if has(g.JSON, "title") || has(g.JSON, "locale") {
		t.Errorf("GET after PUT without title/locale: %s", g.Body)
	}
	if n := s.count(t, "/Users", `title eq "Engineer"`); n != 0 {
		t.Errorf("filter title eq \"Engineer\" finds %d users after the PUT cleared it", n)
	}

	// Null-valued attributes in a PUT mean "no value" (Q12).
	withNulls := newUser("renamed.user@okta.local")
	withNulls["nickName"] = "Nick"
	s.do(t, http.MethodPut, "/Users/"+id, withNulls).want(t, http.StatusOK)
	withNulls["nickName"] = nil
	withNulls["displayName"] = nil
	withNulls["phoneNumbers"] = nil
	r = s.do(t, http.MethodPut, "/Users/"+id, withNulls).want(t, http.StatusOK)
	if has(r.JSON, "nickName") || has(r.JSON, "displayName") || has(r.JSON, "phoneNumbers") {
		t.Errorf("PUT with null values: %s", r.Body)
	}
	noNulls(t, r.desc, r.JSON)

	// The ETag header and meta.version agree, and change on every write.
	g1 := s.do(t, http.MethodGet, "/Users/"+id, nil).want(t, http.StatusOK)
	if e := g1.Header.Get("ETag"); e != "" && e != str(g1.JSON, "meta", "version") {
		t.Errorf("GET: ETag %q but meta.version %q", e, str(g1.JSON, "meta", "version"))
	}
	p2 := s.do(t, http.MethodPut, "/Users/"+id, withNulls).want(t, http.StatusOK)
	if v1, v2 := str(g1.JSON, "meta", "version"), str(p2.JSON, "meta", "version"); v1 != "" && v1 == v2 {
		t.Errorf("meta.version %q did not change on PUT", v1)
	}

	// PUT with another id in the body never changes the id.
	bad := newUser("renamed.user@okta.local")
	bad["id"] = "11111111-2222-3333-4444-555555555555"
	r = s.do(t, http.MethodPut, "/Users/"+id, bad)
	if r.Status == http.StatusOK && str(r.JSON, "id") != id {
		t.Errorf("PUT with a foreign id in the body: id became %q", str(r.JSON, "id"))
	} else if r.Status != http.StatusOK {
		r.wantError(t, http.StatusBadRequest)
	}
	s.do(t, http.MethodGet, "/Users/11111111-2222-3333-4444-555555555555", nil).wantError(t, http.StatusNotFound)
	s.do(t, http.MethodGet, "/Users/"+id, nil).want(t, http.StatusOK)

	// PUT to a userName another user has: 409, nothing changes.
	other := s.create(t, "/Users", newUser("other.user@okta.local"))
	s.do(t, http.MethodPut, "/Users/"+str(other, "id"), newUser("RENAMED.user@okta.local")).wantError(t, http.StatusConflict, "uniqueness")
	if str(s.do(t, http.MethodGet, "/Users/"+str(other, "id"), nil).want(t, http.StatusOK).JSON, "userName") != "other.user@okta.local" {
		t.Errorf("a rejected PUT changed the user")
	}

	// OK-U6 via PUT (AIW): deactivate; the user stays visible (E3).
	off := newUser("renamed.user@okta.local")
	off["active"] = false
	r = s.do(t, http.MethodPut, "/Users/"+id, off).want(t, http.StatusOK)
	if r.JSON["active"] != false {
		t.Errorf("PUT active:false: active = %#v", r.JSON["active"])
	}
	r = s.do(t, http.MethodGet, "/Users/"+id, nil).want(t, http.StatusOK)
	if r.JSON["active"] != false {
		t.Errorf("GET deactivated user: active = %#v, want false", r.JSON["active"])
	}
	l := s.find(t, "/Users", `userName eq "renamed.user@okta.local"`)
	if l.Total != 1 || len(l.Resources) != 1 || at(l.Resources[0], "active") != false {
		t.Errorf("filter on a deactivated user: total %d resources %v; want it with active false", l.Total, l.Resources)
	}
	for _, f := range []string{`active eq false`, `active eq "False"`} {
		if l := s.find(t, "/Users", f); !slices.Contains(l.ids(), id) || slices.Contains(l.ids(), str(other, "id")) {
			t.Errorf("filter %s: ids %v, want the deactivated user only", f, l.ids())
		}
	}

	// Reactivate with Entra-style string boolean (Q2).
	on := newUser("renamed.user@okta.local")
	on["active"] = "True"
	r = s.do(t, http.MethodPut, "/Users/"+id, on).want(t, http.StatusOK)
	if r.JSON["active"] != true {
		t.Errorf("PUT active:\"True\": active = %#v, want true", r.JSON["active"])
	}
}

// TestOktaGroups: OK-G1..G6 without PATCH (AIW apps push groups by PUT).
func TestOktaGroups(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.needs(t, "User", "groups")
	u1 := s.create(t, "/Users", newUser("alice@okta.local"))
	u2body := newUser("bob@okta.local")
	u2body["displayName"] = "Bob Builder"
	u2 := s.create(t, "/Users", u2body)
	id1, id2 := str(u1, "id"), str(u2, "id")

	// OK-G1 with members:[].
	empty := s.create(t, "/Groups", obj{"schemas": arr{groupURN}, "displayName": "Empty Group", "members": arr{}})
	if m, ok := empty["members"].([]any); !ok || len(m) != 0 {
		t.Errorf("group created with members:[]: members = %#v, want []", empty["members"])
	}

	// OK-G1 with a member.
	g := s.create(t, "/Groups", obj{"schemas": arr{groupURN}, "displayName": "Engineering", "members": arr{obj{"value": id1, "display": "alice@okta.local"}}})
	gid := str(g, "id")
	checkMembers := func(desc string, grp map[string]any, want map[string]string) {
		t.Helper()
		ms, _ := grp["members"].([]any)
		if len(ms) != len(want) {
			t.Errorf("%s: members %v, want %d", desc, grp["members"], len(want))
			return
		}
		for i := range ms {
			v := str(ms, i, "value")
			display, ok := want[v]
			if !ok {
				t.Errorf("%s: unexpected member %q", desc, v)
				continue
			}
			if ref := str(ms, i, "$ref"); ref != s.base+"/Users/"+v {
				t.Errorf("%s: member %s $ref %q, want %q", desc, v, ref, s.base+"/Users/"+v)
			}
			if typ := str(ms, i, "type"); typ != "User" {
				t.Errorf("%s: member %s type %q, want User", desc, v, typ)
			}
			if d := str(ms, i, "display"); d != display {
				t.Errorf("%s: member %s display %q, want %q", desc, v, d, display)
			}
		}
	}
	checkMembers("POST /Groups", g, map[string]string{id1: "alice@okta.local"})
	r := s.do(t, http.MethodGet, "/Groups/"+gid, nil).want(t, http.StatusOK)
	checkMembers("GET /Groups/{id}", r.JSON, map[string]string{id1: "alice@okta.local"})

	// The member's derived "groups".
	checkGroups := func(uid string, want ...string) {
		t.Helper()
		u := s.do(t, http.MethodGet, "/Users/"+uid, nil).want(t, http.StatusOK).JSON
		gs, _ := u["groups"].([]any)
		var got []string
		for i := range gs {
			got = append(got, str(gs, i, "value"))
			if ref := str(gs, i, "$ref"); ref != s.base+"/Groups/"+str(gs, i, "value") {
				t.Errorf("user %s groups[%d].$ref %q", uid, i, ref)
			}
			if str(gs, i, "value") == gid && str(gs, i, "display") != "Engineering" {
				t.Errorf("user %s groups[%d].display %q, want Engineering", uid, i, str(gs, i, "display"))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("user %s groups %v, want %v", uid, got, want)
		}
	}
	checkGroups(id1, gid)
	checkGroups(id2)
	if l := s.find(t, "/Users", `groups.value eq "`+gid+`"`); !slices.Equal(l.ids(), []string{id1}) {
		t.Errorf("filter groups.value eq group: %v, want [%s]", l.ids(), id1)
	}
	if l := s.find(t, "/Groups", `members.value eq "`+id1+`"`); !slices.Equal(l.ids(), []string{gid}) {
		t.Errorf("filter members.value eq user: %v, want [%s]", l.ids(), gid)
	}

	// PUT replaces the member list (and renaming to the same name is idempotent, Q21).
	r = s.do(t, http.MethodPut, "/Groups/"+gid, obj{"schemas": arr{groupURN}, "id": gid, "displayName": "Engineering", "members": arr{obj{"value": id2}}}).want(t, http.StatusOK)
	checkMembers("PUT /Groups/{id}", r.JSON, map[string]string{id2: "Bob Builder"})
	checkGroups(id1)
	checkGroups(id2, gid)

	// An unknown member id: 400 invalidValue and nothing is stored.
	r = s.do(t, http.MethodPut, "/Groups/"+gid, obj{"schemas": arr{groupURN}, "displayName": "Renamed", "members": arr{obj{"value": id1}, obj{"value": "8e3a8f0e-dead-4bee-8000-000000000000"}}})
	r.wantError(t, http.StatusBadRequest, "invalidValue")
	r = s.do(t, http.MethodGet, "/Groups/"+gid, nil).want(t, http.StatusOK)
	if str(r.JSON, "displayName") != "Engineering" {
		t.Errorf("a rejected PUT renamed the group to %q", str(r.JSON, "displayName"))
	}
	checkMembers("GET after rejected PUT", r.JSON, map[string]string{id2: "Bob Builder"})
	s.do(t, http.MethodPost, "/Groups", obj{"schemas": arr{groupURN}, "displayName": "Ghosts", "members": arr{obj{"value": "8e3a8f0e-dead-4bee-8000-000000000000"}}}).
		wantError(t, http.StatusBadRequest, "invalidValue")
	if n := s.count(t, "/Groups", `displayName eq "Ghosts"`); n != 0 {
		t.Errorf("a rejected POST /Groups stored %d groups", n)
	}
	if n := s.count(t, "/Groups", ""); n != 2 {
		t.Errorf("%d groups, want 2", n)
	}

	// A group can be a member of a group; a group cannot contain itself;
	// a member's "type" must match what the id is.
	nested := s.create(t, "/Groups", obj{"schemas": arr{groupURN}, "displayName": "Parent", "members": arr{obj{"value": str(empty, "id"), "type": "Group"}}})
	if str(nested, "members", 0, "value") != str(empty, "id") || str(nested, "members", 0, "type") != "Group" ||
		str(nested, "members", 0, "$ref") != s.base+"/Groups/"+str(empty, "id") || str(nested, "members", 0, "display") != "Empty Group" {
		t.Errorf("nested group member: %v", nested["members"])
	}
	s.do(t, http.MethodPut, "/Groups/"+str(nested, "id"), obj{"schemas": arr{groupURN}, "displayName": "Parent", "members": arr{obj{"value": str(nested, "id")}}}).
		wantError(t, http.StatusBadRequest, "invalidValue")
	if r := s.do(t, http.MethodGet, "/Groups/"+str(nested, "id"), nil).want(t, http.StatusOK); str(r.JSON, "members", 0, "value") != str(empty, "id") {
		t.Errorf("rejected PUTs changed the nested group: %s", r.Body)
	}
	// A type label that contradicts the id is corrected, not trusted: the
	// member is stored with the type its id really has.
	r = s.do(t, http.MethodPut, "/Groups/"+str(nested, "id"), obj{"schemas": arr{groupURN}, "displayName": "Parent", "members": arr{obj{"value": id1, "type": "Group"}}}).want(t, http.StatusOK)
	if str(r.JSON, "members", 0, "value") != id1 || str(r.JSON, "members", 0, "type") != "User" || len(r.JSON["members"].([]any)) != 1 {
		t.Errorf("PUT with a contradicting member type: members %v, want only %s as a User", r.JSON["members"], id1)
	}
	// A PUT is a full replace: no members key means no members.
	r = s.do(t, http.MethodPut, "/Groups/"+str(nested, "id"), obj{"schemas": arr{groupURN}, "displayName": "Parent"}).want(t, http.StatusOK)
	if m, ok := r.JSON["members"].([]any); !ok || len(m) != 0 {
		t.Errorf("PUT /Groups without members: members = %#v, want []", r.JSON["members"])
	}
	s.do(t, http.MethodDelete, "/Groups/"+str(nested, "id"), nil).want(t, http.StatusNoContent)

	// Deleting a user removes it from its groups.
	s.do(t, http.MethodDelete, "/Users/"+id2, nil).want(t, http.StatusNoContent)
	r = s.do(t, http.MethodGet, "/Groups/"+gid, nil).want(t, http.StatusOK)
	if m, ok := r.JSON["members"].([]any); !ok || len(m) != 0 {
		t.Errorf("after deleting its only member the group has members %#v, want []", r.JSON["members"])
	}
	if n := s.count(t, "/Groups", `members.value eq "`+id2+`"`); n != 0 {
		t.Errorf("filter members.value eq deleted user finds %d groups", n)
	}

	// OK-G6.
	s.do(t, http.MethodDelete, "/Groups/"+gid, nil).want(t, http.StatusNoContent)
	s.do(t, http.MethodGet, "/Groups/"+gid, nil).wantError(t, http.StatusNotFound)
	checkGroups(id1)
}

// TestPaging: RFC 7644 §3.4.2.4 with the clients' expectations (OK-U4,
// the Microsoft validator's count=5 pages, E7).
func TestPaging(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.needs(t, "User", "groups")
	var created []string
	for i := 0; i < 12; i++ {
		u := s.create(t, "/Users", newUser(fmt.Sprintf("page.user.%02d@example.com", i)))
		created = append(created, str(u, "id"))
	}
	full := s.do(t, http.MethodGet, "/Users?count=100", nil).list(t)
	if full.Total != 12 || len(full.Resources) != 12 {
		t.Fatalf("GET /Users?count=100: total %d items %d, want 12 12", full.Total, len(full.Resources))
	}
	all := full.ids()
	if a, b := slices.Sorted(slices.Values(all)), slices.Sorted(slices.Values(created)); !slices.Equal(a, b) {
		t.Fatalf("listed ids %v differ from created ids %v", a, b)
	}

	pages := func(desc string) {
		t.Helper()
		var got []string
		for _, p := range []struct{ start, items int64 }{{1, 5}, {6, 5}, {11, 2}} {
			r := s.do(t, http.MethodGet, fmt.Sprintf("/Users?startIndex=%d&count=5", p.start), nil)
			l := r.list(t)
			if l.Total != 12 || l.StartIndex != p.start || l.ItemsPerPage != p.items {
				t.Errorf("%s %s: totalResults %d startIndex %d itemsPerPage %d, want 12 %d %d", desc, r.desc, l.Total, l.StartIndex, l.ItemsPerPage, p.start, p.items)
			}
			got = append(got, l.ids()...)
		}
		if !slices.Equal(got, all) {
			t.Errorf("%s: pages give %v, want the full list order %v (no duplicates, none missing)", desc, got, all)
		}
	}
	pages("initial")
	// An update between page fetches must not reorder the pages.
	mid := s.do(t, http.MethodGet, "/Users/"+all[7], nil).want(t, http.StatusOK).JSON
	mid["displayName"] = "Updated In The Middle"
	s.do(t, http.MethodPut, "/Users/"+all[7], mid).want(t, http.StatusOK)
	pages("after an update")

	cases := []struct {
		query               string
		total, start, items int64
		first               string // expected first id, if any
	}{
		{"count=0", 12, 1, 0, ""},
		{"startIndex=1&count=0", 12, 1, 0, ""},
		{"startIndex=13&count=5", 12, 13, 0, ""},
		{"startIndex=1000", 12, 1000, 0, ""},
		{"count=-3", 12, 1, 0, ""},                  // negative count means 0
		{"startIndex=0&count=2", 12, 1, 2, all[0]},  // below 1 means 1
		{"startIndex=-5&count=2", 12, 1, 2, all[0]}, // below 1 means 1
		{"startIndex=12&count=5", 12, 12, 1, all[11]},
		{"count=5000", 12, 1, 12, all[0]},
	}
	for _, c := range cases {
		r := s.do(t, http.MethodGet, "/Users?"+c.query, nil)
		l := r.list(t)
		if l.Total != c.total || l.StartIndex != c.start || l.ItemsPerPage != c.items {
			t.Errorf("%s: totalResults %d startIndex %d itemsPerPage %d, want %d %d %d", r.desc, l.Total, l.StartIndex, l.ItemsPerPage, c.total, c.start, c.items)
		}
		if c.first != "" && len(l.Resources) > 0 && str(l.Resources[0], "id") != c.first {
			t.Errorf("%s: first id %s, want %s", r.desc, str(l.Resources[0], "id"), c.first)
		}
	}

	// Filter together with paging (Okta's existence check and imports).
	flt := s.find(t, "/Users", `userName sw "page.user.0"`, "count", "100")
	if flt.Total != 10 {
		t.Fatalf("filter userName sw page.user.0: total %d, want 10", flt.Total)
	}
	l := s.find(t, "/Users", `userName sw "page.user.0"`, "startIndex", "6", "count", "5")
	if l.Total != 10 || l.StartIndex != 6 || !slices.Equal(l.ids(), flt.ids()[5:10]) {
		t.Errorf("filtered page 2: total %d startIndex %d ids %v, want 10 6 %v", l.Total, l.StartIndex, l.ids(), flt.ids()[5:10])
	}

	// sortBy / sortOrder.
	names := func(l listResponse) []string {
		var out []string
		for _, r := range l.Resources {
			out = append(out, str(r, "userName"))
		}
		return out
	}
	var asc []string
	for i := 0; i < 12; i++ {
		asc = append(asc, fmt.Sprintf("page.user.%02d@example.com", i))
	}
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	if got := names(s.do(t, http.MethodGet, "/Users?sortBy=userName&count=100", nil).list(t)); !slices.Equal(got, asc) {
		t.Errorf("sortBy=userName: %v, want %v", got, asc)
	}
	if got := names(s.do(t, http.MethodGet, "/Users?sortBy=userName&sortOrder=descending&startIndex=1&count=5", nil).list(t)); !slices.Equal(got, desc[:5]) {
		t.Errorf("sortBy=userName descending, first page: %v, want %v", got, desc[:5])
	}
	if got := names(s.do(t, http.MethodGet, "/Users?sortBy=userName&sortOrder=descending&startIndex=6&count=5", nil).list(t)); !slices.Equal(got, desc[5:10]) {
		t.Errorf("sortBy=userName descending, second page: %v, want %v", got, desc[5:10])
	}
	s.do(t, http.MethodGet, "/Users?sortBy=noSuchAttribute", nil).wantError(t, http.StatusBadRequest)
	s.do(t, http.MethodGet, "/Users?sortBy=userName&sortOrder=sideways", nil).wantError(t, http.StatusBadRequest)

	// Groups page the same way (OK-G2).
	var gids []string
	for i := 0; i < 3; i++ {
		gids = append(gids, str(s.create(t, "/Groups", obj{"schemas": arr{groupURN}, "displayName": fmt.Sprintf("Paged Group %d", i)}), "id"))
	}
	var got []string
	for _, start := range []int{1, 3} {
		l := s.do(t, http.MethodGet, fmt.Sprintf("/Groups?startIndex=%d&count=2", start), nil).list(t)
		if l.Total != 3 || l.StartIndex != int64(start) {
			t.Errorf("groups page at %d: total %d startIndex %d", start, l.Total, l.StartIndex)
		}
		got = append(got, l.ids()...)
	}
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(gids))) || len(got) != 3 {
		t.Errorf("group pages give %v, want each of %v once", got, gids)
	}
}

// TestCountCap: a count above filter.maxResults (1000) is capped, not
// honoured and not an error.
func TestCountCap(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const n = 1003
	// Create the users over a few connections; errors are collected here
	// because t.Fatal must not be called from other goroutines.
	errs := make(chan error, n)
	work := make(chan int)
	done := make(chan struct{})
	const workers = 4
	for w := 0; w < workers; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range work {
				b, _ := requiredBody(http.MethodPost, "/Users", fmt.Sprintf(`{"schemas":["%s"],"userName":"cap.user.%04d@example.com"}`, userURN, i))
				req, _ := http.NewRequest(http.MethodPost, s.base+"/Users", bytes.NewReader(toBytes(b)))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", scimMedia)
				resp, err := s.client.Do(req)
				if err != nil {
					errs <- err
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					errs <- fmt.Errorf("POST user %d: status %d", i, resp.StatusCode)
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	for w := 0; w < workers; w++ {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	l := s.do(t, http.MethodGet, "/Users?count=5000&attributes=userName", nil).list(t)
	if l.Total != n || l.ItemsPerPage != 1000 {
		t.Errorf("count=5000: totalResults %d itemsPerPage %d, want %d and 1000 (filter.maxResults)", l.Total, l.ItemsPerPage, n)
	}
	l = s.do(t, http.MethodGet, "/Users?startIndex=1000&count=5000&attributes=userName", nil).list(t)
	if l.Total != n || l.ItemsPerPage != n-999 || l.StartIndex != 1000 {
		t.Errorf("startIndex=1000&count=5000: totalResults %d itemsPerPage %d startIndex %d, want %d %d 1000", l.Total, l.ItemsPerPage, l.StartIndex, n, n-999)
	}
	l = s.do(t, http.MethodGet, "/Users?attributes=userName", nil).list(t)
	if l.Total != n || l.ItemsPerPage < 1 || l.ItemsPerPage > 1000 {
		t.Errorf("no count: totalResults %d itemsPerPage %d, want %d and a default page of 1..1000", l.Total, l.ItemsPerPage, n)
	}
	l = s.find(t, "/Users", `userName sw "cap.user.09"`, "count", "2000")
	if l.Total != 100 || l.ItemsPerPage != 100 {
		t.Errorf("filtered count=2000: totalResults %d itemsPerPage %d, want 100 100", l.Total, l.ItemsPerPage)
	}
}

// TestErrors: every failure is a SCIM Error with the right status and
// scimType, and a rejected write leaves nothing behind.
func TestErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	seed := s.create(t, "/Users", newUser("seed.errors@example.com"))
	seedID := str(seed, "id")

	t.Run("bad user bodies", func(t *testing.T) {
		u := func(extra string) string {
			return `{"schemas":["` + userURN + `"],"userName":"rejected.user@example.com"` + extra + `}`
		}
		cases := []struct {
			name, body string
			scimTypes  []string
			needs      []string // attributes of the app's User the case is about
		}{
			{"not JSON", `{bad`, []string{"invalidSyntax"}, nil},
			{"truncated JSON", u(`,"name":{"givenName":"x"`)[:60], []string{"invalidSyntax"}, nil},
			{"JSON array", `[]`, []string{"invalidSyntax"}, nil},
			{"JSON string", `"user"`, []string{"invalidSyntax"}, nil},
			{"empty body", ``, []string{"invalidSyntax"}, nil},
			{"userName number", `{"schemas":["` + userURN + `"],"userName":5}`, []string{"invalidValue"}, nil},
			{"active yes", u(`,"active":"yes"`), []string{"invalidValue"}, []string{"active"}},
			{"active number", u(`,"active":1`), []string{"invalidValue"}, []string{"active"}},
			{"emails string", u(`,"emails":"x"`), []string{"invalidValue"}, []string{"emails"}},
			{"name string", u(`,"name":"Bob"`), []string{"invalidValue"}, []string{"name"}},
			{"missing userName", `{"schemas":["` + userURN + `"],"name":{"givenName":"x"}}`, []string{"invalidValue"}, nil},
			{"empty userName", `{"schemas":["` + userURN + `"],"userName":""}`, []string{"invalidValue"}, nil},
			{"null userName", `{"schemas":["` + userURN + `"],"userName":null}`, []string{"invalidValue"}, nil},
			{"no core schema", `{"schemas":["` + groupURN + `"],"userName":"rejected.user@example.com"}`, []string{"invalidValue", "invalidSyntax"}, nil},
			{"no schemas", `{"userName":"rejected.user@example.com"}`, []string{"invalidValue", "invalidSyntax"}, nil},
			{"two primary emails", u(`,"emails":[{"value":"a@example.com","primary":true},{"value":"b@example.com","primary":"True"}]`), []string{"invalidValue"}, []string{"emails.primary"}},
			{"non-canonical email type", u(`,"emails":[{"value":"a@example.com","type":"bogus"}]`), []string{"invalidValue"}, []string{"emails.type"}},
			{"hireDate not a date", u(`,"` + acmeURN + `":{"hireDate":"not-a-date"}`), []string{"invalidValue"}, []string{acmeURN + ":hireDate"}},
			{"clearanceLevel string", u(`,"` + acmeURN + `":{"clearanceLevel":"high"}`), []string{"invalidValue"}, []string{acmeURN + ":clearanceLevel"}},
			{"clearanceLevel fraction", u(`,"` + acmeURN + `":{"clearanceLevel":2.5}`), []string{"invalidValue"}, []string{acmeURN + ":clearanceLevel"}},
			{"remoteWorker yes", u(`,"` + acmeURN + `":{"remoteWorker":"yes"}`), []string{"invalidValue"}, []string{acmeURN + ":remoteWorker"}},
			{"project without name", u(`,"` + acmeURN + `":{"projects":[{"role":"lead"}]}`), []string{"invalidValue"}, []string{acmeURN + ":projects.name"}},
			{"project role bogus", u(`,"` + acmeURN + `":{"projects":[{"name":"X","role":"boss"}]}`), []string{"invalidValue"}, []string{acmeURN + ":projects.role"}},
			{"duplicate userName", `{"schemas":["` + userURN + `"],"userName":"SEED.errors@example.com"}`, nil, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s.needs(t, "User", c.needs...)
				r := s.do(t, http.MethodPost, "/Users", c.body)
				status := http.StatusBadRequest
				if c.name == "duplicate userName" {
					status, c.scimTypes = http.StatusConflict, []string{"uniqueness"}
				}
				r.wantError(t, status, c.scimTypes...)
			})
		}
		// Nothing half-written.
		if n := s.count(t, "/Users", ""); n != 1 {
			l := s.do(t, http.MethodGet, "/Users", nil).list(t)
			t.Errorf("after the rejected POSTs there are %d users (%v), want only the seed", n, l.ids())
		}
		if n := s.count(t, "/Users", `userName eq "rejected.user@example.com"`); n != 0 {
			t.Errorf("a rejected POST stored its user")
		}
	})

	t.Run("bad PUT bodies leave the user unchanged", func(t *testing.T) {
		before := s.do(t, http.MethodGet, "/Users/"+seedID, nil).want(t, http.StatusOK)
		bodies := []string{
			`{bad`,
			`{"schemas":["` + userURN + `"],"userName":5}`,
			`{"schemas":["` + userURN + `"],"name":{"givenName":"changed"}}`,
		}
		if s.has(t, "User", "emails.type") {
			bodies = append(bodies, `{"schemas":["`+userURN+`"],"userName":"changed@example.com","emails":[{"value":"a@example.com","type":"bogus"}]}`)
		}
		if s.has(t, "User", acmeURN+":hireDate") {
			bodies = append(bodies, `{"schemas":["`+userURN+`"],"userName":"changed@example.com","`+acmeURN+`":{"hireDate":"yesterday"}}`)
		}
		for _, b := range bodies {
			s.do(t, http.MethodPut, "/Users/"+seedID, b).wantError(t, http.StatusBadRequest)
		}
		after := s.do(t, http.MethodGet, "/Users/"+seedID, nil).want(t, http.StatusOK)
		if string(after.Body) != string(before.Body) {
			t.Errorf("rejected PUTs changed the user:\nbefore %s\nafter  %s", before.Body, after.Body)
		}
	})

	t.Run("string booleans are accepted (Q2)", func(t *testing.T) {
		for i, v := range []string{`"False"`, `"false"`, `"FALSE"`} {
			r := s.do(t, http.MethodPost, "/Users", fmt.Sprintf(`{"schemas":["%s"],"userName":"stringbool%d@example.com","active":%s}`, userURN, i, v)).want(t, http.StatusCreated)
			if r.JSON["active"] != false {
				t.Errorf("%s with active %s: active = %#v, want the JSON boolean false", r.desc, v, r.JSON["active"])
			}
			s.do(t, http.MethodDelete, "/Users/"+str(r.JSON, "id"), nil).want(t, http.StatusNoContent)
		}
	})

	t.Run("readOnly input is ignored", func(t *testing.T) {
		b := newUser("readonly.input@example.com")
		b["id"] = "client-chosen-id"
		b["meta"] = obj{"resourceType": "Group", "created": "2001-01-01T00:00:00Z", "lastModified": "2001-01-01T00:00:00Z", "location": "https://evil.example.com/Users/x", "version": `W/"99"`}
		b["groups"] = arr{obj{"value": "some-group", "display": "Admins"}}
		u := s.create(t, "/Users", b)
		id := str(u, "id")
		if id == "client-chosen-id" || str(u, "meta", "resourceType") != "User" || strings.HasPrefix(str(u, "meta", "created"), "2001") ||
			!strings.HasPrefix(str(u, "meta", "location"), s.base) {
			t.Errorf("readOnly input was honoured: %v", u)
		}
		if gs, ok := u["groups"].([]any); ok && len(gs) != 0 {
			t.Errorf("client-sent groups were stored: %v", gs)
		}
		s.do(t, http.MethodGet, "/Users/client-chosen-id", nil).wantError(t, http.StatusNotFound)
		s.do(t, http.MethodDelete, "/Users/"+id, nil).want(t, http.StatusNoContent)
	})

	t.Run("unknown ids", func(t *testing.T) {
		missing := "3f0e2f8a-0000-4000-8000-00000000dead"
		for _, ep := range []string{"/Users/", "/Groups/"} {
			s.do(t, http.MethodGet, ep+missing, nil).wantError(t, http.StatusNotFound)
			s.do(t, http.MethodDelete, ep+missing, nil).wantError(t, http.StatusNotFound)
		}
		s.do(t, http.MethodPut, "/Users/"+missing, newUser("ghost@example.com")).wantError(t, http.StatusNotFound)
		s.do(t, http.MethodPut, "/Groups/"+missing, obj{"schemas": arr{groupURN}, "displayName": "Ghost"}).wantError(t, http.StatusNotFound)
		if n := s.count(t, "/Users", `userName eq "ghost@example.com"`); n != 0 {
			t.Errorf("PUT to an unknown id created a user")
		}
		if n := s.count(t, "/Groups", ""); n != 0 {
			t.Errorf("PUT to an unknown id created a group")
		}
	})

	t.Run("unknown routes", func(t *testing.T) {
		for _, u := range []string{s.base + "/Nope", s.root + "/", s.root + "/scim/v1/Users", s.base + "/Users/" + seedID + "/extra", s.base + "/Me"} {
			s.doURL(t, http.MethodGet, u, nil).wantError(t, http.StatusNotFound)
		}
	})

	t.Run("wrong methods", func(t *testing.T) {
		for _, c := range []struct{ method, target string }{
			{http.MethodPatch, "/ServiceProviderConfig"},
			{http.MethodDelete, "/Users"},
			{http.MethodPut, "/Groups"},
			{http.MethodPost, "/Schemas"},
			{http.MethodDelete, "/ResourceTypes/User"},
			{http.MethodPost, "/Users/" + seedID},
		} {
			var body any
			if c.method != http.MethodDelete {
				body = obj{"schemas": arr{userURN}}
			}
			r := s.do(t, c.method, c.target, body)
			r.wantError(t, http.StatusMethodNotAllowed)
			if r.Header.Get("Allow") == "" {
				t.Errorf("%s: 405 without an Allow header", r.desc)
			}
		}
		s.do(t, http.MethodGet, "/Users/"+seedID, nil).want(t, http.StatusOK)
	})

	t.Run("authentication", func(t *testing.T) {
		for _, auth := range []string{"", "non-token", "Bearer", "Bearer ", "Bearer wrong-token-0123456789", "Basic " + token, "Bearer " + token + "x", "Bearer " + strings.ToUpper(token)} {
			for _, target := range []string{"/Users", "/ServiceProviderConfig", "/Users/" + seedID} {
				var r *response
				if auth == "" {
					r = s.do(t, http.MethodGet, target, nil, "Authorization", "")
				} else {
					r = s.do(t, http.MethodGet, target, nil, "Authorization", auth)
				}
				r.wantError(t, http.StatusUnauthorized)
				if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(strings.ToLower(h), "bearer") {
					t.Errorf("%s with Authorization %q: WWW-Authenticate %q", r.desc, auth, h)
				}
			}
		}
		s.do(t, http.MethodPost, "/Users", newUser("anonymous@example.com"), "Authorization", "").wantError(t, http.StatusUnauthorized)
		if n := s.count(t, "/Users", `userName eq "anonymous@example.com"`); n != 0 {
			t.Errorf("an unauthenticated POST created a user")
		}
		// The scheme name is case-insensitive (RFC 7235 §2.1).
		s.do(t, http.MethodGet, "/Users/"+seedID, nil, "Authorization", "bearer "+token).want(t, http.StatusOK)
	})

	t.Run("content types", func(t *testing.T) {
		for _, ct := range []string{"text/xml", "text/plain", "application/x-www-form-urlencoded"} {
			s.do(t, http.MethodPost, "/Users", newUser("xml.user@example.com"), "Content-Type", ct).wantError(t, http.StatusUnsupportedMediaType)
			s.do(t, http.MethodPut, "/Users/"+seedID, newUser("xml.user@example.com"), "Content-Type", ct).wantError(t, http.StatusUnsupportedMediaType)
		}
		if n := s.count(t, "/Users", `userName eq "xml.user@example.com"`); n != 0 {
			t.Errorf("a 415 request stored a user")
		}
		// E16/Q14: application/json and charset parameters are fine.
		for i, ct := range []string{"application/json", "application/json; charset=utf-8", "application/scim+json; charset=utf-8", "Application/SCIM+JSON"} {
			r := s.do(t, http.MethodPost, "/Users", newUser(fmt.Sprintf("ct%d@example.com", i)), "Content-Type", ct)
			r.want(t, http.StatusCreated)
		}
	})

	t.Run("body too large", func(t *testing.T) {
		big := `{"schemas":["` + userURN + `"],"userName":"big.user@example.com","displayName":"` + strings.Repeat("x", 2<<20) + `"}`
		s.do(t, http.MethodPost, "/Users", big).wantError(t, http.StatusRequestEntityTooLarge)
		if n := s.count(t, "/Users", `userName eq "big.user@example.com"`); n != 0 {
			t.Errorf("an oversized POST stored a user")
		}
	})

	// E11 / [MS1] say type values should be unique within a multi-valued
	// attribute, but RFC 7643 has no such rule and Microsoft's own SCIM test
	// collection creates users with two "work" emails and expects 201. The
	// server accepts them and returns exactly what was sent (E9: no
	// rewriting), in order.
	t.Run("repeated type values are stored as sent", func(t *testing.T) {
		body := `{"schemas":["` + userURN + `"],"userName":"dup.type@example.com","emails":[{"value":"one@example.com","type":"work"},{"value":"two@example.com","type":"work"}]}`
		r := s.do(t, http.MethodPost, "/Users", body)
		r.want(t, http.StatusCreated)
		vals, _ := r.JSON["emails"].([]any)
		if len(vals) != 2 || str(vals, 0, "value") != "one@example.com" || str(vals, 1, "value") != "two@example.com" {
			t.Errorf("emails not returned as sent: %s", r.Body)
		}
		s.do(t, http.MethodDelete, "/Users/"+str(r.JSON, "id"), nil).want(t, http.StatusNoContent)
	})

	t.Run("invalid filters", func(t *testing.T) {
		for _, c := range []struct{ endpoint, filter string }{
			{"/Users", `userName eq`},
			{"/Users", `nosuchattr eq "x"`},
			{"/Users", `userName xx "a"`},
			{"/Users", `(userName eq "a"`},
			{"/Users", `userName eq "a" and`},
			{"/Users", `userName eq "unterminated`},
			{"/Users", `emails[type eq "work"`},
			{"/Users", `emails[type eq "work"].nosuch eq "x"`},
			{"/Users", `name.nosuch eq "x"`},
			{"/Users", `urn:example:bogus:2.0:User:x eq "1"`},
			{"/Users", acmeURN + `:clearanceLevel gt "abc"`},
			{"/Users", `active co "t"`},
			{"/Users", `meta.created gt "not-a-date"`},
			{"/Users", `userName gt null`},
			{"/Users", `password eq "x"`},
			{"/Users", `userName`},
			{"/Groups", `nosuchattr eq "x"`},
			{"/Groups", `displayName eq`},
		} {
			r := s.do(t, http.MethodGet, c.endpoint+"?"+filterQ(c.filter), nil)
			r.wantError(t, http.StatusBadRequest, "invalidFilter")
			if r.JSON != nil && has(r.JSON, "Resources") {
				t.Errorf("%s: an invalid filter returned resources: %s", r.desc, r.Body)
			}
		}
	})

	t.Run("bad list parameters", func(t *testing.T) {
		for _, q := range []string{"count=abc", "startIndex=x", "count=1.5"} {
			s.do(t, http.MethodGet, "/Users?"+q, nil).wantError(t, http.StatusBadRequest)
		}
	})
}

// TestProjection: attributes and excludedAttributes (RFC 7644 §3.4.2.5,
// Q16).
func TestProjection(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.needs(t, "User", basicUser...)
	b := newUser("projected.user@example.com")
	b["displayName"] = "Projected User"
	// Each extension of the app's User takes part where the app has it;
	// the cases about one need it.
	if s.has(t, "User", "password") {
		b["password"] = "Pr0jected-secret"
	}
	var exts []string
	if s.has(t, "User", enterpriseURN+":employeeNumber") && s.has(t, "User", enterpriseURN+":department") {
		b[enterpriseURN] = obj{"employeeNumber": "701984", "department": "Tour Operations"}
		exts = append(exts, enterpriseURN)
	}
	if s.has(t, "User", acmeURN+":badgeNumber") {
		b[acmeURN] = obj{"badgeNumber": "P-1"}
		exts = append(exts, acmeURN)
	}
	u := s.create(t, "/Users", b)
	id := str(u, "id")
	grp := s.create(t, "/Groups", obj{"schemas": arr{groupURN}, "displayName": "Projected Group", "members": arr{obj{"value": id}}})

	only := func(desc string, res map[string]any, allowed ...string) {
		t.Helper()
		for _, k := range keys(res) {
			if k != "id" && k != "schemas" && !slices.Contains(allowed, k) {
				t.Errorf("%s: unexpected attribute %q in %v", desc, k, keys(res))
			}
		}
		if str(res, "id") != id {
			t.Errorf("%s: id %q, want %q (id is returned always)", desc, str(res, "id"), id)
		}
	}
	// Each case runs on GET by id and on a filtered list.
	cases := []struct {
		query string
		check func(desc string, res map[string]any)
	}{
		{"attributes=userName", func(desc string, res map[string]any) {
			only(desc, res, "userName")
			if str(res, "userName") != "projected.user@example.com" {
				t.Errorf("%s: userName missing", desc)
			}
		}},
		{"attributes=USERNAME", func(desc string, res map[string]any) {
			only(desc, res, "userName")
			if str(res, "userName") == "" {
				t.Errorf("%s: userName missing (attribute names are case-insensitive)", desc)
			}
		}},
		{"attributes=id", func(desc string, res map[string]any) { only(desc, res) }},
		{"attributes=password", func(desc string, res map[string]any) { only(desc, res) }},
		{"attributes=password,userName", func(desc string, res map[string]any) { only(desc, res, "userName") }},
		{"attributes=name.givenName", func(desc string, res map[string]any) {
			only(desc, res, "name")
			if got := keys(res["name"]); !slices.Equal(got, []string{"givenName"}) {
				t.Errorf("%s: name has %v, want [givenName]", desc, got)
			}
		}},
		{"attributes=emails.value", func(desc string, res map[string]any) {
			only(desc, res, "emails")
			if got := keys(at(res, "emails", 0)); !slices.Equal(got, []string{"value"}) {
				t.Errorf("%s: emails[0] has %v, want [value]", desc, got)
			}
		}},
		{"attributes=userName,emails", func(desc string, res map[string]any) {
			only(desc, res, "userName", "emails")
			if str(res, "emails", 0, "value") == "" || str(res, "userName") == "" {
				t.Errorf("%s: userName or emails missing: %v", desc, res)
			}
		}},
		{"attributes=" + enterpriseURN + ":employeeNumber", func(desc string, res map[string]any) {
			only(desc, res, enterpriseURN)
			if got := keys(res[enterpriseURN]); !slices.Equal(got, []string{"employeeNumber"}) || str(res, enterpriseURN, "employeeNumber") != "701984" {
				t.Errorf("%s: enterprise extension %v, want only employeeNumber 701984", desc, res[enterpriseURN])
			}
		}},
		{"attributes=" + enterpriseURN, func(desc string, res map[string]any) {
			only(desc, res, enterpriseURN)
			if str(res, enterpriseURN, "employeeNumber") != "701984" || str(res, enterpriseURN, "department") != "Tour Operations" {
				t.Errorf("%s: enterprise extension %v, want all of it", desc, res[enterpriseURN])
			}
		}},
		{"excludedAttributes=emails", func(desc string, res map[string]any) {
			if has(res, "emails") {
				t.Errorf("%s: emails returned although excluded", desc)
			}
			for _, k := range append([]string{"userName", "name", "displayName", "meta", "groups"}, exts...) {
				if !has(res, k) {
					t.Errorf("%s: %q missing; only emails is excluded", desc, k)
				}
			}
		}},
		{"excludedAttributes=groups," + acmeURN, func(desc string, res map[string]any) {
			if has(res, "groups") || has(res, acmeURN) {
				t.Errorf("%s: excluded attributes returned: %v", desc, keys(res))
			}
			if !has(res, "userName") || !has(res, enterpriseURN) {
				t.Errorf("%s: too much excluded: %v", desc, keys(res))
			}
		}},
		{"excludedAttributes=id", func(desc string, res map[string]any) {
			if str(res, "id") != id || !has(res, "userName") {
				t.Errorf("%s: id is returned always and userName by default: %v", desc, keys(res))
			}
		}},
	}
	// What the cases about one part of the schema need of it.
	enterprise := []string{enterpriseURN + ":employeeNumber", enterpriseURN + ":department"}
	needs := map[string][]string{
		"attributes=password":                             {"password"},
		"attributes=password,userName":                    {"password"},
		"attributes=" + enterpriseURN + ":employeeNumber": enterprise,
		"attributes=" + enterpriseURN:                     enterprise,
		"excludedAttributes=groups," + acmeURN:            append([]string{acmeURN + ":badgeNumber"}, enterprise...),
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			s.needs(t, "User", needs[c.query]...)
			r := s.do(t, http.MethodGet, "/Users/"+id+"?"+c.query, nil).want(t, http.StatusOK)
			noPassword(t, r)
			c.check(r.desc, r.JSON)
			r = s.do(t, http.MethodGet, "/Users?"+c.query+"&"+filterQ(`userName eq "projected.user@example.com"`), nil)
			l := r.list(t)
			noPassword(t, r)
			if len(l.Resources) != 1 {
				t.Fatalf("%s: %d resources, want 1", r.desc, len(l.Resources))
			}
			c.check(r.desc, l.Resources[0])
		})
	}

	// Groups.
	r := s.do(t, http.MethodGet, "/Groups/"+str(grp, "id")+"?attributes=displayName", nil).want(t, http.StatusOK)
	if has(r.JSON, "members") || str(r.JSON, "displayName") != "Projected Group" || str(r.JSON, "id") != str(grp, "id") {
		t.Errorf("%s: got %s", r.desc, r.Body)
	}
	r = s.do(t, http.MethodGet, "/Groups?attributes=members.value", nil)
	l := r.list(t)
	if len(l.Resources) != 1 || str(l.Resources[0], "members", 0, "value") != id || has(l.Resources[0], "displayName") ||
		!slices.Equal(keys(at(l.Resources[0], "members", 0)), []string{"value"}) {
		t.Errorf("%s: got %s", r.desc, r.Body)
	}
}

// TestDiscovery: /ServiceProviderConfig, /Schemas and /ResourceTypes
// (RFC 7644 §4, AZ-3).
func TestDiscovery(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	// What the server must list is what make generate embedded from this
	// app's schemas/ (generated/discovery), whatever they are.
	set, err := discovery.Load()
	if err != nil {
		t.Fatal(err)
	}
	var wantSchemas, wantTypes []string
	for _, sc := range set.Schemas {
		wantSchemas = append(wantSchemas, sc.ID)
	}
	for _, rt := range set.ResourceTypes {
		wantTypes = append(wantTypes, rt.Name)
	}

	var checkAttrs func(desc string, attrs any)
	checkAttrs = func(desc string, attrs any) {
		a, _ := attrs.([]any)
		for i := range a {
			name := str(a, i, "name")
			if name == "" || str(a, i, "type") == "" {
				t.Errorf("%s: attribute %d has no name or type: %v", desc, i, a[i])
			}
			for key, allowed := range map[string][]string{
				"mutability": {"readOnly", "readWrite", "immutable", "writeOnly"},
				"returned":   {"always", "never", "default", "request"},
				"uniqueness": {"none", "server", "global"},
			} {
				if v, ok := at(a, i, key).(string); ok && !slices.Contains(allowed, v) {
					t.Errorf("%s: %s.%s = %q, want one of %v", desc, name, key, v, allowed)
				}
			}
			checkAttrs(desc+"."+name, at(a, i, "subAttributes"))
		}
	}

	r := s.do(t, http.MethodGet, "/Schemas", nil)
	l := r.list(t)
	noNulls(t, r.desc, r.JSON)
	if l.Total != int64(len(wantSchemas)) || len(l.Resources) != len(wantSchemas) {
		t.Errorf("/Schemas: totalResults %d with %d Resources, want %d", l.Total, len(l.Resources), len(wantSchemas))
	}
	if got := slices.Sorted(slices.Values(l.ids())); !slices.Equal(got, slices.Sorted(slices.Values(wantSchemas))) {
		t.Errorf("/Schemas lists %v, want %v", got, wantSchemas)
	}
	for _, sc := range l.Resources {
		id := str(sc, "id")
		if want := s.base + "/Schemas/" + id; str(sc, "meta", "location") != want {
			t.Errorf("/Schemas: %s meta.location %q, want %q", id, str(sc, "meta", "location"), want)
		}
		if a, _ := sc["attributes"].([]any); len(a) == 0 {
			t.Errorf("/Schemas: %s has no attributes", id)
		}
		checkAttrs(id, sc["attributes"])
	}

	attrNames := func(doc map[string]any) []string {
		var out []string
		a, _ := doc["attributes"].([]any)
		for i := range a {
			out = append(out, str(a, i, "name"))
		}
		return out
	}
	attr := func(doc map[string]any, name string) any {
		a, _ := doc["attributes"].([]any)
		for i := range a {
			if str(a, i, "name") == name {
				return a[i]
			}
		}
		return nil
	}
	for _, urn := range wantSchemas {
		r := s.do(t, http.MethodGet, "/Schemas/"+urn, nil).want(t, http.StatusOK)
		noNulls(t, r.desc, r.JSON)
		if str(r.JSON, "id") != urn || str(r.JSON, "meta", "location") != s.base+"/Schemas/"+urn || str(r.JSON, "meta", "resourceType") != "Schema" {
			t.Errorf("%s: id %q meta %v", r.desc, str(r.JSON, "id"), r.JSON["meta"])
		}
		// The document is the schema's, attribute for attribute.
		var want []string
		for _, a := range set.Schema(urn).Attributes {
			want = append(want, a.Name)
		}
		if got := attrNames(r.JSON); !slices.Equal(got, want) {
			t.Errorf("%s: attributes %v, want %v", r.desc, got, want)
		}
		for _, a := range set.Schema(urn).Attributes {
			for k, v := range map[string]string{"mutability": string(a.Mutability), "returned": string(a.Returned), "uniqueness": string(a.Uniqueness), "type": string(a.Type)} {
				if got := str(attr(r.JSON, a.Name), k); got != v {
					t.Errorf("%s: %s.%s = %q, want %q", r.desc, a.Name, k, got, v)
				}
			}
		}
	}
	s.do(t, http.MethodGet, "/Schemas/urn:example:no:such:schema", nil).wantError(t, http.StatusNotFound)

	r = s.do(t, http.MethodGet, "/ResourceTypes", nil)
	l = r.list(t)
	// In the generated order: RFC 7643's User and Group first (Microsoft's
	// collection reads the first), then the app's own by name.
	if got := l.ids(); l.Total != int64(len(wantTypes)) || !slices.Equal(got, wantTypes) {
		t.Errorf("/ResourceTypes: total %d ids %v, want %v", l.Total, got, wantTypes)
	}
	for _, rt := range set.ResourceTypes {
		r = s.do(t, http.MethodGet, "/ResourceTypes/"+rt.Name, nil).want(t, http.StatusOK)
		noNulls(t, r.desc, r.JSON)
		if str(r.JSON, "endpoint") != rt.Endpoint || str(r.JSON, "schema") != rt.Schema || str(r.JSON, "meta", "location") != s.base+"/ResourceTypes/"+rt.Name {
			t.Errorf("%s: got %s", r.desc, r.Body)
		}
		exts, _ := r.JSON["schemaExtensions"].([]any)
		if len(exts) != len(rt.SchemaExtensions) {
			t.Errorf("%s: schemaExtensions %v, want %v", r.desc, exts, rt.SchemaExtensions)
			continue
		}
		for i, e := range rt.SchemaExtensions {
			if str(exts, i, "schema") != e.Schema || at(exts, i, "required") != e.Required {
				t.Errorf("%s: extension %d is %v, want %+v", r.desc, i, exts[i], e)
			}
		}
	}
	s.do(t, http.MethodGet, "/ResourceTypes/Nope", nil).wantError(t, http.StatusNotFound)

	r = s.do(t, http.MethodGet, "/ServiceProviderConfig", nil).want(t, http.StatusOK)
	spc := r.JSON
	noNulls(t, r.desc, spc)
	if !slices.Contains(strs(spc["schemas"]), "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig") {
		t.Errorf("%s: schemas %v", r.desc, spc["schemas"])
	}
	for _, feature := range []string{"patch", "etag", "changePassword"} {
		if at(spc, feature, "supported") != true {
			t.Errorf("%s: %s.supported = %#v, want true", r.desc, feature, at(spc, feature, "supported"))
		}
	}
	if at(spc, "filter", "supported") != true {
		t.Errorf("%s: filter.supported = %#v, want true", r.desc, at(spc, "filter", "supported"))
	}
	if n, ok := intOf(at(spc, "filter", "maxResults")); !ok || n != 1000 {
		t.Errorf("%s: filter.maxResults = %#v, want the integer 1000", r.desc, at(spc, "filter", "maxResults"))
	}
	// POST /Bulk is served (TestBulk) with these limits enforced.
	if at(spc, "bulk", "supported") != true {
		t.Errorf("%s: bulk.supported = %#v, want true", r.desc, at(spc, "bulk", "supported"))
	}
	if n, ok := intOf(at(spc, "bulk", "maxOperations")); !ok || n != 1000 {
		t.Errorf("%s: bulk.maxOperations = %#v, want the integer 1000", r.desc, at(spc, "bulk", "maxOperations"))
	}
	if n, ok := intOf(at(spc, "bulk", "maxPayloadSize")); !ok || n != 4<<20 {
		t.Errorf("%s: bulk.maxPayloadSize = %#v, want the integer %d", r.desc, at(spc, "bulk", "maxPayloadSize"), 4<<20)
	}
	if str(spc, "authenticationSchemes", 0, "type") != "oauthbearertoken" {
		t.Errorf("%s: authenticationSchemes %v", r.desc, spc["authenticationSchemes"])
	}
	if str(spc, "meta", "location") != s.base+"/ServiceProviderConfig" {
		t.Errorf("%s: meta.location %q, want %q", r.desc, str(spc, "meta", "location"), s.base+"/ServiceProviderConfig")
	}
	// sortBy/sortOrder work (TestPaging), so the document must say so
	// (RFC 7643 §5: sort.supported).
	if at(spc, "sort", "supported") != true {
		t.Errorf("%s: sort.supported = %#v, but the server implements sortBy/sortOrder; want true", r.desc, at(spc, "sort", "supported"))
	}
}

// TestAcmeExtension: the custom extension round-trips with its types, is
// filterable and enforces badgeNumber uniqueness.
func TestAcmeExtension(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	// The shipped example extension, with one attribute of each type: an
	// app that dropped it (make drop-example) has nothing to test here.
	s.needs(t, "User", append(basicUser, acmeURN+":badgeNumber", acmeURN+":clearanceLevel", acmeURN+":remoteWorker",
		acmeURN+":hireDate", acmeURN+":fte", acmeURN+":tags", acmeURN+":projects.name", acmeURN+":projects.role",
		acmeURN+":projects.startDate", acmeURN+":projects.primary")...)

	// remoteWorker as the string "True" (Q2); the extension URN in schemas.
	b1 := newUser("acme.lead@example.com")
	b1["schemas"] = arr{userURN, acmeURN}
	b1[acmeURN] = obj{
		"badgeNumber":    "AC-1001",
		"clearanceLevel": 3,
		"remoteWorker":   "True",
		"hireDate":       "2024-03-01T09:00:00Z",
		"fte":            0.5,
		"tags":           arr{"oncall", "Mentor"},
		"projects": arr{
			obj{"name": "Rocket Skates", "role": "lead", "startDate": "2024-04-01T00:00:00Z", "primary": true},
			obj{"name": "Giant Magnet", "role": "member"},
		},
	}
	// The extension URN missing from schemas (Entra, Q10); hireDate with
	// an offset.
	b2 := newUser("acme.member@example.com")
	b2[acmeURN] = obj{
		"badgeNumber":    "AC-1002",
		"clearanceLevel": 1,
		"remoteWorker":   false,
		"hireDate":       "2025-01-15T10:30:00+01:00",
		"fte":            1.0,
		"projects":       arr{obj{"name": "Rocket Skates", "role": "member"}},
	}
	u1 := s.create(t, "/Users", b1)
	u2 := s.create(t, "/Users", b2)
	id1, id2 := str(u1, "id"), str(u2, "id")

	check := func(desc string, u map[string]any) {
		t.Helper()
		if !slices.Contains(strs(u["schemas"]), acmeURN) {
			t.Errorf("%s: schemas %v lack %s", desc, u["schemas"], acmeURN)
		}
		x, _ := u[acmeURN].(map[string]any)
		if x == nil {
			t.Fatalf("%s: no acme extension: %v", desc, u)
		}
		if x["badgeNumber"] != "AC-1001" {
			t.Errorf("%s: badgeNumber %#v", desc, x["badgeNumber"])
		}
		if n, ok := intOf(x["clearanceLevel"]); !ok || n != 3 {
			t.Errorf("%s: clearanceLevel %#v, want the JSON integer 3", desc, x["clearanceLevel"])
		}
		if x["remoteWorker"] != true {
			t.Errorf("%s: remoteWorker %#v, want the JSON boolean true", desc, x["remoteWorker"])
		}
		if h, _ := x["hireDate"].(string); !sameInstant(h, "2024-03-01T09:00:00Z") {
			t.Errorf("%s: hireDate %#v, want 2024-03-01T09:00:00Z", desc, x["hireDate"])
		}
		if f, ok := floatOf(x["fte"]); !ok || f != 0.5 {
			t.Errorf("%s: fte %#v, want the number 0.5", desc, x["fte"])
		}
		if got := strs(x["tags"]); !slices.Equal(got, []string{"oncall", "Mentor"}) {
			t.Errorf("%s: tags %v, want [oncall Mentor] as sent", desc, x["tags"])
		}
		if str(x, "projects", 0, "name") != "Rocket Skates" || str(x, "projects", 0, "role") != "lead" ||
			at(x, "projects", 0, "primary") != true || !sameInstant(str(x, "projects", 0, "startDate"), "2024-04-01T00:00:00Z") ||
			str(x, "projects", 1, "name") != "Giant Magnet" || str(x, "projects", 1, "role") != "member" {
			t.Errorf("%s: projects %v", desc, x["projects"])
		}
		noNulls(t, desc, u)
	}
	check("POST", u1)
	check("GET", s.do(t, http.MethodGet, "/Users/"+id1, nil).want(t, http.StatusOK).JSON)
	if !slices.Contains(strs(u2["schemas"]), acmeURN) || !sameInstant(str(u2, acmeURN, "hireDate"), "2025-01-15T09:30:00Z") {
		t.Errorf("POST with the extension URN missing from schemas: %v", u2)
	}
	if at(u2, acmeURN, "remoteWorker") != false {
		t.Errorf("remoteWorker false came back as %#v", at(u2, acmeURN, "remoteWorker"))
	}

	for _, c := range []struct {
		filter string
		want   []string
	}{
		{acmeURN + `:clearanceLevel gt 2`, []string{id1}},
		{acmeURN + `:clearanceLevel ge 1`, []string{id1, id2}},
		{acmeURN + `:clearanceLevel eq "3"`, []string{id1}},
		{`clearanceLevel lt 3`, []string{id2}},
		{acmeURN + `:projects[role eq "lead"]`, []string{id1}},
		{`projects[role eq "lead"]`, []string{id1}},
		{acmeURN + `:projects[name eq "rocket skates" and role eq "member"]`, []string{id2}},
		{acmeURN + `:projects[name eq "Giant Magnet" and role eq "lead"]`, nil}, // both conditions on one value
		{acmeURN + `:projects.name eq "Giant Magnet"`, []string{id1}},
		{acmeURN + `:remoteWorker eq true`, []string{id1}},
		{acmeURN + `:remoteWorker eq "False"`, []string{id2}},
		{acmeURN + `:hireDate gt "2024-12-31T00:00:00Z"`, []string{id2}},
		{acmeURN + `:hireDate eq "2025-01-15T09:30:00Z"`, []string{id2}},
		{acmeURN + `:fte lt 1`, []string{id1}},
		{acmeURN + `:tags eq "ONCALL"`, []string{id1}},
		{acmeURN + `:tags pr`, []string{id1}},
		{acmeURN + `:badgeNumber eq "AC-1002"`, []string{id2}},
		{acmeURN + `:badgeNumber eq "ac-1002"`, nil}, // caseExact
		{acmeURN + `:badgeNumber sw "AC-"`, []string{id1, id2}},
	} {
		l := s.find(t, "/Users", c.filter)
		if got, want := slices.Sorted(slices.Values(l.ids())), slices.Sorted(slices.Values(c.want)); !slices.Equal(got, want) {
			t.Errorf("filter %s: %v, want %v", c.filter, got, want)
		}
	}

	// badgeNumber is unique (uniqueness "server"), compared case-sensitively.
	dup := newUser("acme.dup@example.com")
	dup[acmeURN] = obj{"badgeNumber": "AC-1001"}
	s.do(t, http.MethodPost, "/Users", dup).wantError(t, http.StatusConflict, "uniqueness")
	if n := s.count(t, "/Users", `userName eq "acme.dup@example.com"`); n != 0 {
		t.Errorf("the rejected duplicate badge stored a user")
	}
	b2put := newUser("acme.member@example.com")
	b2put[acmeURN] = obj{"badgeNumber": "AC-1001"}
	s.do(t, http.MethodPut, "/Users/"+id2, b2put).wantError(t, http.StatusConflict, "uniqueness")
	if got := str(s.do(t, http.MethodGet, "/Users/"+id2, nil).want(t, http.StatusOK).JSON, acmeURN, "badgeNumber"); got != "AC-1002" {
		t.Errorf("after the rejected PUT the badge is %q, want AC-1002", got)
	}
	dup[acmeURN] = obj{"badgeNumber": "ac-1001"}
	s.create(t, "/Users", dup)

	// PUT without the extension removes it.
	r := s.do(t, http.MethodPut, "/Users/"+id2, newUser("acme.member@example.com")).want(t, http.StatusOK)
	if has(r.JSON, acmeURN) || slices.Contains(strs(r.JSON["schemas"]), acmeURN) {
		t.Errorf("PUT without the extension kept it: %s", r.Body)
	}
	if l := s.find(t, "/Users", acmeURN+`:badgeNumber eq "AC-1002"`); l.Total != 0 {
		t.Errorf("the removed badge is still found")
	}
	// ... and frees its badge number.
	reuse := newUser("acme.reuse@example.com")
	reuse[acmeURN] = obj{"badgeNumber": "AC-1002"}
	s.create(t, "/Users", reuse)
}

// TestRestartPersistence: data survives a restart on the same SQLite file
// and the migrations do not run again destructively.
func TestRestartPersistence(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	s := startServer(t, db)
	s.needs(t, "User", basicUser...)
	b := newUser("persistent.user@example.com")
	filters := []string{`userName eq "PERSISTENT.user@example.com"`, `emails[type eq "work"].value eq "persistent.user@example.com"`}
	// The app's extensions and secrets, where it has them, persist too.
	if s.has(t, "User", "password") {
		b["password"] = "Persist-me-1"
	}
	if s.has(t, "User", enterpriseURN+":employeeNumber") && s.has(t, "User", enterpriseURN+":manager") {
		b[enterpriseURN] = obj{"employeeNumber": "42", "manager": "someone"}
		filters = append(filters, enterpriseURN+`:employeeNumber eq "42"`)
	}
	if s.has(t, "User", acmeURN+":badgeNumber") && s.has(t, "User", acmeURN+":projects.role") {
		b[acmeURN] = obj{"badgeNumber": "PB-1", "projects": arr{obj{"name": "Durable", "role": "lead"}}}
		filters = append(filters, acmeURN+`:projects[role eq "lead"]`)
	}
	u := s.create(t, "/Users", b)
	id := str(u, "id")
	g := s.create(t, "/Groups", obj{"schemas": arr{groupURN}, "displayName": "Persistent Group", "members": arr{obj{"value": id}}})
	gid := str(g, "id")
	userBefore := s.do(t, http.MethodGet, "/Users/"+id, nil).want(t, http.StatusOK)
	groupBefore := s.do(t, http.MethodGet, "/Groups/"+gid, nil).want(t, http.StatusOK)
	s.stop(t)

	for round := 1; round <= 2; round++ {
		s2 := startServer(t, db)
		// Hosts differ (new port), so compare without the base URL.
		norm := func(r *response, base string) string { return strings.ReplaceAll(string(r.Body), base, "BASE") }
		r := s2.do(t, http.MethodGet, "/Users/"+id, nil).want(t, http.StatusOK)
		if norm(r, s2.base) != norm(userBefore, s.base) {
			t.Errorf("restart %d: user changed:\nbefore %s\nafter  %s", round, userBefore.Body, r.Body)
		}
		r = s2.do(t, http.MethodGet, "/Groups/"+gid, nil).want(t, http.StatusOK)
		if norm(r, s2.base) != norm(groupBefore, s.base) {
			t.Errorf("restart %d: group changed:\nbefore %s\nafter  %s", round, groupBefore.Body, r.Body)
		}
		for _, f := range append(filters, `groups.value eq "`+gid+`"`) {
			if l := s2.find(t, "/Users", f); !slices.Equal(l.ids(), []string{id}) {
				t.Errorf("restart %d: filter %s finds %v, want [%s]", round, f, l.ids(), id)
			}
		}
		// The unique indexes survived too.
		s2.do(t, http.MethodPost, "/Users", newUser("Persistent.User@example.com")).wantError(t, http.StatusConflict, "uniqueness")
		// And the store still takes writes.
		s2.create(t, "/Users", newUser(fmt.Sprintf("after.restart.%d@example.com", round)))
		if n := s2.count(t, "/Users", ""); n != int64(1+round) {
			t.Errorf("restart %d: %d users, want %d", round, n, 1+round)
		}
		s2.stop(t)
	}
}

// TestUserNameCaseInsensitiveBeyondASCII: userName is caseExact false
// (RFC 7643 §4.1.1, Q18), so uniqueness and filters must fold case for
// every letter, not only A-Z.
func TestUserNameCaseInsensitiveBeyondASCII(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	u := s.create(t, "/Users", newUser("Ärger.Øyvind@example.com"))
	for _, v := range []string{"ärger.øyvind@example.com", "ÄRGER.ØYVIND@EXAMPLE.COM"} {
		l := s.find(t, "/Users", `userName eq "`+v+`"`)
		if !slices.Equal(l.ids(), []string{str(u, "id")}) {
			t.Errorf("filter userName eq %q: %v, want [%s]", v, l.ids(), str(u, "id"))
		}
	}
	s.do(t, http.MethodPost, "/Users", newUser("ärger.øyvind@example.com")).wantError(t, http.StatusConflict, "uniqueness")
	if n := s.count(t, "/Users", ""); n != 1 {
		t.Errorf("%d users, want 1: a userName differing only in the case of non-ASCII letters was accepted as new", n)
	}
}

// TestFilterOperators: the RFC 7644 §3.4.2.2 grammar as the server
// compiles it to SQL: every operator, logical precedence, value paths,
// escaping, and LIKE wildcards taken literally.
func TestFilterOperators(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.needs(t, "User", "title", "name.givenName", "name.familyName", "emails", "phoneNumbers", "active", "userType", "ims")
	alice := obj{
		"schemas": arr{userURN}, "userName": "alice@example.com", "displayName": "Alice Smith", "title": "Engineer",
		"name":         obj{"givenName": "Alice", "familyName": "Smith"},
		"emails":       arr{obj{"value": "alice@example.com", "type": "work", "primary": true}, obj{"value": "alice@home.org", "type": "home"}},
		"phoneNumbers": arr{obj{"value": "+1 (555) 010-9999", "type": "work"}},
		"active":       true,
	}
	// schemas eq an extension's URN finds the users that have it, with an
	// extension the app has (RFC 7644's example uses the enterprise one).
	var ext string
	if s.has(t, "User", enterpriseURN+":employeeNumber") {
		ext = enterpriseURN
		alice[enterpriseURN] = obj{"employeeNumber": "A-1"}
	} else {
		t.Logf("no enterprise extension in this app: schemas eq <extension URN> is not checked")
	}
	a := s.create(t, "/Users", alice)
	b := s.create(t, "/Users", obj{
		"schemas": arr{userURN}, "userName": "bob_b@example.com", "displayName": "Bob 100%", "title": "Manager",
		"name":   obj{"givenName": "Bob", "familyName": "Jones"},
		"emails": arr{obj{"value": "bob@example.com", "type": "work"}},
		"active": false,
	})
	c := s.create(t, "/Users", obj{"schemas": arr{userURN}, "userName": `q"uo\te@example.com`, "active": true})
	A, B, C := str(a, "id"), str(b, "id"), str(c, "id")
	if got := str(a, "phoneNumbers", 0, "value"); got != "+1 (555) 010-9999" {
		t.Errorf("phone number reformatted to %q (E9)", got)
	}

	cases := []struct {
		filter string
		want   []string
	}{
		{`userName eq "ALICE@example.com"`, []string{A}},
		{`displayName eq "alice smith"`, []string{A}},
		{`userName co "_"`, []string{B}},
		{`displayName co "%"`, []string{B}},
		{`displayName ew "100%"`, []string{B}},
		{`userName co "e@"`, []string{A, C}},
		{`userName sw "ALICE"`, []string{A}},
		{`userName ew "@EXAMPLE.com"`, []string{A, B, C}},
		{`userName eq "q\"uo\\te@example.com"`, []string{C}},
		{`userName co "\""`, []string{C}},
		{`title ne "Engineer"`, []string{B, C}},
		{`title pr`, []string{A, B}},
		{`not (title pr)`, []string{C}},
		{`emails pr`, []string{A, B}},
		{`emails co "home.org"`, []string{A}},
		{`emails.type eq "home"`, []string{A}},
		{`emails[type eq "home"]`, []string{A}},
		{`emails[type eq "work" and primary eq true]`, []string{A}},
		{`emails[type eq "work" and value co "bob"]`, []string{B}},
		{`emails[type eq "home" and value co "bob"]`, nil},
		{`emails[not (type eq "work")]`, []string{A}},
		{`phoneNumbers[type eq "work"].value eq "+1 (555) 010-9999"`, []string{A}},
		{`active eq true`, []string{A, C}},
		{`active eq false`, []string{B}},
		{`active ne true`, []string{B}},
		{`active eq "TRUE"`, []string{A, C}},
		{`title eq "Engineer" or title eq "Manager"`, []string{A, B}},
		{`title eq "Engineer" or title eq "Manager" and active eq true`, []string{A}},
		{`(title eq "Engineer" or title eq "Manager") and active eq false`, []string{B}},
		{`not (active eq true) and userName sw "b"`, []string{B}},
		{`name.familyName gt "K"`, []string{A}},
		{`name.familyName le "jones"`, []string{B}},
		{`name.familyName lt "a"`, nil},
		{`meta.created gt "2000-01-01T00:00:00Z"`, []string{A, B, C}},
		{`meta.created lt "2000-01-01T00:00:00Z"`, nil},
		{`meta.lastModified ge "` + str(c, "meta", "lastModified") + `"`, []string{C}},
		// RFC 7644 §3.4.2.2 examples.
		{`schemas eq "` + userURN + `"`, []string{A, B, C}},
		{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`, []string{C}},
		{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`, []string{A, B}},
		{`id eq "` + B + `"`, []string{B}},
		{`id eq "` + strings.ToUpper(B) + `"`, nil}, // ids are case-sensitive
		{`id eq "` + A + `" or id eq "` + C + `"`, []string{A, C}},
	}
	if ext != "" {
		cases = append(cases, struct {
			filter string
			want   []string
		}{`schemas eq "` + ext + `"`, []string{A}})
	}
	for _, tc := range cases {
		r := s.do(t, http.MethodGet, "/Users?"+filterQ(tc.filter), nil)
		if !r.check(t, http.StatusOK) {
			continue
		}
		l := r.list(t)
		got, want := slices.Sorted(slices.Values(l.ids())), slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(got, want) || l.Total != int64(len(want)) {
			t.Errorf("filter %s: totalResults %d ids %v, want %v", tc.filter, l.Total, got, want)
		}
	}
}
