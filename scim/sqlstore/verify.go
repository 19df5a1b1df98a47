package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// plan is the part of migrations/<dialect>/plan.json (written by the
// generator: the storage plan its migrations produce) that Open checks.
type plan struct {
	Tables []struct {
		Name    string `json:"name"`
		Columns []struct {
			Name string `json:"name"`
		} `json:"columns"`
	} `json:"tables"`
}

// verify checks, after migrating, that every table and column the
// generated code uses exists. A database created by another build (for
// example before generated/ was regenerated from scratch) would otherwise
// fail request by request with 500s; this stops the server at start with
// a message that says what is wrong.
func (db *DB) verify(ctx context.Context, migrations fs.FS, dialect string) error {
	raw, err := fs.ReadFile(migrations, dialect+"/plan.json")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var p plan
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("%s/plan.json: %w", dialect, err)
	}
	var missing []string
	for _, t := range p.Tables {
		var cols []string
		if err := db.Write.NewRaw("SELECT name FROM pragma_table_info(?)", t.Name).Scan(ctx, &cols); err != nil {
			return err
		}
		if len(cols) == 0 {
			missing = append(missing, "table "+t.Name)
			continue
		}
		have := map[string]bool{}
		for _, c := range cols {
			have[c] = true
		}
		for _, c := range t.Columns {
			if !have[c.Name] {
				missing = append(missing, "column "+t.Name+"."+c.Name)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the database does not match this build's migrations (missing %s): it was created by a build "+
			"whose migrations differ. Keep generated/store/migrations under version control and never rewrite them; "+
			"to start over, move the database file away", strings.Join(missing, ", "))
	}
	return nil
}
