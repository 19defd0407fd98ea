package web

// ChooserData is the body of the credential chooser.
type ChooserData struct {
	// Service names the service the person is signing in to (its display_name), if known.
	Service string
	// Intro and Level explain the page and the level the service asked for.
	Intro, Level string
	// Notice is shown above the choices (for example: the session expired while idle).
	Notice string
	// Options are the credentials that can reach the level, in order.
	Options []ChooserOption
	// Hidden explains each credential left out because it cannot reach the level.
	Hidden []HiddenOption
	// HiddenIntro introduces the Hidden list; None is shown when no option is left.
	HiddenIntro, None string
}

// ChooserOption is one credential of the chooser.
type ChooserOption struct {
	// ID is the provider id; Method its chooser entry: its auth_method (spid, cie, cns, pin)
	// or the entry the provider names (cieid: CIE ID, beside the card's cie).
	ID, Method string
	// Name is the credential's name; Who says who it is for; Description adds details.
	Name, Who, Description string
	// URL starts the login with it; Button is the button text.
	URL, Button string
	// Choices are the identity providers of SPID (each a link that starts the login there).
	Choices []Choice
	// ChoicesLabel names the Choices list for assistive technologies.
	ChoicesLabel string
	// Links follow the Choices (for SPID, AgID's button: "Maggiori informazioni", "Non hai
	// SPID?"), each opening the public page it names.
	Links []Choice
}

// Choice is one identity provider of the SPID button.
type Choice struct{ Name, URL string }

// HiddenOption is a credential the chooser hides, and why.
type HiddenOption struct{ Name, Why string }

// ErrorData is the body of an error page: what happened, what to do next, the reference.
type ErrorData struct {
	// Message says what happened and what to do next.
	Message string
	// Ref is the reference code the help desk finds in the log.
	Ref string
	// Back returns to the relying party (with the OAuth error); Retry goes back to the
	// chooser. Either may be empty.
	Back, Retry string
}

// MessageData is the body of a plain message page.
type MessageData struct {
	Message string
	// Link and LinkLabel are an optional next step.
	Link, LinkLabel string
}

// PostFormData is an HTTP-POST binding form (SAML): it auto-submits through an external
// script and shows its button for browsers without JavaScript.
type PostFormData struct {
	Action string
	Fields map[string]string
}

// FormData is a generic form page: intro, an error summary linking to each field in error,
// the fields (each with its own message, aria-describedby and aria-invalid), the submit button
// and an optional way out (Cancel).
type FormData struct {
	Intro, Error, Notice string
	// List is shown after Intro, before the form: points the person reads before typing
	// (for example the rules a new PIN must follow).
	List []string
	// Ref is the reference code the help desk finds in the log, shown with Error.
	Ref       string
	Action    string
	Multipart bool
	Fields    []Field
	Hidden    map[string]string
	Submit    string
	// Cancel is a link shown beside the submit button (for example "Annulla"); optional.
	Cancel *Link
	// Next is the step a page without a form leads to (for example "Accedi" after a PIN is
	// activated), shown as its main button; optional.
	Next  *Link
	Links []Link
	// LinksLabel names the navigation of Links.
	LinksLabel string
}

// FieldErrors counts the fields that carry their own error message.
func (d FormData) FieldErrors() int {
	n := 0
	for _, f := range d.Fields {
		if f.Error != "" {
			n++
		}
	}
	return n
}

// Field is one input of a form.
type Field struct {
	// Name is the form field name; the input's id is "f-" + Name.
	Name, Label, Type, Value string
	// Hint is a help text shown under the label (aria-describedby).
	Hint string
	// Autocomplete is the autocomplete token (WCAG 1.3.5), e.g. "off", "email", "tel".
	Autocomplete string
	// InputMode picks the on-screen keyboard ("numeric", "email", "tel"); optional.
	InputMode string
	// MaxLength bounds what can be typed (0: no bound).
	MaxLength int
	Options   []Option
	Checked   bool
	// Required marks a field that must be filled: its label says "obbligatorio", every other
	// field's says "facoltativo" (checkboxes say neither: ticking one is a statement).
	Required bool
	// Error is what is wrong with this field, shown under its label and announced with it
	// (aria-describedby, aria-invalid); the summary at the top links to the field.
	Error string
	// Invalid marks a field the form's own Error is about (a wrong fiscal code or PIN pair),
	// without a message of its own.
	Invalid bool
}

// Option is one option of a select Field.
type Option struct{ Value, Label string }

// Link is a link under a form.
type Link struct{ Href, Label string }
