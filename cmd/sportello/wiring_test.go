package main

import (
	"context"
	"os"
	"testing"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/notify"
)

// Outside dev mode SMS and letters go to the spool directory for the gateway and print service.
func TestNotifierRoutesSMSAndPostToTheSpool(t *testing.T) {
	dir := t.TempDir()
	n := buildNotifier(&config.Config{Notify: config.Notify{SpoolDir: dir}})
	for _, ch := range []string{"sms", "post"} {
		if err := n.Notify(context.Background(), notify.Notification{Channel: ch, To: "x", Body: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("%d spooled messages, want 2", len(entries))
	}
}
