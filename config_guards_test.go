package ksauth

import (
	"testing"
)

// TestConfigCleuraRefusesEveryKeystoneSetting: each Keystone setting a
// Cleura entry has no use for (a scope, another identity method, a
// passcode, auth methods) is refused naming the field, not dropped.
func TestConfigCleuraRefusesEveryKeystoneSetting(t *testing.T) {
	registerSecret("secret-pw")
	base := []string{"OS_AUTH_TYPE=cleura", "OS_USERNAME=carla", "OS_PASSWORD=secret-pw"}
	for _, tc := range []struct{ env, want string }{
		{"OS_USER_ID=u", "auth.user_id"},
		{"OS_PROJECT_ID=p", "auth.project_name/project_id"},
		{"OS_DOMAIN_NAME=Default", "auth.domain_name/domain_id"},
		{"OS_DOMAIN_ID=default", "auth.domain_name/domain_id"},
		{"OS_SYSTEM_SCOPE=all", "auth.system_scope"},
		{"OS_TRUST_ID=t", "auth.trust_id"},
		{"OS_APPLICATION_CREDENTIAL_NAME=ac", "auth.application_credential_id/application_credential_name"},
		{"OS_PASSCODE=123456", "auth.passcode"},
		{"OS_AUTH_METHODS=password,totp", "auth_methods"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			wantConfigError(t, nil, ConfigOptions{}, tc.want+": not used by auth_type cleura", append(base, tc.env)...)
		})
	}
}
