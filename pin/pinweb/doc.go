// Package pinweb puts the INPS PIN on the web: the provider the broker wires (a
// providers.RedirectProvider whose form checks the PIN), the citizens' pages under
// /pin/ (login, first access, renewal, activation, request, lost PIN, revocation, PIN
// telefonico, conversion upload; Italian and English, no JavaScript needed), the operators'
// JSON API under /admin/pin/, and the operators' command line (sportello pin ...).
//
// Every page is a plain HTML form with a hidden csrf field; the login form's fields are
// fiscal_code and pin, with the pending login id in the hidden login field. Errors are
// explained in the person's language; the technical cause goes to the log only.
package pinweb
