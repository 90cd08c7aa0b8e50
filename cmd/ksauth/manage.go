package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ksauth/ksauth"
)

// jsonAppCred is appcred's JSON; Secret only in create's answer.
type jsonAppCred struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	Description  string        `json:"description"`
	ProjectID    string        `json:"project_id"`
	ExpiresAt    *string       `json:"expires_at"`
	Roles        []ksauth.Role `json:"roles"`
	Unrestricted bool          `json:"unrestricted"`
	Secret       string        `json:"secret,omitempty"`
}

func appCredJSON(ac *ksauth.ApplicationCredentialInfo, withSecret bool) jsonAppCred {
	j := jsonAppCred{ID: ac.ID, Name: ac.Name, Description: ac.Description, ProjectID: ac.ProjectID,
		Roles: orEmpty(ac.Roles), Unrestricted: ac.Unrestricted}
	if !ac.ExpiresAt.IsZero() {
		e := rfc3339(ac.ExpiresAt)
		j.ExpiresAt = &e
	}
	if withSecret {
		j.Secret = ac.Secret
	}
	return j
}

// loggedIn is the configuration, a Session over it and a token from it
// (the cached one while it is fresh).
func (a *app) loggedIn() (*ksauth.Config, *ksauth.Session, *ksauth.Token, error) {
	cfg, s, err := a.session()
	if err != nil {
		return nil, nil, nil, err
	}
	tok, err := a.freshToken(s, 0, false)
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, s, tok, nil
}

func (a *app) cmdAppCredCreate(args []string) error {
	req, err := a.appCredRequest(args[0])
	if err != nil {
		return err
	}
	var yamlFile *os.File
	if a.f.cloudsYAML != "" {
		// Created owner-only before anything is sent; never over a file.
		if yamlFile, err = os.OpenFile(a.f.cloudsYAML, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return fmt.Errorf("ksauth appcred create: --clouds-yaml: %w", err)
		}
		defer func() {
			if yamlFile != nil { // not written: remove the empty file
				yamlFile.Close()
				os.Remove(a.f.cloudsYAML)
			}
		}()
	}
	cfg, s, tok, err := a.loggedIn()
	if err != nil {
		return err
	}
	ac, err := cfg.Keystone.CreateApplicationCredential(a.ctx, s, tok.User.ID, req)
	if err != nil {
		return err
	}
	if yamlFile != nil {
		f := yamlFile
		yamlFile = nil
		return a.writeCloudsYAML(f, cfg, ac)
	}
	if a.g.output == "json" {
		return a.printJSON(appCredJSON(ac, true))
	}
	fmt.Fprintf(a.stderr, "ksauth: the secret is shown only this once\n")
	_, err = fmt.Fprintf(a.stdout, "id:     %s\nname:   %s\nsecret: %s\n", ac.ID, ac.Name, ac.Secret)
	return err
}

// appCredRequest is the application credential appcred create's flags
// describe, its secret read from stdin with --secret-stdin.
func (a *app) appCredRequest(name string) (ksauth.NewApplicationCredential, error) {
	req := ksauth.NewApplicationCredential{Name: name, Description: a.f.description, Unrestricted: a.f.unrestricted}
	if a.f.expiresAt != "" {
		t, err := time.Parse(time.RFC3339, a.f.expiresAt)
		if err != nil {
			return req, usagef("ksauth appcred create: --expires-at %q: not an RFC 3339 time", a.f.expiresAt)
		}
		req.ExpiresAt = t
	}
	for _, r := range strings.Split(a.f.roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			req.Roles = append(req.Roles, ksauth.Role{Name: r})
		}
	}
	if a.f.secretStdin {
		if a.g.stdin {
			return req, usagef("ksauth appcred create: --password-stdin and --secret-stdin cannot both read stdin")
		}
		secret, err := a.readLine("--secret-stdin")
		if err != nil {
			return req, err
		}
		if secret == "" { // else Keystone would generate one: not what was asked for
			return req, &inputError{msg: "ksauth: --secret-stdin: the first line of stdin is empty"}
		}
		req.Secret = secret
	}
	return req, nil
}

// writeCloudsYAML writes the clouds.yaml entry of the new credential ac to
// f (--clouds-yaml) and closes it; the secret goes only there.
func (a *app) writeCloudsYAML(f *os.File, cfg *ksauth.Config, ac *ksauth.ApplicationCredentialInfo) error {
	doc, err := ac.CloudsYAML(ac.Name, cfg.Keystone.AuthURL, cfg.Region)
	if err == nil {
		_, err = f.Write(doc)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("ksauth appcred create: application credential %s created, but --clouds-yaml failed: %w", ac.ID, err)
	}
	fmt.Fprintf(a.stderr, "ksauth: application credential %s (%s) created; its clouds.yaml entry %q is in %s\n", ac.Name, ac.ID, ac.Name, a.f.cloudsYAML)
	if a.g.output == "json" {
		return a.printJSON(appCredJSON(ac, false))
	}
	return nil
}

