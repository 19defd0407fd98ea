package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
)

//go:embed static/css static/fonts static/svg static/js static/img
var staticFiles embed.FS

// StaticPrefix is the path under which Static is mounted.
const StaticPrefix = "/static/"

// staticFS is the static folder itself (css/, fonts/, svg/, js/).
var staticFS = func() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err)
	}
	return sub
}()

// version is a hash over every embedded file: asset URLs carry it, so a new release is a new
// URL and browsers may cache each one for a year.
var version = func() string {
	var names []string
	_ = fs.WalkDir(staticFS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, _ := fs.ReadFile(staticFS, n)
		sum := sha256.Sum256(b)
		h.Write([]byte(n))
		h.Write(sum[:])
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

// Version is the content hash of the embedded files.
func Version() string { return version }

// Asset returns the URL of an embedded file, for example Asset("css/sportello.css").
func Asset(name string) string { return StaticPrefix + version + "/" + name }

// Static serves the embedded files at /static/<version>/<name>. The current version is
// cached for a year (immutable); a request naming another version (a page from before a
// release) is served the current file without long caching.
func Static() http.Handler {
	files := http.FileServerFS(staticFS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		rest := strings.TrimPrefix(r.URL.Path, StaticPrefix)
		ver, name, ok := strings.Cut(rest, "/")
		name = path.Clean("/" + name)
		if !ok || name == "/" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		if st, err := fs.Stat(staticFS, name[1:]); err != nil || st.IsDir() {
			http.NotFound(w, r)
			return
		}
		if ver == version {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = name
		files.ServeHTTP(w, r2)
	})
}

// Favicon serves the favicon at the path browsers ask by themselves (/favicon.ico), for pages
// that do not name it (a JSON answer opened in a tab): the SVG the layout links to.
func Favicon() http.Handler {
	icon, err := fs.ReadFile(staticFS, "img/favicon.svg")
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write(icon)
	})
}
