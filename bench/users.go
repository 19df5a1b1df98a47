package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
)

const (
	coreUserURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	enterpriseUserURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

var (
	givenNames = []string{
		"Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Dennis",
		"Margaret", "Ken", "Radia", "Niklaus", "Sophie", "Tony", "Hedy", "Claude",
		"Katherine", "John", "Mary", "Leslie", "Shafi", "Robin", "Anita", "Vint",
		"Adele", "Bjarne", "Joan", "Guido", "Lynn", "Linus", "Jean", "Yukihiro",
	}
	familyNames = []string{
		"Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Ritchie",
		"Hamilton", "Thompson", "Perlman", "Wirth", "Wilson", "Hoare", "Lamarr", "Shannon",
		"Johnson", "McCarthy", "Jackson", "Lamport", "Goldwasser", "Milner", "Borg", "Cerf",
		"Goldberg", "Stroustrup", "Clarke", "van Rossum", "Conway", "Torvalds", "Sammet", "Matsumoto",
	}
	departments = []string{"Engineering", "Sales", "Finance", "Human Resources", "Legal", "Support", "Marketing"}
	titles      = []string{"Software Engineer", "Account Executive", "Analyst", "Manager", "Counsel", "Support Engineer", "Designer"}
)

// entraUser is a POST /Users body shaped like the ones Microsoft Entra ID
// (Azure AD) sends with its default attribute mappings. It has no password:
// Entra never sends one, and hashing it (bcrypt) would dominate the figure.
type entraUser struct {
	Schemas     []string        `json:"schemas"`
	ExternalID  string          `json:"externalId"`
	UserName    string          `json:"userName"`
	Active      bool            `json:"active"`
	DisplayName string          `json:"displayName"`
	Title       string          `json:"title"`
	Emails      []entraEmail    `json:"emails"`
	Meta        entraMeta       `json:"meta"`
	Name        entraName       `json:"name"`
	Enterprise  entraEnterprise `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
}

type entraEmail struct {
	Primary bool   `json:"primary"`
	Type    string `json:"type"`
	Value   string `json:"value"`
}

type entraMeta struct {
	ResourceType string `json:"resourceType"`
}

type entraName struct {
	Formatted  string `json:"formatted"`
	FamilyName string `json:"familyName"`
	GivenName  string `json:"givenName"`
}

type entraEnterprise struct {
	EmployeeNumber string `json:"employeeNumber"`
	Department     string `json:"department"`
}

// userBody returns the i-th user's userName and POST body. userNames are
// unique per i; externalId is a random UUID, like an Entra object id.
func userBody(i int, rng *rand.Rand) (userName string, body []byte) {
	given := givenNames[i%len(givenNames)]
	family := familyNames[(i/len(givenNames))%len(familyNames)]
	userName = fmt.Sprintf("%s.%s%d@contoso.com", given, strings.ReplaceAll(family, " ", ""), i)
	u := entraUser{
		Schemas:     []string{coreUserURN, enterpriseUserURN},
		ExternalID:  uuid4(rng),
		UserName:    userName,
		Active:      true,
		DisplayName: given + " " + family,
		Title:       titles[i%len(titles)],
		Emails:      []entraEmail{{Primary: true, Type: "work", Value: userName}},
		Meta:        entraMeta{ResourceType: "User"},
		Name:        entraName{Formatted: given + " " + family, FamilyName: family, GivenName: given},
		Enterprise:  entraEnterprise{EmployeeNumber: fmt.Sprintf("%06d", 100000+i), Department: departments[i%len(departments)]},
	}
	body, err := json.Marshal(u)
	if err != nil {
		panic(err) // plain strings and bools always marshal
	}
	return userName, body
}

func uuid4(rng *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// mixCase flips the case of each ASCII letter of s with probability 1/2,
// so that filters exercise the case-insensitive userName match.
func mixCase(s string, rng *rand.Rand) string {
	b := []byte(s)
	for i, c := range b {
		if ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') && rng.IntN(2) == 0 {
			b[i] = c ^ 0x20
		}
	}
	return string(b)
}
