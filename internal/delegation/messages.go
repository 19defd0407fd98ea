package delegation

import "github.com/inps/sportello/internal/web"

// catalogue holds every text of the pages, keyed by message key, in Italian and English.
var catalogue = web.Pairs{
	"title":             {"Le mie deleghe", "My delegations"},
	"intro":             {"Puoi delegare una persona di fiducia ad agire per tuo conto sui servizi online INPS, con tutti i tuoi poteri. Ogni persona può avere una sola persona delegata; chi riceve deleghe può averne al massimo tre.", "You can delegate a trusted person to act on your behalf with INPS online services, with all your powers. Each person may have one delegate; a delegate may hold at most three delegations."},
	"whoami":            {"Accesso effettuato: {name} ({cf})", "Signed in: {name} ({cf})"},
	"given.title":       {"Deleghe che ho conferito", "Delegations I gave"},
	"received.title":    {"Deleghe che ho ricevuto", "Delegations I received"},
	"none":              {"Nessuna delega.", "No delegations."},
	"col.person":        {"Persona", "Person"},
	"col.kind":          {"Tipo", "Kind"},
	"col.start":         {"Dal", "From"},
	"col.end":           {"Al", "Until"},
	"col.status":        {"Stato", "Status"},
	"col.action":        {"Azione", "Action"},
	"no_end":            {"senza scadenza", "no end"},
	"status.active":     {"attiva", "active"},
	"status.revoked":    {"revocata", "revoked"},
	"status.expired":    {"scaduta", "expired"},
	"kind.online":       {"online", "online"},
	"kind.office_aa08":  {"in sede (AA08)", "at an office (AA08)"},
	"kind.office_aa09":  {"in sede con certificato medico (AA09)", "at an office with a doctor's certificate (AA09)"},
	"kind.legal_aa10":   {"rappresentanza legale (AA10)", "legal representation (AA10)"},
	"revoke.submit":     {"Revoca", "Revoke"},
	"revoke.done":       {"La delega è stata revocata.", "The delegation has been revoked."},
	"revoke.window":     {"Revocabile online dal {date}; prima solo presso una sede INPS.", "Revocable online from {date}; before then only at an INPS office."},
	"revoke.protected":  {"Revocabile solo presso una sede INPS.", "Revocable only at an INPS office."},
	"register.title":    {"Nuova delega", "New delegation"},
	"register.submit":   {"Registra la delega", "Register the delegation"},
	"register.done":     {"La delega a {name} è attiva. La persona delegata riceverà una comunicazione.", "The delegation to {name} is active. The delegate will be notified."},
	"register.note":     {"Una delega registrata online è revocabile online solo dopo 30 giorni (prima, presso una sede INPS).", "A delegation registered online can be revoked online only after 30 days (before then, at an INPS office)."},
	"field.fiscal_code": {"Codice fiscale della persona delegata", "Delegate's fiscal code"},
	"field.given_name":  {"Nome", "Given name"},
	"field.family_name": {"Cognome", "Family name"},
	"field.email":       {"E-mail della persona delegata", "Delegate's e-mail"},
	"field.end":         {"Ultimo giorno di validità", "Last day of validity"},
	"hint.end":          {"Nel formato gg/mm/aaaa. Se lo lasci vuoto, la delega non scade.", "Written dd/mm/yyyy. Leave it empty for a delegation without an end."},
	"hint.email":        {"La persona delegata riceverà qui la comunicazione della delega.", "The delegate is told of the delegation at this address."},

	"err.login":       {"Per gestire le deleghe accedi con SPID, CIE o CNS.", "To manage your delegations, sign in with SPID, CIE or CNS."},
	"login":           {"Accedi per gestire le deleghe", "Sign in to manage your delegations"},
	"err.level":       {"Per gestire le deleghe serve un accesso di livello SPID 2 o superiore (SPID livello 2 o 3, CIE o CNS). Accedi di nuovo con una di queste credenziali.", "Managing delegations needs a sign-in of SPID level 2 or above (SPID level 2 or 3, CIE or CNS). Sign in again with one of these credentials."},
	"err.csrf":        {"Il modulo è scaduto: ricarica la pagina e riprova.", "The form has expired: reload it and try again."},
	"err.invalid":     {"Dati non validi: controlla il modulo.", "Invalid data: check the form."},
	"err.fields":      {"Il modulo contiene errori: correggi i campi indicati.", "The form has errors: correct the fields shown."},
	"err.required":    {"Compila questo campo.", "Fill in this field."},
	"err.email":       {"Scrivi un indirizzo nel formato nome@dominio.it.", "Write an address such as name@example.com."},
	"err.cf":          {"Il codice fiscale della persona delegata non è valido.", "The delegate's fiscal code is invalid."},
	"err.end":         {"Scrivi una data futura nel formato gg/mm/aaaa, ad esempio 31/12/2027.", "Write a future date as dd/mm/yyyy, for example 31/12/2027."},
	"err.self":        {"Non puoi indicare il tuo stesso codice fiscale: la persona delegata deve essere un'altra.", "You cannot give your own fiscal code: the delegate must be someone else."},
	"err.delegator":   {"Hai già una persona delegata: revoca la delega in corso prima di registrarne una nuova.", "You already have an active delegate: revoke that delegation before registering a new one."},
	"err.delegate":    {"La persona indicata ha già tre deleghe attive e non può riceverne altre.", "The person already holds three active delegations and cannot receive more."},
	"err.duplicate":   {"Hai già una delega a questa persona.", "You have already delegated this person."},
	"err.window":      {"Una delega registrata online si può revocare online solo dopo 30 giorni: nel frattempo rivolgiti a una sede INPS.", "A delegation registered online can be revoked online only after 30 days: until then, go to an INPS office."},
	"err.protected":   {"Le persone sottoposte a tutela, curatela o amministrazione di sostegno possono revocare una delega solo presso una sede INPS.", "People under guardianship, curatorship or support administration can revoke a delegation only at an INPS office."},
	"err.forbidden":   {"Solo chi ha conferito la delega può revocarla online.", "Only the person who gave the delegation can revoke it online."},
	"err.not_found":   {"Delega non trovata.", "Delegation not found."},
	"err.inactive":    {"La delega è già revocata o scaduta.", "The delegation is already revoked or expired."},
	"err.unavailable": {"Il servizio è temporaneamente non disponibile. Riprova tra poco.", "The service is temporarily unavailable. Please try again shortly."},
}

// Messages returns the catalogue with keys prefixed "delegation." (for the broker's
// catalogue): key → language ("it", "en") → text. Placeholders are written {name}.
func Messages() map[string]map[string]string { return catalogue.Messages("delegation.") }

// text returns the message key in lang with its placeholders filled.
func text(lang, key string, args map[string]string) string { return catalogue.Text(lang, key, args) }
