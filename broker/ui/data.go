package ui

// ChooserData is the body of the credential chooser.
type ChooserData struct {
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
	// ID is the provider id; Method its auth_method (spid, cie, cns, pin).
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

// FormData is a generic form page (intro, error with aria-describedby, fields, submit).
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
	Links     []Link
	// LinksLabel names the navigation of Links.
	LinksLabel string
}

// Field is one input of a FormData.
type Field struct {
	// Name is the form field name and the input id.
	Name, Label, Type, Value string
	// Hint is a help text shown under the label (aria-describedby).
	Hint string
	// Autocomplete is the autocomplete token (WCAG 1.3.5), e.g. "off", "email", "tel".
	Autocomplete string
	Options      []Option
	Checked      bool
	// Invalid marks the field as the one the error is about.
	Invalid bool
}

// Option is one option of a select Field.
type Option struct{ Value, Label string }

// Link is a link under a form.
type Link struct{ Href, Label string }
