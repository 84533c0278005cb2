package conn

import (
	"strings"
	"testing"
)

// A remote server cannot make the backend hold unread notifications without
// bound; reading them makes room again.
func TestNotificationQueueBounded(t *testing.T) {
	c := &Conn{}
	c.notifications.max = maxQueuedNotifications
	payload := strings.Repeat("x", 1<<20)
	for i := 0; i < 200; i++ {
		c.queueNotification(Notification{Channel: "ch", Payload: payload})
	}
	var got []Notification
	for more := c.TakeNotifications(1000); len(more) > 0; more = c.TakeNotifications(1000) {
		got = append(got, more...)
	}
	if len(got) == 0 || len(got) >= 200 || len(got)*len(payload) > maxQueuedNotifications {
		t.Fatalf("%d notifications of 1 MB kept", len(got))
	}
	c.queueNotification(Notification{Channel: "ch", Payload: "after"})
	if got := c.TakeNotifications(1000); len(got) != 1 || got[0].Payload != "after" {
		t.Fatalf("after reading: %v", got)
	}
}
