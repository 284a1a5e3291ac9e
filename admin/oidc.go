package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"citybot/staff"
)

// Sign-in through the city's identity provider (OpenID Connect: Keycloak,
// ADFS, Azure AD / Entra ID). The authorization code flow with PKCE, state
// and nonce; the ID token is verified by github.com/coreos/go-oidc against
// the provider's published keys. The user is found by the token's e-mail
// address (created on first sign-in); role and departments come from the
// token's group claim through the group mapping admins edit at /admin/sso
// (sso.go), on every sign-in, so a change in the directory takes effect at
// the next login. A token whose groups map to nothing is refused, and a
// user who had signed in that way loses their access. Local passwords keep
// working beside it.

// OIDCConfig configures sign-in through an OpenID Connect provider.
type OIDCConfig struct {
	Issuer       string // e.g. https://login.example.de/realms/stadt
	ClientID     string
	ClientSecret string
	// GroupClaim is the ID token claim holding the groups (default "groups").
	GroupClaim string
	// Groups is the initial mapping of directory groups to roles and
	// departments (CITYBOT_OIDC_GROUPS): taken into the database once, when
	// the mapping there was never filled; admins edit it at /admin/sso.
	Groups []OIDCGroup
	// Name is the provider's name on the login button (default "Single Sign-on").
	Name string
}

// OIDCGroup maps one group of the identity provider to a role and departments.
type OIDCGroup = staff.OIDCGroup

// Enabled reports whether OIDC sign-in is configured.
func (c OIDCConfig) Enabled() bool { return c.Issuer != "" && c.ClientID != "" }

const (
	oidcCookie   = "citybot_oidc" // state, nonce, PKCE verifier, next (HttpOnly, 10 min)
	oidcCallback = "/auth/oidc/callback"
)

// oidcClient is the provider, discovered on first use (the provider may
// start after citybot).
type oidcClient struct {
	cfg OIDCConfig
	mu  sync.Mutex
	p   *oidc.Provider
}

func (o *oidcClient) provider(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.p != nil {
		return o.p, nil
	}
	p, err := oidc.NewProvider(ctx, o.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc discovery: %w", err)
	}
	o.p = p
	return p, nil
}

func (s *Server) oauthConfig(p *oidc.Provider, c *gin.Context) *oauth2.Config {
	base := strings.TrimRight(s.cfg.BaseURL, "/")
	if base == "" {
		scheme := "http"
		if c.Request.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + c.Request.Host
	}
	return &oauth2.Config{
		ClientID:     s.cfg.OIDC.ClientID,
		ClientSecret: s.cfg.OIDC.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  base + oidcCallback,
		Scopes:       []string{oidc.ScopeOpenID, "email", "profile"},
	}
}

// oidcStart sends the browser to the provider.
func (s *Server) oidcStart(c *gin.Context) {
	ctx := c.Request.Context()
	p, err := s.oidc.provider(ctx)
	if err != nil {
		s.log.Error("oidc provider unavailable", "err", err)
		s.oidcFail(c, "login.oidc_unavailable")
		return
	}
	state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
	next := safeNext(c.Query("next"))
	s.setCookie(c, oidcCookie, strings.Join([]string{state, nonce, verifier, next}, "|"), 10*time.Minute)
	url := s.oauthConfig(p, c).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	c.Redirect(http.StatusSeeOther, url)
}

// oidcCallbackHandler finishes the sign-in: the code is exchanged, the ID
// token verified (signature, issuer, audience, expiry, nonce), the user
// created or updated from its claims and logged in.
func (s *Server) oidcCallbackHandler(c *gin.Context) {
	ctx := c.Request.Context()
	ck, _ := c.Cookie(oidcCookie)
	s.clearCookie(c, oidcCookie)
	parts := strings.Split(ck, "|")
	if len(parts) != 4 || c.Query("state") == "" || c.Query("state") != parts[0] {
		s.oidcFail(c, "login.oidc_failed")
		return
	}
	nonce, verifier, next := parts[1], parts[2], safeNext(parts[3])
	if e := c.Query("error"); e != "" {
		s.log.Info("oidc sign-in refused by the provider", "error", truncate(e, 100))
		s.oidcFail(c, "login.oidc_failed")
		return
	}
	p, err := s.oidc.provider(ctx)
	if err != nil {
		s.log.Error("oidc provider unavailable", "err", err)
		s.oidcFail(c, "login.oidc_unavailable")
		return
	}
	tok, err := s.oauthConfig(p, c).Exchange(ctx, c.Query("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		s.log.Warn("oidc code exchange failed", "err", err)
		s.oidcFail(c, "login.oidc_failed")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: s.cfg.OIDC.ClientID}).Verify(ctx, raw)
	if err != nil || idt.Nonce != nonce {
		s.log.Warn("oidc id token rejected", "err", err, "nonce_ok", err == nil && idt.Nonce == nonce)
		s.oidcFail(c, "login.oidc_failed")
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		s.oidcFail(c, "login.oidc_failed")
		return
	}
	u, err := s.oidcUser(ctx, claims)
	switch {
	case errors.Is(err, staff.ErrNoGroup), errors.Is(err, ErrInvalid), errors.Is(err, staff.ErrInvalid):
		s.log.Info("oidc sign-in without access", "sub", idt.Subject, "err", err)
		s.oidcFail(c, "login.oidc_noaccess")
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	if err := s.logIn(c, u.ID, "oidc"); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, next)
}

// oidcUser creates or updates the user of verified claims.
func (s *Server) oidcUser(ctx context.Context, claims map[string]any) (staff.Principal, error) {
	email, _ := claims["email"].(string)
	if email == "" {
		email, _ = claims["upn"].(string) // ADFS, Azure AD
	}
	if v, ok := claims["email_verified"].(bool); ok && !v {
		return staff.Principal{}, fmt.Errorf("%w: e-mail address not verified", ErrInvalid)
	}
	email = normalizeEmail(email)
	if email == "" || !strings.Contains(email, "@") {
		return staff.Principal{}, fmt.Errorf("%w: no e-mail address in the token", ErrInvalid)
	}
	name, _ := claims["name"].(string)
	if name = strings.TrimSpace(name); name == "" {
		name = email
	}
	claim := s.cfg.OIDC.GroupClaim
	if claim == "" {
		claim = "groups"
	}
	var groups []string
	switch v := claims[claim].(type) {
	case []any:
		for _, g := range v {
			if s, ok := g.(string); ok {
				groups = append(groups, s)
			}
		}
	case string:
		groups = []string{v}
	}
	if err := s.seedOIDCGroups(ctx); err != nil {
		return staff.Principal{}, err
	}
	return s.staff.OIDCSignIn(ctx, email, name, staff.OIDCUserGroups(groups))
}

func (s *Server) oidcFail(c *gin.Context, key string) {
	p := s.page(c, "login.title")
	p.Error = p.T(key)
	p.Data = map[string]any{"Next": "/", "Email": ""}
	s.render(c, http.StatusUnauthorized, "login", p)
}
