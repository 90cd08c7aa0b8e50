package ksauth

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScopeWire checks each scope's "scope" value on its own, and that the
// whole request carries no "scope" key for a nil Scope.
func TestScopeWire(t *testing.T) {
	for _, sc := range scopeGolden {
		t.Run(sc.name, func(t *testing.T) {
			k := &Keystone{Credentials: Password{UserID: fxAliceID, Password: "alice-secret"}, Scope: sc.scope}
			b, err := json.Marshal(k.request())
			require.NoError(t, err)
			var req struct {
				Auth map[string]json.RawMessage `json:"auth"`
			}
			require.NoError(t, json.Unmarshal(b, &req))
			got, present := req.Auth["scope"]
			if sc.json == "" {
				assert.False(t, present, "nil Scope must send no scope key: %s", b)
				return
			}
			require.True(t, present)
			assert.JSONEq(t, sc.json, string(got))
			if sc.scope != nil {
				assert.NoError(t, sc.scope.validate())
			}
		})
	}
}

// TestUnscopedIsAString: Keystone wants the JSON string "unscoped", not an
// object (auth_password_explicit_unscoped).
func TestUnscopedIsAString(t *testing.T) {
	b, err := json.Marshal(Unscoped{}.wire())
	require.NoError(t, err)
	assert.Equal(t, `"unscoped"`, string(b))
	c := loadCapture(t, "auth_password_explicit_unscoped")
	var recorded struct {
		Auth struct {
			Scope json.RawMessage `json:"scope"`
		} `json:"auth"`
	}
	require.NoError(t, json.Unmarshal(c.Request.Body, &recorded))
	assert.JSONEq(t, string(recorded.Auth.Scope), string(b))
}

func TestScopeValidation(t *testing.T) {
	tests := []struct {
		scope Scope
		field string // "" = valid
	}{
		{ProjectScope{ID: "p"}, ""},
		{ProjectScope{Name: "p", Domain: Domain{ID: "d"}}, ""},
		{ProjectScope{Name: "p", Domain: Domain{Name: "d"}}, ""},
		{ProjectScope{}, "Scope.ID"},
		{ProjectScope{Name: "p"}, "Scope.Domain"},
		{ProjectScope{Domain: Domain{Name: "d"}}, "Scope.ID"},
		{DomainScope{ID: "d"}, ""},
		{DomainScope{Name: "d"}, ""},
		{DomainScope{}, "Scope.ID"},
		{SystemScope{}, ""},
		{TrustScope{ID: "t"}, ""},
		{TrustScope{}, "Scope.ID"},
		{Unscoped{}, ""},
	}
	for _, tc := range tests {
		err := tc.scope.validate()
		if tc.field == "" {
			assert.NoError(t, err, "%#v", tc.scope)
			continue
		}
		var ve *ValidationError
		if assert.ErrorAs(t, err, &ve, "%#v", tc.scope) {
			assert.Equal(t, tc.field, ve.Field, "%#v", tc.scope)
		}
	}
}
