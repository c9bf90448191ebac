package auth

import (
	"slices"
	"testing"
)

func TestProfileFromClaims(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rolesClaim string
		claims     string
		username   string
		display    string
		roles      []string
		attrs      map[string]any
	}{
		{
			name:     "ok/groups list with the admin group",
			claims:   `{"sub":"s1","preferred_username":"ann","name":"Ann","groups":["staff","vscard-admins"]}`,
			username: "ann", display: "Ann", roles: []string{"user", "admin"}, attrs: map[string]any{},
		},
		{
			name:       "ok/Keycloak realm roles by dotted path",
			rolesClaim: "realm_access.roles",
			claims:     `{"sub":"s2","email":"kc@example.test","realm_access":{"roles":["admin","offline_access"]}}`,
			username:   "kc@example.test", roles: []string{"user", "admin"}, attrs: map[string]any{},
		},
		{
			name:     "ok/space-separated string, no admin; given and family name",
			claims:   `{"sub":"s3","groups":"staff sales","given_name":"Bo","family_name":"Berg"}`,
			username: "s3", display: "Bo Berg", roles: []string{"user"}, attrs: map[string]any{},
		},
		{
			name:     "ok/attributes keep simple non-standard claims only",
			claims:   `{"sub":"s4","preferred_username":"x","dept":"IT","level":3,"ratio":0.5,"ext":true,"nested":{"a":1},"list":["a"],"acr":"1","sid":"z"}`,
			username: "x", roles: []string{"user"},
			attrs: map[string]any{"dept": "IT", "level": int64(3), "ratio": 0.5, "ext": true},
		},
		{
			name:     "ok/admin lookalikes are not admin",
			claims:   `{"sub":"s5","groups":["vscard-admins-readonly","Admin","administrators"]}`,
			username: "s5", roles: []string{"user"}, attrs: map[string]any{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{RolesClaim: tc.rolesClaim}.withDefaults()
			p, err := profileFromClaims(&cfg, "https://idp", "sub", []byte(tc.claims))
			if err != nil {
				t.Fatal(err)
			}
			if p.Username != tc.username || p.DisplayName != tc.display || !slices.Equal(p.Roles, tc.roles) {
				t.Errorf("profile = %+v", p)
			}
			if len(p.Attributes) != len(tc.attrs) {
				t.Errorf("attributes = %#v, want %#v", p.Attributes, tc.attrs)
			}
			for k, v := range tc.attrs {
				if p.Attributes[k] != v {
					t.Errorf("attribute %s = %#v, want %#v", k, p.Attributes[k], v)
				}
			}
		})
	}
}

func TestConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"error/no issuer":         {ClientID: "c", PublicURL: "http://localhost"},
		"error/no client id":      {Issuer: "http://idp", PublicURL: "http://localhost"},
		"error/no public URL":     {Issuer: "http://idp", ClientID: "c"},
		"error/bad default state": {Issuer: "http://idp", ClientID: "c", PublicURL: "http://localhost", DefaultUserState: "ENABLED"},
		"error/bad initial state": {Issuer: "http://idp", ClientID: "c", PublicURL: "http://localhost", InitialStates: map[string]string{"s": "x"}},
		"error/idle over lifetime": {Issuer: "http://idp", ClientID: "c", PublicURL: "http://localhost",
			IdleTimeout: 2e9, Lifetime: 1e9},
	} {
		t.Run(name, func(t *testing.T) {
			if err := cfg.withDefaults().validate(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	cfg := Config{Issuer: "https://idp/", ClientID: "c", PublicURL: "https://vscard.example.com/"}.withDefaults()
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.RedirectURL != "https://vscard.example.com/auth/callback" || cfg.Issuer != "https://idp" ||
		!slices.Equal(cfg.AllowedOrigins, []string{"https://vscard.example.com"}) || !cfg.secure() ||
		cfg.DefaultUserState != StateRegistered || cfg.IdleTimeout.Minutes() != 30 || cfg.Lifetime.Hours() != 12 {
		t.Errorf("defaults = %+v", cfg)
	}
}
