package console

import (
	"fmt"
	"html/template"
	"sort"
	"strings"

	"github.com/inps/sportello/internal/switches"
	"github.com/inps/sportello/internal/web"
)

// uiLabels are the console's texts, Italian and English (prefixed "console.").
var uiLabels = web.Pairs{
	"signed_in_as": {"Operatore:", "Operator:"},
	"role.admin":   {"amministratore (console:admin)", "administrator (console:admin)"},
	"role.read":    {"sola lettura (console:read)", "read only (console:read)"},
	"logout":       {"Esci", "Sign out"},
	"sign_in":      {"Accedi alla console", "Sign in to the console"},
	"continue":     {"Vai alla console", "Go to the console"},
	"back":         {"Torna alla console", "Back to the console"},
	"cancel":       {"Annulla", "Cancel"},
	"none":         {"Nessuno.", "None."},
	"required":     {"obbligatorio", "required"},
	"expired":      {"scaduto", "expired"},

	"nav.label":     {"Sezioni della console", "Console sections"},
	"nav.overview":  {"Riepilogo", "Overview"},
	"nav.providers": {"Identity provider", "Identity providers"},
	"nav.clients":   {"Client", "Clients"},
	"nav.keys":      {"Chiavi", "Keys"},
	"nav.replicas":  {"Repliche", "Replicas"},
	"nav.audit":     {"Audit", "Audit"},
	"nav.actions":   {"Azioni", "Actions"},

	"state.on":      {"attivo", "on"},
	"state.off":     {"disattivato", "off"},
	"kind.idp":      {"identity provider", "identity provider"},
	"kind.provider": {"credenziale", "credential"},
	"kind.client":   {"client", "client"},
	// The kinds with their article, for the confirmation's sentence.
	"the.idp":      {"l'identity provider", "the identity provider"},
	"the.provider": {"la credenziale", "the credential"},
	"the.client":   {"il client", "the client"},

	"col.kind":    {"Tipo", "Kind"},
	"col.id":      {"Identificativo", "Identifier"},
	"col.reason":  {"Motivo", "Reason"},
	"col.by":      {"Operatore", "Operator"},
	"col.since":   {"Dal", "Since"},
	"col.subject": {"Soggetto", "Subject"},
	"col.expires": {"Scadenza", "Expires"},

	"overview.title":       {"Console di sicurezza", "Security console"},
	"overview.intro":       {"Lo stato di sportello su tutte le repliche.", "The state of sportello on every replica."},
	"overview.providers":   {"Credenziali", "Credentials"},
	"overview.idps":        {"Identity provider SPID", "SPID identity providers"},
	"overview.clients":     {"Client", "Clients"},
	"overview.active_key":  {"Chiave di firma attiva", "Active signing key"},
	"overview.replicas":    {"Repliche attive", "Live replicas"},
	"overview.off":         {"disattivati", "off"},
	"overview.switches":    {"Disattivazioni in vigore", "Switches in force"},
	"overview.no_switches": {"Nessuna: vale la configurazione.", "None: the configuration rules."},

	"providers.title":         {"Identity provider e credenziali", "Identity providers and credentials"},
	"providers.intro":         {"Ogni credenziale e ogni identity provider SPID, con i metadati, i certificati di firma e l'ultimo errore. Disattivarne uno blocca i nuovi accessi su tutte le repliche entro pochi secondi.", "Every credential and every SPID identity provider, with its metadata, signing certificates and last error. Switching one off stops new logins through it on every replica within seconds."},
	"providers.parent":        {"di", "of"},
	"providers.metadata":      {"Metadati", "Metadata"},
	"providers.last_refresh":  {"ultimo aggiornamento", "last refresh"},
	"providers.sources":       {"fonti di metadati", "metadata sources"},
	"providers.unloaded":      {"mai caricate", "never loaded"},
	"providers.stale_sources": {"non aggiornate", "stale"},
	"providers.last_error":    {"Ultimo errore", "Last error"},
	"providers.switch":        {"Disattivato", "Switched off"},
	"providers.certificates":  {"Certificati di firma", "Signing certificates"},
	"switch_off":              {"Disattiva", "Switch off"},
	"switch_on":               {"Riattiva", "Switch back on"},

	"clients.title":        {"Client", "Clients"},
	"clients.intro":        {"I relying party e i servizi configurati, con la loro politica.", "The configured relying parties and services, with their policy."},
	"clients.type":         {"Tipo", "Type"},
	"clients.public":       {"pubblico (PKCE)", "public (PKCE)"},
	"clients.confidential": {"confidenziale", "confidential"},
	"clients.grants":       {"Grant", "Grants"},
	"clients.scopes":       {"Scope", "Scopes"},
	"clients.min_level":    {"Livello minimo", "Minimum level"},
	"clients.redirects":    {"Redirect URI", "Redirect URIs"},
	"clients.exchange":     {"Token exchange verso", "Token exchange to"},

	"keys.title":   {"Chiavi di firma", "Signing keys"},
	"keys.intro":   {"Le chiavi che firmano i token: mai il materiale delle chiavi.", "The keys that sign the tokens: never key material."},
	"keys.alg":     {"Algoritmo", "Algorithm"},
	"keys.state":   {"Stato", "State"},
	"keys.age":     {"Età", "Age"},
	"keys.active":  {"attiva", "active"},
	"keys.next":    {"successiva", "next"},
	"keys.retired": {"ritirata", "retired"},
	"keys.rotate":  {"Ruota le chiavi", "Rotate the keys"},

	"replicas.title":   {"Repliche", "Replicas"},
	"replicas.intro":   {"Le repliche viste negli ultimi secondi (heartbeat nello Store).", "The replicas seen in the last seconds (heartbeats in the Store)."},
	"replicas.host":    {"Host", "Host"},
	"replicas.version": {"Versione", "Version"},
	"replicas.started": {"Avviata", "Started"},
	"replicas.seen":    {"Ultimo segnale", "Last seen"},

	"audit.title":       {"Audit", "Audit trail"},
	"audit.person":      {"Persona (codice fiscale)", "Person (fiscal code)"},
	"audit.client":      {"Client", "Client"},
	"audit.type":        {"Tipo", "Type"},
	"audit.type_hint":   {"Per esempio login.success o console.switch", "For example login.success or console.switch"},
	"audit.since":       {"Dal (UTC)", "Since (UTC)"},
	"audit.until":       {"Al (UTC)", "Until (UTC)"},
	"audit.search":      {"Cerca", "Search"},
	"audit.chain_ok":    {"Catena verificata", "Chain verified"},
	"audit.chain_bad":   {"Catena NON verificata", "Chain NOT verified"},
	"audit.records":     {"record", "records"},
	"audit.last_seq":    {"ultimo", "last"},
	"audit.signed":      {"firme dei checkpoint verificate", "checkpoint signatures verified"},
	"audit.unsigned":    {"checkpoint senza firma", "unsigned checkpoints"},
	"audit.results":     {"Record trovati (i più recenti prima)", "Records found (newest first)"},
	"audit.time":        {"Ora", "Time"},
	"audit.actor":       {"Autore", "Actor"},
	"audit.fields":      {"Dettagli", "Details"},
	"audit.unavailable": {"Questo broker non tiene una traccia di audit consultabile (audit.file).", "This broker keeps no searchable audit trail (audit.file)."},

	"actions.title":            {"Azioni", "Actions"},
	"actions.intro":            {"Le operazioni di un giorno di incidente. Ognuna chiede conferma ed è registrata nell'audit a tuo nome.", "The operations of an incident day. Each asks for confirmation and is recorded in the audit trail under your name."},
	"actions.read_only":        {"Con il ruolo di sola lettura non puoi eseguire azioni.", "With the read-only role you cannot run actions."},
	"actions.unlock_pin":       {"Sblocca un PIN", "Unlock a PIN"},
	"actions.revoke_person":    {"Revoca le sessioni di una persona", "Revoke a person's sessions"},
	"actions.refresh_metadata": {"Aggiorna i metadati", "Refresh metadata"},
	"actions.fiscal_code":      {"Codice fiscale", "Fiscal code"},
	"actions.provider":         {"Credenziale o identity provider", "Credential or identity provider"},
	"actions.continue":         {"Continua", "Continue"},

	"confirm.title":  {"Conferma la modifica", "Confirm the change"},
	"confirm.reason": {"Motivo", "Reason"},
	"confirm.apply":  {"Conferma", "Confirm"},
	"result.title":   {"Modifica eseguita", "Change made"},
	"result.done":    {"Fatto: la modifica è registrata nell'audit.", "Done: the change is recorded in the audit trail."},

	"summary.switch_off":       {"Disattivare {kind} {id}? I nuovi accessi saranno rifiutati su tutte le repliche.", "Switch off {kind} {id}? New logins will be refused on every replica."},
	"summary.switch_on":        {"Riattivare {kind} {id}?", "Switch {kind} {id} back on?"},
	"summary.client_off":       {"Disattivare il client {id}? Sarà rifiutato all'autorizzazione e all'endpoint dei token.", "Switch off the client {id}? It will be refused at /authorize and at the token endpoint."},
	"summary.refresh_metadata": {"Aggiornare ora i metadati di {id}?", "Refresh the metadata of {id} now?"},
	"summary.rotate_keys":      {"Ruotare le chiavi di firma? La chiave successiva diventa attiva.", "Rotate the signing keys? The next key becomes active."},
	"summary.unlock_pin":       {"Sbloccare il PIN di {cf}?", "Unlock the PIN of {cf}?"},
	"summary.revoke_person":    {"Revocare tutte le sessioni e i refresh token di {cf}?", "Revoke every session and refresh token of {cf}?"},
	"summary.unknown":          {"Operazione sconosciuta.", "Unknown operation."},

	"problem.store_down":     {"Lo Store non è raggiungibile: nulla è stato modificato. Riprova tra poco.", "The Store is unreachable: nothing was changed. Try again shortly."},
	"problem.not_found_item": {"Non trovato: nulla è stato modificato.", "Not found: nothing was changed."},
	"problem.invalid":        {"Richiesta non valida: nulla è stato modificato.", "Invalid request: nothing was changed."},
	"problem.not_offered":    {"Questo broker non offre questa operazione.", "This broker does not offer this operation."},
	"problem.error":          {"Errore interno: riprova; se continua, avvisa il gruppo di esercizio.", "Internal error: try again; if it goes on, tell the operations team."},

	"msg.not_found.title":     {"Pagina non trovata", "Page not found"},
	"msg.not_found":           {"Questa pagina della console non esiste.", "This console page does not exist."},
	"msg.store_down.title":    {"Servizio non disponibile", "Service unavailable"},
	"msg.store_down":          {"Lo Store non è raggiungibile: nulla è stato modificato. Riprova tra poco.", "The Store is unreachable: nothing was changed. Try again shortly."},
	"msg.no_session.title":    {"Accesso richiesto", "Sign-in required"},
	"msg.no_session":          {"La sessione della console è scaduta o non c'è: accedi di nuovo. Nulla è stato modificato.", "The console session has ended or there is none: sign in again. Nothing was changed."},
	"msg.bad_form.title":      {"Modulo non valido", "Invalid form"},
	"msg.bad_form":            {"Il modulo non è leggibile. Nulla è stato modificato.", "The form could not be read. Nothing was changed."},
	"msg.csrf.title":          {"Modulo non valido", "Invalid form"},
	"msg.csrf":                {"Il modulo è scaduto o non viene da questa console. Nulla è stato modificato: riparti dalla pagina della console.", "The form has expired or does not come from this console. Nothing was changed: start again from the console page."},
	"msg.read_only.title":     {"Operazione non consentita", "Not allowed"},
	"msg.read_only":           {"Il tuo ruolo è di sola lettura (console:read): non puoi modificare nulla.", "Your role is read only (console:read): you cannot change anything."},
	"msg.error.title":         {"Errore", "Error"},
	"msg.error":               {"Errore interno: riprova più tardi.", "Internal error: try again later."},
	"msg.login_expired.title": {"Accesso non valido", "Sign-in not valid"},
	"msg.login_expired":       {"L'accesso è scaduto o non è stato avviato da questo browser. Riprova.", "The sign-in has expired or was not started in this browser. Try again."},
	"msg.login_failed.title":  {"Accesso non riuscito", "Sign-in failed"},
	"msg.login_failed":        {"L'accesso alla console non è riuscito. Riprova.", "Signing in to the console failed. Try again."},
	"msg.not_operator.title":  {"Non autorizzato", "Not authorised"},
	"msg.not_operator":        {"Hai effettuato l'accesso, ma non sei abilitato alla console di sicurezza. Se dovresti esserlo, chiedi al responsabile della sicurezza di aggiungere il tuo codice fiscale agli operatori.", "You signed in, but you are not entitled to the security console. If you should be, ask the security officer to add your fiscal code to the operators."},
	"msg.level.title":         {"Livello di accesso insufficiente", "Sign-in level too low"},
	"msg.level":               {"La console richiede SPID di livello 3 oppure la CIE o la CNS con il certificato. Accedi di nuovo con una di queste credenziali.", "The console requires SPID level 3 or the CIE or CNS card certificate. Sign in again with one of these credentials."},
	"msg.logged_out.title":    {"Sei uscito dalla console", "You have signed out of the console"},
	"msg.logged_out":          {"La sessione della console è chiusa.", "The console session is closed."},
	"msg.signed_in.title":     {"Accesso effettuato", "Signed in"},
	"msg.signed_in":           {"Accesso alla console effettuato.", "You are signed in to the console."},
}

