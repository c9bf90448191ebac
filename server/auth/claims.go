package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/vscard/vscard/server/viewer"
)

// profile is what vscard takes from an ID token.
type profile struct {
	Issuer      string
	Subject     string
	Username    string
	DisplayName string
	Email       string
	Roles       []string
	// Attributes are the remaining non-standard claims with string, number or bool
	// values; they feed the option script.
	Attributes map[string]any
}

// standardClaims are registered JWT/OIDC claims and never become attributes.
var standardClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true,
	"auth_time": true, "nonce": true, "acr": true, "amr": true, "azp": true, "at_hash": true,
	"c_hash": true, "sid": true, "typ": true, "client_id": true, "scope": true, "scp": true,
	"name": true, "given_name": true, "family_name": true, "middle_name": true, "nickname": true,
	"preferred_username": true, "profile": true, "picture": true, "website": true,
	"email": true, "email_verified": true, "gender": true, "birthdate": true, "zoneinfo": true,
	"locale": true, "phone_number": true, "phone_number_verified": true, "address": true,
	"updated_at": true, "groups": true, "roles": true, "tid": true, "oid": true, "ver": true,
	"uti": true, "rh": true, "idp": true, "session_state": true,
}

// profileFromClaims maps a verified ID token's claims to a profile.
func profileFromClaims(cfg *Config, issuer, subject string, raw json.RawMessage) (*profile, error) {
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, fmt.Errorf("decode ID token claims: %w", err)
	}
	p := &profile{
		Issuer:      issuer,
		Subject:     subject,
		Username:    firstString(claims, "preferred_username", "email", "sub"),
		DisplayName: firstString(claims, "name"),
		Email:       firstString(claims, "email"),
		Roles:       roles(cfg, lookupPath(claims, cfg.RolesClaim)),
		Attributes:  map[string]any{},
	}
	if p.DisplayName == "" {
		p.DisplayName = strings.TrimSpace(firstString(claims, "given_name") + " " + firstString(claims, "family_name"))
	}
	rolesRoot, _, _ := strings.Cut(cfg.RolesClaim, ".")
	for k, v := range claims {
		if standardClaims[k] || k == rolesRoot {
			continue
		}
		switch v := v.(type) {
		case string, bool:
			p.Attributes[k] = v
		case json.Number:
			if i, err := v.Int64(); err == nil {
				p.Attributes[k] = i
			} else if f, err := v.Float64(); err == nil {
				p.Attributes[k] = f
			}
		}
	}
	return p, nil
}

// roles maps the roles claim to vscard roles: everyone signed in is a user; members of
// the operator group, or holders of the value "operator", are operators; members of the
// admin group, or holders of the value "admin", are administrators (and, through
// viewer.IsOperator, operators as well).
func roles(cfg *Config, claim any) []string {
	out := []string{viewer.RoleUser}
	var operator, admin bool
	for _, v := range stringValues(claim) {
		switch v {
		case cfg.AdminGroup, viewer.RoleAdmin:
			admin = true
		case cfg.OperatorGroup, viewer.RoleOperator:
			operator = true
		}
	}
	if operator {
		out = append(out, viewer.RoleOperator)
	}
	if admin {
		out = append(out, viewer.RoleAdmin)
	}
	return out
}

// lookupPath follows a dotted path ("realm_access.roles") into the claims.
func lookupPath(claims map[string]any, path string) any {
	var cur any = claims
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// stringValues reads a claim that is a list of strings, or one string of space- or
// comma-separated values.
func stringValues(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return slices.Clone(v)
	}
	return nil
}

func firstString(claims map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := claims[k].(string); ok && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}
