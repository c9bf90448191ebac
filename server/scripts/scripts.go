// Package scripts keeps the administrator's option scripts: every saved version, the one
// in force, validation before saving, revert, and the audit trail. The evaluation itself is
// server/options.
package scripts

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/optionscript"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/events"
	"github.com/vscard/vscard/server/options"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/viewer"
)

// DefaultName is the script "Get virtual smart card" uses.
const DefaultName = "default"

// Script is a named option script with its versions, newest first.
type Script struct {
	Name     string
	Current  *ent.OptionScript
	Versions []*ent.OptionScript
}

// Store reads and writes option scripts.
type Store struct {
	db  *ent.Client
	env options.Env
	// compiled keeps the compiled form of recently evaluated versions by row id: a saved
	// version never changes, and every order evaluates the one in force.
	compiled *lru.Cache[string, *options.Script]

	// inForce is the default script's newest version while a bus tells this store of
	// every save (Follow), so that evaluating it costs no statement; nil: read it.
	mu        sync.Mutex
	inForce   *ent.OptionScript
	following bool
	// generation counts saves heard of: a version read before one is not kept.
	generation uint64
	bus        events.Bus
}

// Key is the event bus key of the option scripts: a save on any instance publishes it.
const Key = "option-scripts"

// Follow has the store keep the script in force between saves, told of every save, on
// this instance or another, by bus (until ctx ends; a bus that reconnects tells every
// subscriber, and the store forgets then too).
func (s *Store) Follow(ctx context.Context, bus events.Bus) error {
	ch, err := bus.Subscribe(ctx, Key)
	if err != nil {
		return fmt.Errorf("follow option scripts: %w", err)
	}
	s.mu.Lock()
	s.bus, s.following = bus, true
	s.mu.Unlock()
	go func() {
		for range ch {
			s.forget(true)
		}
		s.forget(false)
	}()
	return nil
}

// forget drops the script in force, which a save may have changed; still says whether the
// store goes on following saves.
func (s *Store) forget(still bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.generation++
	s.inForce, s.following = nil, still && s.following
}

// current returns the default script in force: the one kept, or read.
func (s *Store) current(ctx context.Context) (*ent.OptionScript, error) {
	s.mu.Lock()
	cur, gen := s.inForce, s.generation
	s.mu.Unlock()
	if cur != nil {
		return cur, nil
	}
	cur, err := s.db.OptionScript.Query().
		Where(optionscript.Name(DefaultName)).
		Order(ent.Desc(optionscript.FieldVersion)).
		First(viewer.AsServer(ctx))
	if err != nil {
		return nil, fmt.Errorf("load option script: %w", err)
	}
	s.mu.Lock()
	if s.following && s.generation == gen { // no save was heard of meanwhile
		s.inForce = cur
	}
	s.mu.Unlock()
	return cur, nil
}

// New returns a store; env is what scripts see of the server.
func New(db *ent.Client, env options.Env) *Store {
	compiled, err := lru.New[string, *options.Script](8)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &Store{db: db, env: env, compiled: compiled}
}

// EnsureDefault creates the default script on first start.
func (s *Store) EnsureDefault(ctx context.Context) error {
	ctx = viewer.AsServer(ctx)
	exists, err := s.db.OptionScript.Query().Where(optionscript.Name(DefaultName)).Exist(ctx)
	if err != nil {
		return fmt.Errorf("look up default option script: %w", err)
	}
	if exists {
		return nil
	}
	_, err = s.save(ctx, DefaultName, options.DefaultScript, "created on first start", "script.create")
	return err
}

// Get returns the script name with all its versions.
func (s *Store) Get(ctx context.Context, name string) (*Script, error) {
	versions, err := s.db.OptionScript.Query().
		Where(optionscript.Name(name)).
		Order(ent.Desc(optionscript.FieldVersion)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load option script: %w", err)
	}
	if len(versions) == 0 {
		return nil, errs.New(errs.NotFound, "There is no option script named %q.", name)
	}
	return &Script{Name: name, Current: versions[0], Versions: versions}, nil
}

// Evaluate runs the default script in force for u. It implements enroll.OptionsSource.
func (s *Store) Evaluate(ctx context.Context, u *ent.User) (*cardspec.Options, string, error) {
	cur, err := s.current(ctx)
	if err != nil {
		return nil, "", err
	}
	script, ok := s.compiled.Get(cur.ID)
	if !ok {
		if script, err = options.Compile(cur.Source); err != nil {
			return nil, "", fmt.Errorf("compile option script v%d: %w", cur.Version, err)
		}
		s.compiled.Add(cur.ID, script)
	}
	opts, err := options.Limits{}.EvaluateScript(ctx, script, UserInput(u), s.env)
	if err != nil {
		return nil, "", fmt.Errorf("evaluate option script v%d: %w", cur.Version, err)
	}
	return opts, strconv.Itoa(cur.Version), nil
}

