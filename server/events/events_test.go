package events

import (
	"context"
	"testing"
	"time"
)

func TestLocal(t *testing.T) {
	bus := NewLocal()
	ctx, cancel := context.WithCancel(context.Background())
	a, _ := bus.Subscribe(ctx, OrderKey("a"))
	b, _ := bus.Subscribe(ctx, OrderKey("b"))

	_ = bus.Publish(ctx, OrderKey("a"))
	_ = bus.Publish(ctx, OrderKey("a")) // coalesces with the first
	select {
	case <-a:
	case <-time.After(5 * time.Second):
		t.Fatal("subscriber of a got no notice")
	}
	select {
	case <-b:
		t.Fatal("subscriber of b got a notice for a")
	case <-time.After(50 * time.Millisecond):
	}

	bus.NotifyAll()
	select {
	case <-b:
	case <-time.After(5 * time.Second):
		t.Fatal("NotifyAll did not reach b")
	}

	cancel()
	for range a { // closed by the sender once ctx ends
	}
	deadline := time.Now().Add(5 * time.Second)
	for bus.Subscribers() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Subscribers = %d after cancel, want 0", bus.Subscribers())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLocalWatch: a watcher hears every key under its prefix, and "" when notices may
// have been lost, before the key's subscribers do.
func TestLocalWatch(t *testing.T) {
	bus := NewLocal()
	ctx, cancel := context.WithCancel(context.Background())
	var got []string
	bus.Watch(ctx, "ca:", func(key string) { got = append(got, key) }) // runs under the bus's lock
	sub, _ := bus.Subscribe(ctx, "ca:1")

	bus.Notify("ca:1")
	bus.Notify("order:x")
	bus.NotifyAll()
	<-sub
	defer cancel()
	bus.mu.Lock()
	defer bus.mu.Unlock()
	if len(got) != 2 || got[0] != "ca:1" || got[1] != "" {
		t.Errorf("watcher heard %q, want [ca:1 \"\"]", got)
	}
}
