package broadcast_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"citybot/broadcast"
	"citybot/staff"
)

// TestFeedInternalAddressRefused: a feed on a loopback address is refused
// when the connection is made, whether the URL names the address or a
// host name that resolves to it ("localhost": the check runs on the
// dialled address, not on the URL's text), including after a redirect;
// the feed list shows a fixed text, not the internal error. A host an
// admin allows by name is fetched.
func TestFeedInternalAddressRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rs := newRSSServer(t)
	rs.set(rssItem{guid: "1", title: "Intern", link: "https://www.musterstadt.de/1"})
	s := e.service(nil)
	if err := s.SetFeedInternalHosts(ctx, staff.Principal{}, nil); err != nil { // newEnv allowed 127.0.0.1
		t.Fatal(err)
	}
	tp := e.topic(s, "aktuelles")
	port := rs.URL[strings.LastIndex(rs.URL, ":")+1:]
	for _, u := range []string{rs.URL + "/rss", "http://localhost:" + port + "/rss", "http://[::ffff:127.0.0.1]:" + port + "/rss"} {
		f, err := s.CreateFeed(ctx, staff.Principal{}, broadcast.FeedInput{URL: u, TopicID: tp.ID, Active: true, PollInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		before := rs.requests.Load()
		if err := s.RefreshFeed(ctx, staff.Principal{}, f.ID); err == nil {
			t.Fatalf("%s: fetched", u)
		}
		if rs.requests.Load() != before {
			t.Fatalf("%s: the internal server was reached", u)
		}
		f, _ = s.Feed(ctx, f.ID)
		if f.LastError != broadcast.FeedErrInternalAddress {
			t.Fatalf("%s: last error %q", u, f.LastError)
		}
	}
	// Allowed by name: fetched.
	if err := s.SetFeedInternalHosts(ctx, staff.Principal{}, []string{" LocalHost. "}); err != nil {
		t.Fatal(err)
	}
	f, err := s.CreateFeed(ctx, staff.Principal{}, broadcast.FeedInput{URL: "http://localhost:" + port + "/rss?allowed", TopicID: tp.ID, Active: true, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RefreshFeed(ctx, staff.Principal{}, f.ID); err != nil {
		t.Fatalf("allowed host: %v", err)
	}
	if hosts, _ := s.FeedInternalHosts(ctx); len(hosts) != 1 || hosts[0] != "localhost" {
		t.Fatalf("hosts %q", hosts)
	}
}

func TestPublicAddr(t *testing.T) {
	for a, want := range map[string]bool{
		"93.184.215.14": true, "2a00:1450:4001:82b::200e": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "::1": false, "fd00:ec2::254": false, "fe80::1": false, "::ffff:10.0.0.1": false,
		"224.0.0.1": false, "255.255.255.255": false, "64:ff9b::a00:1": false,
	} {
		if got := broadcast.PublicAddr(netip.MustParseAddr(a)); got != want {
			t.Errorf("PublicAddr(%s) = %v, want %v", a, got, want)
		}
	}
}