// Validate evaluates source for u (nil: a sample user) without saving it.
func (s *Store) Validate(ctx context.Context, source string, u *ent.User) (*cardspec.Options, []options.ScriptError) {
	sample := options.Sample()
	if u != nil {
		sample = UserInput(u)
	}
	return options.Validate(ctx, source, sample, s.env)
}

// Update validates source and saves it as the newest version of name.
func (s *Store) Update(ctx context.Context, name, source, comment string) (*Script, error) {
	if _, problems := s.Validate(ctx, source, nil); len(problems) > 0 {
		return nil, errs.New(errs.ScriptError, "The script has %d problem(s); nothing was saved. First: %s",
			len(problems), problems[0].Error()).WithDetails(map[string]any{"errors": problems})
	}
	if _, err := s.save(ctx, name, source, comment, "script.update"); err != nil {
		return nil, err
	}
	return s.Get(ctx, name)
}

// Revert saves an old version again as the newest.
func (s *Store) Revert(ctx context.Context, name string, version int) (*Script, error) {
	old, err := s.db.OptionScript.Query().
		Where(optionscript.Name(name), optionscript.Version(version)).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errs.New(errs.NotFound, "Option script %q has no version %d.", name, version)
	}
	if err != nil {
		return nil, fmt.Errorf("load option script version: %w", err)
	}
	if _, problems := s.Validate(ctx, old.Source, nil); len(problems) > 0 {
		return nil, errs.New(errs.ScriptError, "Version %d no longer validates: %s", version, problems[0].Error()).
			WithDetails(map[string]any{"errors": problems})
	}
	if _, err := s.save(ctx, name, old.Source, fmt.Sprintf("revert to version %d", version), "script.revert"); err != nil {
		return nil, err
	}
	return s.Get(ctx, name)
}

// save appends a version; the unique (name, version) index settles concurrent saves.
func (s *Store) save(ctx context.Context, name, source, comment, action string) (*ent.OptionScript, error) {
	author := "system"
	if v := viewer.FromContext(ctx); v != nil {
		author = v.Name
	}
	s.mu.Lock()
	bus := s.bus
	s.mu.Unlock()
	var row *ent.OptionScript
	err := store.InTx(viewer.AsServer(ctx), s.db, func(ctx context.Context, tx *ent.Tx) error {
		last, err := tx.OptionScript.Query().
			Where(optionscript.Name(name)).
			Aggregate(ent.Max(optionscript.FieldVersion)).
			Int(ctx)
		if err != nil {
			last = 0 // no versions yet: Max over no rows is NULL
		}
		row, err = tx.OptionScript.Create().
			SetName(name).
			SetVersion(last + 1).
			SetSource(source).
			SetAuthor(author).
			SetComment(comment).
			Save(ctx)
		if ent.IsConstraintError(err) {
			return errs.Wrap(err, errs.Conflict, "Someone saved this script at the same time; reload and try again.")
		}
		if err != nil {
			return fmt.Errorf("save option script: %w", err)
		}
		if _, shared := bus.(*events.Postgres); shared {
			// Sent with the commit or not at all, so no instance keeps the old version
			// because a notice after the commit failed.
			if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, $2)", events.Channel, Key); err != nil {
				return fmt.Errorf("tell other instances of the option script: %w", err)
			}
		}
		return audit.Write(ctx, tx.AuditEvent, audit.Entry{
			Action: action, ObjectType: "OptionScript", ObjectID: name,
			Details: map[string]any{"version": row.Version, "comment": comment},
		})
	})
	if err != nil {
		return nil, err
	}
	// This instance evaluates the new version from now on; the others once they hear.
	s.forget(true)
	if _, shared := bus.(*events.Postgres); !shared && bus != nil {
		_ = bus.Publish(viewer.AsServer(ctx), Key) // in this process: it cannot fail
	}
	return row, nil
}

// UserInput is what a script sees of u.
func UserInput(u *ent.User) options.User {
	return options.User{
		ID: u.ID, Username: u.Username, Email: u.Email, DisplayName: u.DisplayName,
		Roles: u.Roles, Attributes: u.Attributes,
	}
}
