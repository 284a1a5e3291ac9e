package broadcast

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/internal/audit"
	"citybot/internal/db"
	"citybot/internal/settings"
	"citybot/staff"
)

// Feeds are fetched from addresses an admin typed in; a feed must not be a
// way into the city's own network (an intranet page, a database port, the
// cloud's metadata service). The feed client refuses loopback, private,
// link-local (169.254.169.254 included), shared, multicast and other
// non-public addresses when it connects: the check runs on the address
// actually dialled (net.Dialer.Control), after DNS resolution and for
// every redirect, so a DNS answer cannot smuggle one in. A host an admin
// names in the setting SettingFeedInternalHosts (an intranet news server)
// may be internal.

// SettingFeedInternalHosts is the settings key of the host names (JSON
// array of strings) whose feeds may be on internal addresses.
const SettingFeedInternalHosts = settings.FeedInternalHosts

// ErrInternalAddress: the feed's address is not a public one.
var ErrInternalAddress = errors.New("broadcast: feed address is internal")

var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (carrier NAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: may map to anything
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("100::/64"),        // discard
}

// PublicAddr reports whether ip is a public unicast address a feed may be on.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// publicOnly is the net.Dialer.Control hook that refuses non-public addresses.
func publicOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !PublicAddr(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrInternalAddress, address)
	}
	return nil
}

type allowedHostsKey struct{}

// newFeedClient is the default feed client: connections go to public
// addresses only, except to the hosts in the context's allow list.
func newFeedClient() *http.Client {
	guarded := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: publicOnly}
	open := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: nil, // a proxy would dial for us, unchecked
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			allowed, _ := ctx.Value(allowedHostsKey{}).([]string)
			if slices.Contains(allowed, strings.ToLower(strings.TrimSuffix(host, "."))) {
				return open.DialContext(ctx, network, addr)
			}
			return guarded.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          20,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 20 * time.Second,
		DisableKeepAlives:     true, // an allowed host's connection must not serve another host's request
	}
	return &http.Client{Transport: tr, CheckRedirect: checkFeedRedirect}
}

// FeedInternalHosts returns the host names whose feeds may be on internal
// addresses (SettingFeedInternalHosts).
func (s *Service) FeedInternalHosts(ctx context.Context) ([]string, error) {
	var hosts []string
	if _, err := settings.Get(ctx, s.db, SettingFeedInternalHosts, &hosts); err != nil {
		return nil, fmt.Errorf("load feed internal hosts: %w", err)
	}
	return hosts, nil
}

// SetFeedInternalHosts stores the host names whose feeds may be on
// internal addresses (lower-cased; each a host name or IP literal). The
// audit row "broadcast.feed.internal_hosts" of by (with the hosts as given)
// commits with it.
func (s *Service) SetFeedInternalHosts(ctx context.Context, by staff.Principal, hosts []string) error {
	out := []string{}
	for _, h := range hosts {
		h = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
		if h == "" {
			continue
		}
		if strings.ContainsAny(h, "/: @?#") || len(h) > 253 {
			return fmt.Errorf("%w: %q is not a host name", ErrInvalid, h)
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := settings.Set(ctx, tx, SettingFeedInternalHosts, out); err != nil {
			return fmt.Errorf("store feed internal hosts: %w", err)
		}
		return audit.Record(ctx, tx, by.ID, "broadcast.feed.internal_hosts", "setting", SettingFeedInternalHosts, map[string]any{"hosts": hosts})
	})
}

// The codes a failed fetch leaves in Feed.LastError (FeedErrorCode reads
// them); the admin UI words each in the staff member's language. Never the
// underlying error's text, which may name internal hosts, addresses or
// ports.
const (
	FeedErrInternalAddress = "internal_address" // on an internal network address (an admin can allow the host)
	FeedErrHTTPStatus      = "http_status"      // the server answered with an error status (FeedErrorCode's n)
	FeedErrTimeout         = "timeout"          // no answer in time
	FeedErrTooLarge        = "too_large"        // larger than the limit
	FeedErrParse           = "parse"            // not a valid RSS or Atom feed
	FeedErrDNS             = "dns"              // the host name could not be resolved
	FeedErrURL             = "url"              // not an http(s) URL
	FeedErrFetch           = "fetch"            // anything else
)

// FeedErrorCodes are all codes of a failed fetch.
var FeedErrorCodes = []string{FeedErrInternalAddress, FeedErrHTTPStatus, FeedErrTimeout, FeedErrTooLarge,
	FeedErrParse, FeedErrDNS, FeedErrURL, FeedErrFetch}

// feedErrorText is what a failed fetch records in last_error: its code
// ("http_status 404" with the status).
func feedErrorText(err error) string {
	var he *httpStatusError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, ErrInternalAddress):
		return FeedErrInternalAddress
	case errors.As(err, &he):
		return fmt.Sprintf("%s %d", FeedErrHTTPStatus, he.status)
	case errors.Is(err, errFeedTimeout), errors.Is(err, context.DeadlineExceeded):
		return FeedErrTimeout
	case errors.Is(err, errFeedTooLarge):
		return FeedErrTooLarge
	case errors.Is(err, errFeedParse):
		return FeedErrParse
	case errors.As(err, &dnsErr):
		return FeedErrDNS
	case errors.Is(err, ErrInvalid):
		return FeedErrURL
	}
	return FeedErrFetch
}

// FeedErrorCode reads a feed's LastError: its code and, for
// FeedErrHTTPStatus, the status. ok is false for a text that is no code
// (an error recorded before the codes, in English).
func FeedErrorCode(lastError string) (code string, n int, ok bool) {
	code, num, _ := strings.Cut(lastError, " ")
	if !slices.Contains(FeedErrorCodes, code) {
		return "", 0, false
	}
	if code == FeedErrHTTPStatus {
		v, err := strconv.Atoi(num)
		if err != nil {
			return "", 0, false
		}
		return code, v, true
	}
	return code, 0, num == ""
}

type httpStatusError struct{ status int }

func (e *httpStatusError) Error() string { return fmt.Sprintf("feed answered HTTP %d", e.status) }

var (
	errFeedTimeout  = errors.New("broadcast: feed timed out")
	errFeedTooLarge = errors.New("broadcast: feed too large")
	errFeedParse    = errors.New("broadcast: feed not parseable")
)
