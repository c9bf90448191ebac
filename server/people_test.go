package server_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/vscard/vscard/server/servertest"
)

const qPeople = `query($q: String!, $after: Cursor, $first: Int) {
  people(query: $q, after: $after, first: $first) {
    totalCount
    edges { node { username } }
    pageInfo { hasNextPage endCursor }
  }
}`

type peoplePage struct {
	People struct {
		TotalCount int
		Edges      []struct{ Node struct{ Username string } }
		PageInfo   struct {
			HasNextPage bool
			EndCursor   *string
		}
	}
}

func (p peoplePage) names() []string {
	var out []string
	for _, e := range p.People.Edges {
		out = append(out, e.Node.Username)
	}
	return out
}

// TestPeopleSearch: an operator finds people by the start of their username, e-mail or
// display name (in the case typed, lower case, or a capital first letter for names),
// ordered by username and paged; wildcard characters in the query are literal; a plain
// user cannot search.
func TestPeopleSearch(t *testing.T) {
	env := servertest.Start(t)
	olga := env.SignIn(t, servertest.Olga)
	carol := env.SignIn(t, servertest.Carol)
	db := env.Server.DB.Client
	for i := 0; i < 5; i++ {
		db.User.Create().SetOidcIssuer("test").SetOidcSubject(fmt.Sprintf("s%d", i)).
			SetUsername(fmt.Sprintf("zed%d", i)).SetDisplayName(fmt.Sprintf("Zed Number%d", i)).
			SetEmail(fmt.Sprintf("zed%d@corp.test", i)).SaveX(systemCtx())
	}
	db.User.Create().SetOidcIssuer("test").SetOidcSubject("pct").SetUsername("a%b_c").
		SetDisplayName("Percent").SaveX(systemCtx())
	db.User.Create().SetOidcIssuer("test").SetOidcSubject("pct2").SetUsername("axbyc").
		SetDisplayName("Other").SaveX(systemCtx())

	search := func(q string, first int, after *string) peoplePage {
		t.Helper()
		var p peoplePage
		olga.MustDo(t, qPeople, map[string]any{"q": q, "first": first, "after": after}, &p)
		return p
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"carol", []string{"carol"}},
		{"CAROL", []string{"carol"}},      // lower-cased for username
		{"carol@", []string{"carol"}},     // e-mail prefix
		{"zed Number3", []string{"zed3"}}, // display name with a capital first letter
		{"Number", nil},                   // not a prefix
		{"a%b", []string{"a%b_c"}},        // % is literal
		{"a%b_", []string{"a%b_c"}},       // _ is literal
		{"a*", nil},                       // GLOB's * is literal too
		{"zed1@corp", []string{"zed1"}},   //
		{"nobody-has-this", nil},          //
	} {
		if got := search(tc.q, 50, nil).names(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("people(%q) = %v, want %v", tc.q, got, tc.want)
		}
	}

	// Paging: 5 zeds in pages of 2, in username order, none twice.
	var all []string
	var after *string
	for page := 0; ; page++ {
		p := search("zed", 2, after)
		if p.People.TotalCount != 5 {
			t.Fatalf("totalCount = %d, want 5", p.People.TotalCount)
		}
		all = append(all, p.names()...)
		if !p.People.PageInfo.HasNextPage {
			break
		}
		if page > 5 {
			t.Fatal("paging does not end")
		}
		after = p.People.PageInfo.EndCursor
	}
	if want := []string{"zed0", "zed1", "zed2", "zed3", "zed4"}; !reflect.DeepEqual(all, want) {
		t.Errorf("pages = %v, want %v", all, want)
	}

	// A plain user may not search, nor an operator read the option script.
	if err := carol.Do(context.Background(), qPeople, map[string]any{"q": "carol"}, nil); codeOf(err) != "FORBIDDEN" {
		t.Errorf("carol: people got %v, want FORBIDDEN", err)
	}
	if err := olga.Do(context.Background(), `{ optionScript { name } }`, nil, nil); codeOf(err) != "FORBIDDEN" {
		t.Errorf("olga: optionScript got %v, want FORBIDDEN", err)
	}
}
