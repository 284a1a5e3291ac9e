package admin

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"citybot/staff"
)

// testIssuer is a small OpenID Connect provider: discovery, JWKS, an
// authorization endpoint that signs the user in at once, and a token
// endpoint that checks the PKCE verifier and returns an ID token signed
// with a generated RSA key.
type testIssuer struct {
	*httptest.Server
	t   *testing.T
	key *rsa.PrivateKey

	mu        sync.Mutex
	claims    map[string]any // of the next sign-in
	codes     map[string]issuedCode
	badNonce  bool
	otherKey  *rsa.PrivateKey // when set, tokens are signed with it (not in the JWKS)
	exchanges int
}

type issuedCode struct{ nonce, challenge, clientID string }

func newTestIssuer(t *testing.T) *testIssuer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &testIssuer{t: t, key: key, codes: map[string]issuedCode{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer": is.URL, "authorization_endpoint": is.URL + "/auth", "token_endpoint": is.URL + "/token",
			"jwks_uri": is.URL + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &is.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /auth", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" {
			http.Error(w, "bad request", 400)
			return
		}
		code := randomToken()
		is.mu.Lock()
		is.codes[code] = issuedCode{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), clientID: q.Get("client_id")}
		is.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		is.mu.Lock()
		defer is.mu.Unlock()
		is.exchanges++
		c, ok := is.codes[r.PostForm.Get("code")]
		delete(is.codes, r.PostForm.Get("code"))
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		id, secret, _ := r.BasicAuth()
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge || id != "citybot" || secret != "s3cret" {
			w.WriteHeader(400)
			writeJSON(w, map[string]string{"error": "invalid_grant"})
			return
		}
		claims := map[string]any{"iss": is.URL, "aud": c.clientID, "sub": "user-1", "iat": time.Now().Unix(),
			"exp": time.Now().Add(5 * time.Minute).Unix(), "nonce": c.nonce}
		if is.badNonce {
			claims["nonce"] = "another"
		}
		for k, v := range is.claims {
			claims[k] = v
		}
		key := is.key
		if is.otherKey != nil {
			key = is.otherKey
		}
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
		if err != nil {
			is.t.Error(err)
			return
		}
		payload, _ := json.Marshal(claims)
		obj, err := sig.Sign(payload)
		if err != nil {
			is.t.Error(err)
			return
		}
		tok, _ := obj.CompactSerialize()
		writeJSON(w, map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": tok})
	})
	is.Server = httptest.NewServer(mux)
	t.Cleanup(is.Close)
	return is
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (is *testIssuer) set(f func(is *testIssuer)) {
	is.mu.Lock()
	defer is.mu.Unlock()
	f(is)
}

