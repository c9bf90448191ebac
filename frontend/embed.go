// Package frontend embeds the built Self-Service single-page app (Vite output in dist/)
// into the server binary and serves it, with client-side routes falling back to
// index.html.
package frontend

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// Handler serves the SPA. Files that exist are served as they are (hashed assets get a
// long cache lifetime); every other path gets index.html so the client router can take
// over. Before `npm run build` has run, it says how to build the app.
func Handler() http.Handler {
	root, _ := fs.Sub(dist, "dist")
	files := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name != "" {
			if st, err := fs.Stat(root, name); err == nil && !st.IsDir() {
				if strings.HasPrefix(name, "assets/") {
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				files.ServeHTTP(w, r)
				return
			}
		}
		index, err := fs.ReadFile(root, "index.html")
		if err != nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("The Self-Service app is not built into this binary. Run `make build` (npm ci && npm run build) and rebuild the server.\n"))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(index)
	})
}

// Dist returns the built app's files (the contents of dist/), for the Desktop App's
// PIN page, which serves its own entry (pinpage.html) from the same build.
func Dist() fs.FS {
	root, _ := fs.Sub(dist, "dist")
	return root
}
