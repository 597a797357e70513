package localbroker

import (
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestClientsMeetThroughTheBroker(t *testing.T) {
	b, err := Start("", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make(chan string, 4)
	if err := b.Subscribe("earshot/#", func(topic string, payload []byte, retained bool) {
		got <- topic + "=" + string(payload)
	}); err != nil {
		t.Fatal(err)
	}
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("t"))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	c.Publish("earshot/x/state", 1, false, "hi").Wait()
	select {
	case m := <-got:
		if m != "earshot/x/state=hi" {
			t.Errorf("got %q", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("message never arrived")
	}
	c.Disconnect(50) // before the broker goes, or paho starts reconnecting
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:1883", "192.0.2.1:1883", "nonsense"} {
		if b, err := Start(addr, nil); err == nil {
			b.Close()
			t.Errorf("Start(%q) accepted", addr)
		}
	}
}