// oidcLogin runs the browser's part of a sign-in: start, the provider's
// page, back to the callback. It returns the callback's response.
func (c *client) oidcLogin(next string, tamper func(callback *url.URL)) resp {
	c.t.Helper()
	r := c.get("/auth/oidc/start?next=" + url.QueryEscape(next))
	if r.Status != http.StatusSeeOther {
		c.t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	res, err := c.hc.Get(r.Header.Get("Location")) // the provider signs the user in
	if err != nil {
		c.t.Fatal(err)
	}
	res.Body.Close()
	cb, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound || cb.Path != oidcCallback {
		c.t.Fatalf("provider: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if tamper != nil {
		tamper(cb)
	}
	return c.get(cb.Path + "?" + cb.RawQuery)
}

func TestOIDCSignIn(t *testing.T) {
	is := newTestIssuer(t)
	e := newEnv(t, func(c *Config, _ *Deps) {
		c.OIDC = OIDCConfig{Issuer: is.URL, ClientID: "citybot", ClientSecret: "s3cret", Name: "Stadt-Login", Groups: []OIDCGroup{
			{Group: "citybot-bau", Role: staff.RoleStaff, Departments: []string{"bauamt"}},
			{Group: "citybot-ordnung", Role: staff.RoleStaff, Departments: []string{"ordnungsamt"}},
			{Group: "citybot-admins", Role: staff.RoleAdmin},
		}}
	})
	if r := e.client().get("/login"); !strings.Contains(r.Body, "Anmelden mit Stadt-Login") {
		t.Fatal("no sign-in button on the login page")
	}
	is.set(func(is *testIssuer) {
		is.claims = map[string]any{"email": "Berta.Bau@Example.org", "email_verified": true, "name": "Berta Bau", "groups": []string{"citybot-bau", "citybot-ordnung", "other"}}
	})
	c := e.client()
	r := c.oidcLogin("/account", nil)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account" {
		t.Fatalf("callback: %d %q %s", r.Status, r.Header.Get("Location"), r.Body)
	}
	if r := c.get("/account"); r.Status != 200 || !strings.Contains(r.Body, "Berta Bau") {
		t.Fatalf("account after sign-in: %d", r.Status)
	}
	var row struct {
		Role string `db:"role"`
		Hash string `db:"password_hash"`
		Deps string `db:"deps"`
	}
	get := func() {
		t.Helper()
		if err := e.db.Get(&row, `SELECT role, password_hash, COALESCE((SELECT string_agg(department_id, ',' ORDER BY department_id) FROM user_departments WHERE user_id = u.id), '') AS deps
			FROM users u WHERE email = 'berta.bau@example.org'`); err != nil {
			t.Fatal(err)
		}
	}
	get()
	if row.Role != staff.RoleStaff || row.Deps != "bauamt,ordnungsamt" || row.Hash != "!" {
		t.Fatalf("user %+v", row)
	}
	// No password works for a provider-only user.
	if r := e.client().postLogin("berta.bau@example.org", "!", ""); r.Status != http.StatusUnauthorized {
		t.Fatalf("password login of a provider-only user: %d", r.Status)
	}
	// The directory changes: at the next sign-in the role and departments follow.
	is.set(func(is *testIssuer) { is.claims["groups"] = []string{"citybot-admins", "citybot-bau"} })
	if r := e.client().oidcLogin("/", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", r.Status)
	}
	get()
	if row.Role != staff.RoleAdmin || row.Deps != "bauamt" {
		t.Fatalf("after the group change: %+v", row)
	}

	var sessions int
	count := func() int {
		t.Helper()
		if err := e.db.Get(&sessions, `SELECT count(*) FROM sessions`); err != nil {
			t.Fatal(err)
		}
		return sessions
	}
	before := count()
	refused := []struct {
		name   string
		setup  func(is *testIssuer)
		tamper func(*url.URL)
		want   string
	}{
		{"unverified e-mail", func(is *testIssuer) { is.claims["email_verified"] = false }, nil, "nicht freigeschaltet"},
		{"wrong nonce", func(is *testIssuer) { is.badNonce = true }, nil, "fehlgeschlagen"},
		{"foreign signing key", func(is *testIssuer) {
			is.otherKey, _ = rsa.GenerateKey(rand.Reader, 2048)
		}, nil, "fehlgeschlagen"},
		{"forged state", nil, func(u *url.URL) {
			q := u.Query()
			q.Set("state", "forged")
			u.RawQuery = q.Encode()
		}, "fehlgeschlagen"},
		{"replayed code", nil, func(u *url.URL) {
			// The code is used once by another request first.
			q := u.Query()
			is.mu.Lock()
			delete(is.codes, q.Get("code"))
			is.mu.Unlock()
		}, "fehlgeschlagen"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			is.set(func(is *testIssuer) {
				is.claims = map[string]any{"email": "berta.bau@example.org", "email_verified": true, "name": "Berta Bau", "groups": []string{"citybot-bau"}}
				is.badNonce, is.otherKey = false, nil
				if tt.setup != nil {
					tt.setup(is)
				}
			})
			r := e.client().oidcLogin("/", tt.tamper)
			if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, tt.want) {
				t.Fatalf("status %d, want 401 with %q", r.Status, tt.want)
			}
			if n := count(); n != before {
				t.Fatalf("sessions %d, want %d", n, before)
			}
		})
	}
	// Groups that map to nothing: refused, and what the mapping gave is
	// taken (departments, role, sessions).
	is.set(func(is *testIssuer) {
		is.claims = map[string]any{"email": "berta.bau@example.org", "email_verified": true, "name": "Berta Bau", "groups": []string{"other"}}
		is.badNonce, is.otherKey = false, nil
	})
	if r := e.client().oidcLogin("/", nil); r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "nicht freigeschaltet") {
		t.Fatalf("no mapped group: %d", r.Status)
	}
	get()
	if row.Role != staff.RoleStaff || row.Deps != "" {
		t.Fatalf("after a sign-in without a mapped group: %+v", row)
	}
	if r := c.get("/account"); r.Status != http.StatusSeeOther {
		t.Fatalf("the earlier session still works: %d", r.Status)
	}
	// Local passwords keep working beside the provider.
	e.user("lokal@example.org", staff.RoleStaff, "bauamt")
	e.loggedIn("lokal@example.org")
}

