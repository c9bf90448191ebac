package handoff

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/goccy/go-yaml"

	"github.com/vscard/vscard/desktop-bridge/internal/atomicfile"
)

// TrustStore decides which servers the bridge carries out processes for. Servers are compared in
// the form CanonicalServer returns.
type TrustStore interface {
	// Trusted reports whether server is on the list.
	Trusted(server string) (bool, error)
	// Trust puts server on the list.
	Trust(server string) error
}

// trustedKey is the key of the list in the configuration file.
const trustedKey = "trusted_servers"

// TrustFile keeps the trusted servers in the bridge's YAML configuration file
// ($XDG_CONFIG_HOME/vscard/bridge.yaml) under trusted_servers. Other keys in the file
// are kept as they are when the list is written (comments are not).
type TrustFile struct {
	path string
	mu   sync.Mutex
}

// NewTrustFile returns the trust list in the configuration file at path. A missing
// file is an empty list.
func NewTrustFile(path string) *TrustFile { return &TrustFile{path: path} }

// DefaultConfigPath returns $XDG_CONFIG_HOME/vscard/bridge.yaml
// (~/.config/vscard/bridge.yaml).
func DefaultConfigPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find configuration directory: %w", err)
	}
	return filepath.Join(dir, "vscard", "bridge.yaml"), nil
}

// Servers returns the trusted servers.
func (t *TrustFile) Servers() ([]string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	doc, err := t.read()
	if err != nil {
		return nil, err
	}
	return servers(doc)
}

// Trusted reports whether server is on the list.
func (t *TrustFile) Trusted(server string) (bool, error) {
	list, err := t.Servers()
	if err != nil {
		return false, err
	}
	canon, err := CanonicalServer(server)
	if err != nil {
		return false, err
	}
	return slices.Contains(list, canon), nil
}

// Trust adds server to the list and writes the file (mode 0600, atomically).
func (t *TrustFile) Trust(server string) error {
	canon, err := CanonicalServer(server)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	doc, err := t.read()
	if err != nil {
		return err
	}
	list, err := servers(doc)
	if err != nil {
		return err
	}
	if slices.Contains(list, canon) {
		return nil
	}
	list = append(list, canon)
	i := slices.IndexFunc(doc, func(it yaml.MapItem) bool { return it.Key == trustedKey })
	if i < 0 {
		doc = append(doc, yaml.MapItem{Key: trustedKey})
		i = len(doc) - 1
	}
	doc[i].Value = list
	out, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode trust list: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(t.path), 0o700); err != nil {
		return fmt.Errorf("create configuration directory: %w", err)
	}
	if err := atomicfile.WriteFile(t.path, out, 0o600); err != nil {
		return fmt.Errorf("write configuration: %w", err)
	}
	return nil
}

func (t *TrustFile) read() (yaml.MapSlice, error) {
	b, err := os.ReadFile(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	var doc yaml.MapSlice
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse configuration %s: %w", t.path, err)
	}
	return doc, nil
}

// servers returns the canonical form of each listed server; an entry that is not a
// valid server URL is an error rather than silently ignored.
func servers(doc yaml.MapSlice) ([]string, error) {
	for _, it := range doc {
		if it.Key != trustedKey || it.Value == nil {
			continue
		}
		raw, ok := it.Value.([]any)
		if !ok {
			return nil, fmt.Errorf("parse configuration: %s must be a list of URLs", trustedKey)
		}
		out := make([]string, 0, len(raw))
		for _, v := range raw {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("parse configuration: %s: %v is not a URL", trustedKey, v)
			}
			canon, err := CanonicalServer(s)
			if err != nil {
				return nil, fmt.Errorf("parse configuration: %s: %w", trustedKey, err)
			}
			out = append(out, canon)
		}
		return out, nil
	}
	return nil, nil
}
