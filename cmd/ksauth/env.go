package main

import (
	"fmt"
	"strings"

	"github.com/ksauth/ksauth"
)

// envUnset are the variables that would conflict with a token login:
// another cloud, another identity method or another scope, which
// openstackclient, openstacksdk, gophercloud and Terraform would prefer
// to, or mix with, the token.
var envUnset = []string{
	"OS_CLOUD",
	"OS_USERNAME", "OS_USER_ID", "OS_PASSWORD",
	"OS_USER_DOMAIN_NAME", "OS_USER_DOMAIN_ID",
	"OS_APPLICATION_CREDENTIAL_ID", "OS_APPLICATION_CREDENTIAL_NAME", "OS_APPLICATION_CREDENTIAL_SECRET",
	"OS_AUTH_TOKEN", "OS_PASSCODE", "OS_AUTH_METHODS",
	"OS_PROJECT_NAME", "OS_TENANT_NAME", "OS_TENANT_ID",
	"OS_PROJECT_DOMAIN_NAME", "OS_PROJECT_DOMAIN_ID",
	"OS_DOMAIN_NAME", "OS_DOMAIN_ID", "OS_DEFAULT_DOMAIN", "OS_DEFAULT_DOMAIN_ID", "OS_DEFAULT_DOMAIN_NAME",
	"OS_SYSTEM_SCOPE", "OS_TRUST_ID",
}

// envVars are the exported variables, in order.
func envVars(cfg *ksauth.Config, tok *ksauth.Token) [][2]string {
	vars := [][2]string{
		{"OS_AUTH_TYPE", "token"},
		{"OS_TOKEN", tok.ID},
		{"OS_AUTH_URL", cfg.Keystone.AuthURL},
		{"OS_IDENTITY_API_VERSION", "3"},
	}
	switch {
	case tok.Project != nil:
		vars = append(vars, [2]string{"OS_PROJECT_ID", tok.Project.ID})
	case tok.Domain != nil:
		vars = append(vars, [2]string{"OS_DOMAIN_ID", tok.Domain.ID})
	case tok.System:
		vars = append(vars, [2]string{"OS_SYSTEM_SCOPE", "all"})
	}
	if cfg.Region != "" {
		vars = append(vars, [2]string{"OS_REGION_NAME", cfg.Region})
	}
	vars = append(vars, [2]string{"OS_INTERFACE", cfg.Interface},
		// Terraform's OpenStack provider: a bare token cannot be renewed;
		// without this it would try to authenticate again with it.
		[2]string{"OS_ALLOW_REAUTH", "false"})
	return vars
}

// shQuote quotes s for sh: in single quotes, each quote closed, escaped and reopened.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// fishQuote quotes s for fish: single quotes, in which \ and ' are escaped.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func (a *app) cmdEnv(_ []string) error {
	shell := a.f.shell
	if shell != "sh" && shell != "fish" {
		return usagef("ksauth env: --shell %q: sh or fish", shell)
	}
	cfg, s, err := a.session()
	if err != nil {
		return err
	}
	tok, err := a.freshToken(s, a.f.minValid, false)
	if err != nil {
		return err
	}
	vars := envVars(cfg, tok)
	exported := map[string]bool{}
	for _, kv := range vars {
		exported[kv[0]] = true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# ksauth env: a token for %s, until %s\n", tok.User.Name, rfc3339(tok.ExpiresAt))
	var unset []string
	for _, k := range envUnset {
		if !exported[k] {
			unset = append(unset, k)
		}
	}
	if shell == "fish" {
		for _, k := range unset {
			fmt.Fprintf(&b, "set -e %s\n", k)
		}
		for _, kv := range vars {
			fmt.Fprintf(&b, "set -gx %s %s\n", kv[0], fishQuote(kv[1]))
		}
	} else {
		fmt.Fprintf(&b, "unset %s\n", strings.Join(unset, " "))
		for _, kv := range vars {
			fmt.Fprintf(&b, "export %s=%s\n", kv[0], shQuote(kv[1]))
		}
	}
	_, err = fmt.Fprint(a.stdout, b.String())
	return err
}