// TestOIDCGroupMappingInUI: the group mapping is taken over from
// CITYBOT_OIDC_GROUPS once and then edited by admins at /admin/sso. A
// changed mapping applies at once to users who signed in through the
// provider and at their next sign-in; a removed group takes its users'
// access (sessions end, the next sign-in is refused). Every change is
// audited; an admin cannot take their own admin role; the variable does
// not come back after the mapping was emptied.
func TestOIDCGroupMappingInUI(t *testing.T) {
	is := newTestIssuer(t)
	e := newEnv(t, func(c *Config, _ *Deps) {
		c.OIDC = OIDCConfig{Issuer: is.URL, ClientID: "citybot", ClientSecret: "s3cret", Groups: []OIDCGroup{
			{Group: "citybot-bau", Role: staff.RoleStaff, Departments: []string{"bauamt", "no-such-office"}},
			{Group: "citybot-admins", Role: staff.RoleAdmin},
		}}
	})
	signIn := func(email string, groups ...string) (*client, resp) {
		t.Helper()
		is.set(func(is *testIssuer) {
			is.claims = map[string]any{"email": email, "email_verified": true, "name": email, "groups": groups}
		})
		c := e.client()
		return c, c.oidcLogin("/account", nil)
	}
	type access struct {
		Role string `db:"role"`
		Deps string `db:"deps"`
	}
	accessOf := func(email string) access {
		t.Helper()
		var a access
		if err := e.db.Get(&a, `SELECT role, COALESCE((SELECT string_agg(department_id, ',' ORDER BY department_id) FROM user_departments WHERE user_id = u.id), '') AS deps
			FROM users u WHERE email = $1`, email); err != nil {
			t.Fatal(err)
		}
		return a
	}
	groupID := func(name string) string {
		t.Helper()
		var id int64
		if err := e.db.Get(&id, `SELECT id FROM oidc_groups WHERE group_name = $1`, name); err != nil {
			t.Fatalf("group %s: %v", name, err)
		}
		return itoa(id)
	}

	// The chief signs in through the provider as admin: the environment's
	// mapping was taken over (the unknown department left out).
	chief, r := signIn("chef@example.org", "citybot-admins")
	if r.Status != http.StatusSeeOther {
		t.Fatalf("chief: %d %s", r.Status, r.Body)
	}
	page := chief.get("/admin/sso")
	if page.Status != 200 || !strings.Contains(page.Body, "citybot-bau") || !strings.Contains(page.Body, "citybot-admins") || !strings.Contains(page.Body, "Bauamt") {
		t.Fatalf("settings page: %d", page.Status)
	}
	var imported int
	if err := e.db.Get(&imported, `SELECT count(*) FROM audit_log WHERE action = 'oidc_group.import'`); err != nil || imported != 1 {
		t.Fatalf("import audited %d times (%v)", imported, err)
	}

	berta, r := signIn("berta@example.org", "citybot-bau", "citybot-ordnung")
	if r.Status != http.StatusSeeOther {
		t.Fatalf("berta: %d", r.Status)
	}
	if a := accessOf("berta@example.org"); a != (access{staff.RoleStaff, "bauamt"}) {
		t.Fatalf("berta at first: %+v", a)
	}
	// Staff do not reach the settings.
	if r := berta.get("/admin/sso"); r.Status != http.StatusForbidden {
		t.Fatalf("staff on /admin/sso: %d", r.Status)
	}

	// Form checks.
	for _, tc := range []struct {
		group string
		want  int
	}{{"", http.StatusBadRequest}, {"a\x01b", http.StatusBadRequest}, {strings.Repeat("g", 257), http.StatusBadRequest}, {"citybot-bau", http.StatusConflict}} {
		if r := chief.postForm("/admin/sso/new", "/admin/sso", url.Values{"group": {tc.group}, "role": {staff.RoleStaff}}); r.Status != tc.want {
			t.Errorf("group %.20q: %d, want %d", tc.group, r.Status, tc.want)
		}
	}
	if r := chief.postForm("/admin/sso/new", "/admin/sso", url.Values{"group": {"x"}, "role": {"root"}}); r.Status != http.StatusBadRequest {
		t.Errorf("unknown role: %d", r.Status)
	}

	// A group Berta has gets a mapping: she has its department at once.
	if r := chief.postForm("/admin/sso/new", "/admin/sso", url.Values{"group": {"citybot-ordnung"}, "role": {staff.RoleStaff}, "departments": {"ordnungsamt"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("new mapping: %d %s", r.Status, r.Body)
	}
	if a := accessOf("berta@example.org"); a != (access{staff.RoleStaff, "bauamt,ordnungsamt"}) {
		t.Fatalf("berta after the new mapping: %+v", a)
	}
	// Changed in the UI: citybot-bau gives the editor role and the Zentrale.
	bau := groupID("citybot-bau")
	if r := chief.postForm("/admin/sso/"+bau, "/admin/sso/"+bau, url.Values{"group": {"citybot-bau"}, "role": {staff.RoleEditor}, "departments": {"zentrale"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("edit mapping: %d %s", r.Status, r.Body)
	}
	if a := accessOf("berta@example.org"); a != (access{staff.RoleEditor, "ordnungsamt,zentrale"}) {
		t.Fatalf("berta after the change: %+v", a)
	}
	// ... and at her next sign-in, now with one group less in the directory.
	if _, r := signIn("berta@example.org", "citybot-bau"); r.Status != http.StatusSeeOther {
		t.Fatalf("berta again: %d", r.Status)
	}
	if a := accessOf("berta@example.org"); a != (access{staff.RoleEditor, "zentrale"}) {
		t.Fatalf("berta at the next sign-in: %+v", a)
	}
	var upd string
	if err := e.db.Get(&upd, `SELECT details::text FROM audit_log WHERE action = 'oidc_group.update' AND object_id = $1`, bau); err != nil ||
		!strings.Contains(upd, `"role": "editor"`) || !strings.Contains(upd, `"before"`) {
		t.Fatalf("update audit %s %v", upd, err)
	}

	// The chief cannot take their own admin role.
	adm := groupID("citybot-admins")
	if r := chief.postForm("/admin/sso/"+adm, "/admin/sso/"+adm, url.Values{"group": {"citybot-admins"}, "role": {staff.RoleStaff}}); r.Status != http.StatusConflict || !strings.Contains(r.Body, "selbst") {
		t.Fatalf("own admin role: %d", r.Status)
	}
	if r := chief.postForm("/admin/sso/"+adm+"/delete", "/admin/sso/"+adm+"/delete", nil); r.Status != http.StatusConflict {
		t.Fatalf("deleting the own admin group: %d", r.Status)
	}
	if a := accessOf("chef@example.org"); a.Role != staff.RoleAdmin {
		t.Fatalf("chief: %+v", a)
	}

	// Removed in the UI: Berta loses her access at once ...
	bertaNow, _ := signIn("berta@example.org", "citybot-bau")
	if r := bertaNow.get("/account"); r.Status != 200 {
		t.Fatalf("berta's session: %d", r.Status)
	}
	if r := chief.get("/admin/sso/" + bau + "/delete"); r.Status != 200 || !strings.Contains(r.Body, "citybot-bau") {
		t.Fatalf("delete page: %d", r.Status)
	}
	if r := chief.postForm("/admin/sso/"+bau+"/delete", "/admin/sso/"+bau+"/delete", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if a := accessOf("berta@example.org"); a != (access{staff.RoleStaff, ""}) {
		t.Fatalf("berta after the removal: %+v", a)
	}
	if r := bertaNow.get("/account"); r.Status != http.StatusSeeOther {
		t.Fatalf("berta's session after the removal: %d", r.Status)
	}
	var del string
	if err := e.db.Get(&del, `SELECT details::text FROM audit_log WHERE action = 'oidc_group.delete'`); err != nil || !strings.Contains(del, "users_revoked") {
		t.Fatalf("delete audit %s %v", del, err)
	}
	// ... and at her next sign-in.
	if _, r := signIn("berta@example.org", "citybot-bau"); r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "nicht freigeschaltet") {
		t.Fatalf("berta after the removal signs in: %d", r.Status)
	}

	// The environment's mapping is not taken over again, also not by
	// another instance, once admins edit it.
	s2 := New(e.srv.cfg, e.srv.deps)
	if err := s2.seedOIDCGroups(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM oidc_groups WHERE group_name = 'citybot-bau'`); err != nil || n != 0 {
		t.Fatalf("citybot-bau back: %d %v", n, err)
	}
}