// findAppCred finds the user's application credential by id, else name.
func (a *app) findAppCred(cfg *ksauth.Config, s *ksauth.Session, tok *ksauth.Token, ref string) (*ksauth.ApplicationCredentialInfo, error) {
	ac, err := cfg.Keystone.GetApplicationCredential(a.ctx, s, tok.User.ID, ref)
	if err == nil || !errors.Is(err, ksauth.ErrNotFound) {
		return ac, err
	}
	list, lerr := cfg.Keystone.ApplicationCredentials(a.ctx, s, tok.User.ID, ref)
	if lerr != nil {
		return nil, lerr
	}
	if len(list) == 0 {
		return nil, &notFoundError{msg: fmt.Sprintf("ksauth %s: no application credential %q (neither an id nor a name)", a.cmd.path, ref)}
	}
	return &list[0], nil
}

func (a *app) cmdAppCredList(_ []string) error {
	cfg, s, tok, err := a.loggedIn()
	if err != nil {
		return err
	}
	list, err := cfg.Keystone.ApplicationCredentials(a.ctx, s, tok.User.ID, "")
	if err != nil {
		return err
	}
	if a.g.output == "json" {
		out := []jsonAppCred{}
		for i := range list {
			out = append(out, appCredJSON(&list[i], false))
		}
		return a.printJSON(out)
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tPROJECT\tEXPIRES\tDESCRIPTION")
	for _, ac := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", ac.ID, ac.Name, ac.ProjectID, dash(rfc3339(ac.ExpiresAt)), dash(ac.Description))
	}
	return w.Flush()
}

func (a *app) cmdAppCredShow(args []string) error {
	cfg, s, tok, err := a.loggedIn()
	if err != nil {
		return err
	}
	ac, err := a.findAppCred(cfg, s, tok, args[0])
	if err != nil {
		return err
	}
	j := appCredJSON(ac, false)
	if a.g.output == "json" {
		return a.printJSON(j)
	}
	exp := "never"
	if j.ExpiresAt != nil {
		exp = *j.ExpiresAt
	}
	_, err = fmt.Fprintf(a.stdout, "id:           %s\nname:         %s\ndescription:  %s\nproject_id:   %s\nexpires_at:   %s\nroles:        %s\nunrestricted: %t\n",
		j.ID, j.Name, j.Description, j.ProjectID, exp, roleNames(j.Roles), j.Unrestricted)
	return err
}

func (a *app) cmdAppCredDelete(args []string) error {
	cfg, s, tok, err := a.loggedIn()
	if err != nil {
		return err
	}
	ac, err := a.findAppCred(cfg, s, tok, args[0])
	if err != nil {
		return err
	}
	return cfg.Keystone.DeleteApplicationCredential(a.ctx, s, tok.User.ID, ac.ID)
}

func (a *app) cmdEC2Create(_ []string) error {
	cfg, s, tok, err := a.loggedIn()
	if err != nil {
		return err
	}
	project, err := a.resolveProject(cfg, s, tok, a.f.project)
	if err != nil {
		return err
	}
	c, err := cfg.Keystone.CreateEC2Credential(a.ctx, s, tok.User.ID, project)
	if err != nil {
		return err
	}
	if a.g.output == "json" {
		return a.printJSON(map[string]string{"access": c.Access, "secret": c.Secret, "project_id": c.ProjectID, "user_id": c.UserID})
	}
	_, err = fmt.Fprintf(a.stdout, "access:     %s\nsecret:     %s\nproject_id: %s\n", c.Access, c.Secret, c.ProjectID)
	return err
}

func (a *app) cmdEC2List(_ []string) error {
	cfg, s, tok, err := a.loggedIn()
	if err != nil {
		return err
	}
	list, err := cfg.Keystone.EC2Credentials(a.ctx, s, tok.User.ID)
	if err != nil {
		return err
	}
	if a.g.output == "json" {
		out := []map[string]string{}
		for _, c := range list {
			out = append(out, map[string]string{"access": c.Access, "project_id": c.ProjectID, "user_id": c.UserID})
		}
		return a.printJSON(out)
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ACCESS\tPROJECT")
	for _, c := range list {
		fmt.Fprintf(w, "%s\t%s\n", c.Access, c.ProjectID)
	}
	return w.Flush()
}

func (a *app) cmdEC2Delete(args []string) error {
	cfg, s, tok, err := a.loggedIn()
	if err != nil {
		return err
	}
	return cfg.Keystone.DeleteEC2Credential(a.ctx, s, tok.User.ID, args[0])
}
