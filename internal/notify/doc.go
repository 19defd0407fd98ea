// Package notify delivers Notification messages: SMTP sends e-mail (and PEC, which
// is e-mail through a certified provider's relay), Outbox keeps messages in memory and shows
// them as a page (the dev-mode stand-in for SMS and post, mounted at /dev/outbox), and Multi
// routes each message by its channel.
package notify