// pv is a page and one value, for a template that needs both.
type pv struct {
	P web.Page
	V any
}

// addFuncs adds the functions that need the console's types to the templates' map.
func addFuncs(m template.FuncMap) {
	m["dict"] = func(p web.Page, v any) pv { return pv{P: p, V: v} }
	m["clientUpstream"] = func(c Client) Provider {
		return Provider{Kind: switches.KindClient, ID: c.ID, Enabled: c.Enabled}
	}
	m["fields"] = fieldsText
	m["summary"] = summary
	m["backTo"] = backTo
}

// maxFieldText bounds one field's value on the audit page: a record may hold a whole SAML
// message, which the trail keeps and the page need not show.
const maxFieldText = 160

// fieldsText writes an audit record's fields as "key=value", sorted by key, each value cut
// at maxFieldText characters.
func fieldsText(f map[string]any) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := []rune(fmt.Sprintf("%v", f[k]))
		if len(v) > maxFieldText {
			v = append(v[:maxFieldText], '…')
		}
		parts = append(parts, k+"="+string(v))
	}
	return strings.Join(parts, ", ")
}

// summary says in the page's language what the change does.
func summary(p web.Page, c changeRequest) string {
	key := c.Action
	switch c.Action {
	case "switch":
		key = "switch_on"
		if !c.On {
			key = "switch_off"
			if c.Kind == switches.KindClient {
				key = "client_off"
			}
		}
	case "refresh_metadata", "rotate_keys", "unlock_pin", "revoke_person":
	default:
		key = "unknown"
	}
	s := p.T("console.summary." + key)
	kind := ""
	if switches.ValidKind(c.Kind) {
		kind = p.T("console.the." + string(c.Kind))
	}
	return strings.NewReplacer("{kind}", kind, "{id}", c.ID, "{cf}", c.FiscalCode).Replace(s)
}

// backTo is the page a change was asked from.
func backTo(c changeRequest) template.URL {
	switch {
	case c.Action == "switch" && c.Kind == switches.KindClient:
		return "/console/clients"
	case c.Action == "switch":
		return "/console/providers"
	case c.Action == "rotate_keys":
		return "/console/keys"
	}
	return "/console/actions"
}
