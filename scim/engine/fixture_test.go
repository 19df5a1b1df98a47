package engine_test

import (
	"log/slog"
	"testing"

	"github.com/scimforge/scimforge/internal/fixture/generated/discovery"
	"github.com/scimforge/scimforge/internal/fixture/generated/resource"
	"github.com/scimforge/scimforge/internal/fixture/generated/store"
	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

// fixtureServer is the engine over the test fixture's generated User and
// Group (internal/fixture), not the app's generated/: these tests pin the
// engine's behaviour, which must not change when an app edits schemas/.
type fixtureServer struct {
	Users  *engine.Service[resource.User]
	Groups *engine.Service[resource.Group]
}

func newFixtureServer(t *testing.T, db *sqlstore.DB) *fixtureServer {
	t.Helper()
	set, err := discovery.Load()
	if err != nil {
		t.Fatal(err)
	}
	env := &engine.Env{DB: db, Log: slog.New(slog.DiscardHandler)}
	return &fixtureServer{
		Users:  engine.New(store.UserDescriptor(set.ResourceType("User")), env, resource.UnimplementedUserHooks{}),
		Groups: engine.New(store.GroupDescriptor(set.ResourceType("Group")), env, resource.UnimplementedGroupHooks{}),
	}
}
