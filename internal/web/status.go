package web

import (
	"net/http"
	"strings"
)

// WriteNotFound answers 404 with a page in the layout: what happened (no such page), what to
// do next, and the reference the help desk finds in the log (ref, optional). Every citizen
// page route answers an unknown address this way, never with Go's bare "404 page not found".
func (r *Renderer) WriteNotFound(w http.ResponseWriter, req *http.Request, lang, nonce, ref string) error {
	return r.writeStatus(w, req, lang, nonce, ref, http.StatusNotFound, "status.not_found")
}

// WriteMethodNotAllowed answers 405 with the Allow header and a page in the layout (see
// WriteNotFound): a form posted to a page that only shows, or a page asked with PUT.
func (r *Renderer) WriteMethodNotAllowed(w http.ResponseWriter, req *http.Request, lang, nonce, ref string, allow ...string) error {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	return r.writeStatus(w, req, lang, nonce, ref, http.StatusMethodNotAllowed, "status.method")
}

func (r *Renderer) writeStatus(w http.ResponseWriter, req *http.Request, lang, nonce, ref string, status int, key string) error {
	p := r.NewPage(req, lang, nonce, r.T(lang, key+".title"), ErrorData{Message: r.T(lang, key), Ref: ref})
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		p.SwitchURL = "" // the switch would repeat the request as a GET
	}
	return r.Render(w, status, r.Page("error"), p)
}
