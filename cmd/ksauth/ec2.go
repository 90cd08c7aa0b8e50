package main

import (
	"fmt"
	"strings"

	"github.com/ksauth/ksauth"
)

// resolveProject returns the id of the project p names (an id or a name of
// one of the user's projects); "" is the token's project.
func (a *app) resolveProject(cfg *ksauth.Config, s *ksauth.Session, tok *ksauth.Token, p string) (string, error) {
	if p == "" {
		if tok.Project == nil {
			return "", usagef("ksauth %s: the token is not project-scoped: give --project", a.cmd.path)
		}
		return tok.Project.ID, nil
	}
	if tok.Project != nil && (p == tok.Project.ID || p == tok.Project.Name) {
		return tok.Project.ID, nil
	}
	projects, err := cfg.Keystone.Projects(a.ctx, s)
	if err != nil {
		return "", err
	}
	var byName []ksauth.Project
	for _, pr := range projects {
		if pr.ID == p {
			return pr.ID, nil
		}
		if pr.Name == p {
			byName = append(byName, pr)
		}
	}
	switch len(byName) {
	case 1:
		return byName[0].ID, nil
	case 0:
		return "", &notFoundError{msg: fmt.Sprintf("ksauth %s: no project %q among the user's projects", a.cmd.path, p)}
	}
	return "", usagef("ksauth %s: %d projects are named %q: give the id", a.cmd.path, len(byName), p)
}

// awsCredential is the AWS credential_process answer.
type awsCredential struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
}

func (a *app) cmdCredentialProcess(_ []string) error {
	cfg, s, tok, err := a.loggedIn()
	if err != nil {
		return err
	}
	project, err := a.resolveProject(cfg, s, tok, a.f.project)
	if err != nil {
		return err
	}
	creds, err := cfg.Keystone.EC2Credentials(a.ctx, s, tok.User.ID)
	if err != nil {
		return err
	}
	var cred *ksauth.EC2Credential
	for i := range creds {
		if creds[i].ProjectID == project && creds[i].TrustID == "" {
			cred = &creds[i]
			break
		}
	}
	if cred == nil {
		if cred, err = cfg.Keystone.CreateEC2Credential(a.ctx, s, tok.User.ID, project); err != nil {
			return err
		}
	}
	return a.printJSONCompact(awsCredential{Version: 1, AccessKeyID: cred.Access, SecretAccessKey: cred.Secret})
}

func (a *app) printJSONCompact(v any) error {
	var b strings.Builder
	if err := jsonEncode(&b, v); err != nil {
		return err
	}
	_, err := fmt.Fprint(a.stdout, b.String())
	return err
}
