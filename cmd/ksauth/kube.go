package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ksauth/ksauth"
)

// The ExecCredential API versions kubectl speaks to exec plugins.
const (
	execV1      = "client.authentication.k8s.io/v1"
	execV1beta1 = "client.authentication.k8s.io/v1beta1"
)

// execInfo is what kubectl passes in KUBERNETES_EXEC_INFO.
type execInfo struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Interactive bool `json:"interactive"`
	} `json:"spec"`
}

// execCredential is the answer, in the same apiVersion.
type execCredential struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Status     execCredentialSt `json:"status"`
}

type execCredentialSt struct {
	ExpirationTimestamp string `json:"expirationTimestamp,omitempty"`
	Token               string `json:"token"`
}

// readExecInfo parses KUBERNETES_EXEC_INFO.
func (a *app) readExecInfo() (*execInfo, error) {
	raw, ok := a.envMap["KUBERNETES_EXEC_INFO"]
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("ksauth exec-credential: KUBERNETES_EXEC_INFO is not set: run by kubectl as an exec credential plugin (see ksauth kubeconfig)")
	}
	var info execInfo
	if err := json.Unmarshal([]byte(raw), &info); err != nil {
		return nil, fmt.Errorf("ksauth exec-credential: KUBERNETES_EXEC_INFO is not JSON: %v", err)
	}
	if info.Kind != "ExecCredential" {
		return nil, fmt.Errorf("ksauth exec-credential: KUBERNETES_EXEC_INFO: kind %q, want ExecCredential", info.Kind)
	}
	if info.APIVersion != execV1 && info.APIVersion != execV1beta1 {
		return nil, fmt.Errorf("ksauth exec-credential: KUBERNETES_EXEC_INFO: apiVersion %q: %s or %s", info.APIVersion, execV1, execV1beta1)
	}
	return &info, nil
}

// refreshWindow is the session's: min(DefaultExpireEarly, lifetime/2).
func refreshWindow(tok *ksauth.Token) time.Duration {
	w := ksauth.DefaultExpireEarly
	if l := tok.Lifetime(); l > 0 && l/2 < w {
		w = l / 2
	}
	return w
}

func (a *app) cmdExecCredential(_ []string) error {
	info, err := a.readExecInfo()
	if err != nil {
		return err
	}
	if a.g.noCache {
		return usagef("ksauth exec-credential: always uses the token cache (kubectl runs it for every request): drop --no-cache")
	}
	a.interactive = a.interactive && info.Spec.Interactive
	_, s, err := a.session()
	if err != nil {
		return err
	}
	tok, err := a.freshToken(s, defaultMinValid, false)
	if err != nil {
		return err
	}
	out := execCredential{APIVersion: info.APIVersion, Kind: "ExecCredential", Status: execCredentialSt{Token: tok.ID}}
	if !tok.ExpiresAt.IsZero() {
		out.Status.ExpirationTimestamp = tok.ExpiresAt.Add(-refreshWindow(tok)).UTC().Format(time.RFC3339)
	}
	return json.NewEncoder(a.stdout).Encode(out)
}

// kubeconfig is the part of a kubeconfig that kubeconfig prints.
type kubeconfig struct {
	APIVersion     string        `yaml:"apiVersion"`
	Kind           string        `yaml:"kind"`
	Clusters       []kubeCluster `yaml:"clusters"`
	Users          []kubeUser    `yaml:"users"`
	Contexts       []kubeContext `yaml:"contexts"`
	CurrentContext string        `yaml:"current-context"`
}

type kubeCluster struct {
	Name    string `yaml:"name"`
	Cluster struct {
		Server string `yaml:"server"`
	} `yaml:"cluster"`
}

type kubeUser struct {
	Name string `yaml:"name"`
	User struct {
		Exec kubeExec `yaml:"exec"`
	} `yaml:"user"`
}

type kubeExec struct {
	APIVersion         string   `yaml:"apiVersion"`
	Command            string   `yaml:"command"`
	Args               []string `yaml:"args"`
	InteractiveMode    string   `yaml:"interactiveMode"`
	ProvideClusterInfo bool     `yaml:"provideClusterInfo"`
}

type kubeContext struct {
	Name    string `yaml:"name"`
	Context struct {
		Cluster string `yaml:"cluster"`
		User    string `yaml:"user"`
	} `yaml:"context"`
}

func (a *app) cmdKubeconfig(_ []string) error {
	if a.f.cluster == "" || a.f.server == "" {
		return usagef("ksauth kubeconfig: --cluster and --server are needed")
	}
	if u, err := url.Parse(a.f.server); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return usagef("ksauth kubeconfig: --server %q: not an http(s) URL", a.f.server)
	}
	args := []string{"exec-credential"}
	cloud := a.g.cloud
	if cloud == "" {
		cloud = a.envMap["OS_CLOUD"]
	}
	if cloud != "" {
		args = append(args, "--os-cloud", cloud)
	}
	if a.g.region != "" {
		args = append(args, "--os-region-name", a.g.region)
	}
	user := "ksauth-" + a.f.cluster
	var kc kubeconfig
	kc.APIVersion, kc.Kind, kc.CurrentContext = "v1", "Config", a.f.cluster
	var c kubeCluster
	c.Name, c.Cluster.Server = a.f.cluster, a.f.server
	var u kubeUser
	u.Name = user
	u.User.Exec = kubeExec{APIVersion: execV1, Command: "ksauth", Args: args, InteractiveMode: "IfAvailable"}
	var x kubeContext
	x.Name, x.Context.Cluster, x.Context.User = a.f.cluster, a.f.cluster, user
	kc.Clusters, kc.Users, kc.Contexts = []kubeCluster{c}, []kubeUser{u}, []kubeContext{x}
	out, err := yaml.Marshal(kc)
	if err != nil {
		return err
	}
	_, err = a.stdout.Write(out)
	return err
}
