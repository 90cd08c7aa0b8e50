package main

import (
	"flag"
	"fmt"
	"strings"
)

// command is one node of the command tree.
type command struct {
	name    string
	path    string // "token inspect"
	usage   string // after "ksauth "
	summary string
	detail  string
	outputs []string // the -o values it takes, the default first
	flags   func(fs *flag.FlagSet, f *cmdFlags)
	run     func(a *app, args []string) error
	subs    []*command
	// minArgs and maxArgs bound the positional arguments.
	minArgs, maxArgs int
	// cleura: works with a Cleura login (auth_type cleura) too, not only
	// with Keystone.
	cleura bool
}

func lookup(cmds []*command, name string) *command {
	for _, c := range cmds {
		if c.name == name {
			return c
		}
	}
	return nil
}

// commands is the command tree, in the order help lists it.
func commands() []*command {
	cmds := []*command{
		{
			name: "token", usage: "token [--min-valid DUR] [--refresh] [-o value|json]",
			summary: "print a token with at least DUR left (default 5m), from the cache or a new one",
			detail: `Prints a token with at least --min-valid left: the cached one, else a new one,
which is stored. --refresh always gets and stores a new one. When Keystone's
tokens cannot last --min-valid, exits 1 naming the lifetime Keystone grants.
-o value (the default) prints only the token; -o json a versioned object:
{"version":1,"id","expires_at","issued_at","user":{"id","name","domain":{"id","name"}},
 "project":{"id","name","domain"} or null,"domain":{"id","name"} or null,"system",
 "roles":[{"id","name"}],"methods","audit_ids","auth_url","region"}
(times in RFC 3339, UTC; fields are only ever added).`,
			outputs: []string{"value", "json"},
			flags: func(fs *flag.FlagSet, f *cmdFlags) {
				fs.DurationVar(&f.minValid, "min-valid", defaultMinValid, "the least time the token must have left")
				fs.BoolVar(&f.refresh, "refresh", false, "always get (and store) a new token")
			},
			run: (*app).cmdToken, cleura: true,
			subs: []*command{
				{
					name: "inspect", usage: "token inspect [--online] [-o value|json]",
					summary: "show the cached token's details, without its id",
					detail: `Shows the cached token's details (not the token itself). --online validates it
with Keystone: a revoked or expired token exits 3. No cached token exits 2.`,
					outputs: []string{"value", "json"},
					flags: func(fs *flag.FlagSet, f *cmdFlags) {
						fs.BoolVar(&f.online, "online", false, "validate the token with Keystone (GET /v3/auth/tokens)")
					},
					run: (*app).cmdTokenInspect, cleura: true,
				},
				{
					name: "revoke", usage: "token revoke",
					summary: "revoke the cached token and remove it from the cache",
					detail:  `Revokes the cached token and removes it from the cache. No cached token exits 2.`,
					run:     (*app).cmdTokenRevoke, cleura: true,
				},
			},
		},
		{
			name: "login", usage: "login",
			summary: "log in (asking for a password, TOTP passcode or SMS code on a terminal) and cache the token",
			detail: `Logs in anew and stores the token in the cache. The password comes from
clouds.yaml, secure.yaml, OS_PASSWORD or --password-stdin, never from the
command line; when none of them has it, it is asked for on the terminal
(stderr, without echo). When the user's multi-factor rules need a TOTP
passcode, or a Cleura account (auth_type cleura) its SMS code, it is asked for
on the terminal too. Without a terminal, each of these exits 2.`,
			run: (*app).cmdLogin, cleura: true,
		},
		{
			name: "logout", usage: "logout",
			summary: "revoke the cached token and remove it from the cache",
			detail:  `Revokes the cached token, if any, and removes it from the cache.`,
			run:     (*app).cmdLogout, cleura: true,
		},
	}
	cmds = append(cmds, &command{
		name: "endpoint", usage: "endpoint TYPE [--interface I]",
		summary: "one URL from the catalog (service-type aliases as the library resolves them)",
		detail: `Prints the URL of service TYPE (compute, block-storage, volumev3, ...) in the
cloud's region, for --interface (default the cloud's interface, else public).
Not found exits 4: one line, then what the catalog does have on the following
stderr lines.`,
		minArgs: 1, maxArgs: 1,
		flags: func(fs *flag.FlagSet, f *cmdFlags) {
			fs.StringVar(&f.iface, "interface", "", "public, internal or admin (default the cloud's)")
		},
		run: (*app).cmdEndpoint,
	}, &command{
		name: "catalog", usage: "catalog [-o table|json]",
		summary: "the services and endpoints of the token's catalog",
		detail: `Prints the token's service catalog: a table, or with -o json Keystone's own shape
[{"id","type","name","endpoints":[{"id","interface","region","region_id","url"}]}].`,
		outputs: []string{"table", "json"},
		run:     (*app).cmdCatalog,
	}, &command{
		name: "env", usage: "env [--shell sh|fish] [--min-valid DUR]",
		summary: "shell commands exporting a token login (eval \"$(ksauth env)\")",
		detail: `Prints shell commands that unset the variables conflicting with a token login
(OS_CLOUD, OS_USERNAME, OS_PASSWORD, the application-credential ones, other
scopes...) and export OS_AUTH_TYPE=token, OS_TOKEN, OS_AUTH_URL,
OS_IDENTITY_API_VERSION, OS_PROJECT_ID (or OS_DOMAIN_ID / OS_SYSTEM_SCOPE),
OS_REGION_NAME, OS_INTERFACE and OS_ALLOW_REAUTH=false (Terraform's provider
then does not try to re-authenticate with the bare token), so that
eval "$(ksauth env)" then openstack ... or terraform works. Values are quoted
safely: sh single quotes ('\'' for a quote); fish set -gx / set -e.`,
		flags: func(fs *flag.FlagSet, f *cmdFlags) {
			fs.StringVar(&f.shell, "shell", "sh", "sh or fish")
			fs.DurationVar(&f.minValid, "min-valid", defaultMinValid, "the least time the token must have left")
		},
		outputs: []string{"shell"},
		run:     (*app).cmdEnv,
	}, &command{
		name: "exec-credential", usage: "exec-credential",
		summary: "a kubectl ExecCredential (client.authentication.k8s.io v1 or v1beta1)",
		detail: `The kubectl exec credential plugin: reads KUBERNETES_EXEC_INFO and answers in
its apiVersion (client.authentication.k8s.io/v1 or v1beta1) with status.token
and status.expirationTimestamp, the token's expiry less the refresh window, so
that kubectl asks again before Keystone's expiry. The token comes from the
cache, always (--no-cache is refused: kubectl runs the plugin for every
request). A password or passcode is asked for only when spec.interactive is
true and there is a terminal. A missing or malformed KUBERNETES_EXEC_INFO exits 1; a rejected
login exits 3 (never an empty credential).`,
		run: (*app).cmdExecCredential,
	}, &command{
		name: "kubeconfig", usage: "kubeconfig --cluster NAME --server URL",
		summary: "a kubeconfig whose user runs ksauth exec-credential",
		detail: `Prints a kubeconfig (cluster, context and the users: stanza) whose user runs
"ksauth exec-credential" with this --os-cloud (and --os-region-name), with
interactiveMode: IfAvailable. Merge it into ~/.kube/config, or use it with
KUBECONFIG=file.`,
		flags: func(fs *flag.FlagSet, f *cmdFlags) {
			fs.StringVar(&f.cluster, "cluster", "", "the cluster's name in the kubeconfig")
			fs.StringVar(&f.server, "server", "", "the cluster's API server URL")
		},
		run: (*app).cmdKubeconfig,
	}, &command{
		name: "credential-process", usage: "credential-process [--project P]",
		summary: "AWS credential_process JSON from the user's Keystone EC2 credential",
		detail: `Prints {"Version":1,"AccessKeyId","SecretAccessKey"} for AWS tools' credential_process
(~/.aws/config: credential_process = ksauth credential-process --os-cloud NAME),
from the user's Keystone EC2 credential for the project (--project, an id or a
name; default the token's). It is created once, if none exists, and reused after.`,
		flags: func(fs *flag.FlagSet, f *cmdFlags) {
			fs.StringVar(&f.project, "project", "", "the project (id or name; default the token's)")
		},
		run: (*app).cmdCredentialProcess,
	}, &command{
		name: "appcred", usage: "appcred create|list|show|delete",
		summary: "manage the user's application credentials",
		detail:  `Manages the user's application credentials; show and delete take an id or a name.`,
		subs: []*command{
			{
				name: "create", usage: "appcred create NAME [--clouds-yaml FILE] [--secret-stdin] [flags]",
				summary: "create one and print its secret, once",
				detail: `Creates an application credential on the token's project and prints its id and
secret (shown only this once). --secret-stdin takes the secret from stdin
instead of Keystone generating one. --clouds-yaml FILE writes a clouds.yaml
with an entry NAME for it instead (a new file, mode 0600; the secret is then not
printed). --expires-at is RFC 3339.`,
				minArgs: 1, maxArgs: 1, outputs: []string{"value", "json"},
				flags: func(fs *flag.FlagSet, f *cmdFlags) {
					fs.StringVar(&f.description, "description", "", "its description")
					fs.StringVar(&f.expiresAt, "expires-at", "", "its expiry (RFC 3339); default never")
					fs.StringVar(&f.roles, "roles", "", "comma-separated role names (default all the token's)")
					fs.BoolVar(&f.unrestricted, "unrestricted", false, "its tokens may create application credentials and trusts")
					fs.BoolVar(&f.secretStdin, "secret-stdin", false, "read its secret from the first line of stdin")
					fs.StringVar(&f.cloudsYAML, "clouds-yaml", "", "write a clouds.yaml entry for it to this new file (0600)")
				},
				run: (*app).cmdAppCredCreate,
			},
			{name: "list", usage: "appcred list [-o table|json]", summary: "list them (no secrets)",
				detail: "Lists the user's application credentials.", outputs: []string{"table", "json"}, run: (*app).cmdAppCredList},
			{name: "show", usage: "appcred show ID|NAME [-o value|json]", summary: "show one (no secret)",
				detail: "Shows an application credential.", minArgs: 1, maxArgs: 1, outputs: []string{"value", "json"}, run: (*app).cmdAppCredShow},
			{name: "delete", usage: "appcred delete ID|NAME", summary: "delete one (its tokens stop working)",
				detail: "Deletes an application credential.", minArgs: 1, maxArgs: 1, run: (*app).cmdAppCredDelete},
		},
	}, &command{
		name: "ec2", usage: "ec2 create|list|delete",
		summary: "manage the user's EC2/S3 credentials",
		detail:  `Manages the user's Keystone EC2/S3 key pairs.`,
		subs: []*command{
			{name: "create", usage: "ec2 create [--project P] [-o value|json]", summary: "create a key pair (the cloud's project unless --project)",
				detail: "Creates an EC2 key pair and prints it.", outputs: []string{"value", "json"},
				flags: func(fs *flag.FlagSet, f *cmdFlags) {
					fs.StringVar(&f.project, "project", "", "the project (id or name; default the token's)")
				},
				run: (*app).cmdEC2Create},
			{name: "list", usage: "ec2 list [-o table|json]", summary: "list the access keys (no secrets)",
				detail: "Lists the user's EC2 access keys and their projects.", outputs: []string{"table", "json"}, run: (*app).cmdEC2List},
			{name: "delete", usage: "ec2 delete ACCESS", summary: "delete a key pair",
				detail: "Deletes an EC2 key pair.", minArgs: 1, maxArgs: 1, run: (*app).cmdEC2Delete},
		},
	}, &command{
		name: "cache", usage: "cache status|purge",
		summary: "the token cache: its entries, or remove them",
		detail:  `Shows or empties the token cache ($XDG_CACHE_HOME/ksauth, else ~/.cache/ksauth).`,
		subs: []*command{
			{name: "status", usage: "cache status [-o table|json]", summary: "the entries: fingerprints, sizes, ages, expiry",
				detail:  "Lists the cache's entries by fingerprint (never a token), with size, age and expiry.",
				outputs: []string{"table", "json"}, run: (*app).cmdCacheStatus},
			{name: "purge", usage: "cache purge [--secret-key]", summary: "remove every cached token (and the cache's secret with --secret-key)",
				detail: "Removes every cached token and lock file; --secret-key removes the cache's secret (secret.key) too.",
				flags: func(fs *flag.FlagSet, f *cmdFlags) {
					fs.BoolVar(&f.secret, "secret-key", false, "remove the cache's secret (secret.key) too")
				},
				run: (*app).cmdCachePurge},
		},
	}, &command{
		name: "version", usage: "version", summary: "the version of ksauth",
		detail: "Prints the module version, the Go version and the platform.", run: (*app).cmdVersion,
	}, &command{
		name: "completion", usage: "completion bash|zsh", summary: "shell completion (eval \"$(ksauth completion bash)\")",
		detail:  "Prints a completion script for bash or zsh.",
		minArgs: 1, maxArgs: 1, run: (*app).cmdCompletion,
	}, &command{
		name: "help", usage: "help [COMMAND [SUBCOMMAND]]",
		summary: "this help, or a command's", detail: "Prints the help, or a command's, on stdout.",
		maxArgs: 2, run: (*app).cmdHelp,
	})
	for _, c := range cmds {
		c.path = c.name
		for _, s := range c.subs {
			s.path = c.name + " " + s.name
		}
	}
	return cmds
}

const globalHelp = `Global flags (before or after the command's arguments):
  --os-cloud NAME        the clouds.yaml entry (default $OS_CLOUD, else the OS_* variables)
  --os-region-name NAME  the region
  -o, --output FORMAT    value, json, shell or table, where the command takes it
  --no-cache             neither read nor write the token cache
  --password-stdin       read the password from the first line of stdin
  -v                     debug logs on stderr (secrets redacted)
  -h, --help             help

Secrets are never taken on the command line: --os-password and the like are
refused (exit 64). The configuration is read as the ksauth library's LoadConfig
reads it: clouds.yaml (and secure.yaml), OS_CLOUD and the OS_* variables; an
entry with auth_type: cleura logs in to Cleura's REST API (token, token
inspect, token revoke, login and logout work with it). On a terminal, a
missing password, a TOTP passcode or an SMS code is asked for on stderr.
Tokens are cached in $XDG_CACHE_HOME/ksauth (~/.cache/ksauth), sealed with a
key derived from the credential's secret; a cache directory others can write
to is not used (a warning, then the command works uncached).

Exit codes:
  0   ok
  1   other error
  2   no usable credentials, or input needed but not available (no terminal)
  3   rejected by the server (401, 403)
  4   not found (endpoint, cloud, resource)
  5   rate-limited after retries
  64  usage error
`

func helpText() string {
	var b strings.Builder
	b.WriteString("ksauth: OpenStack Keystone tokens from a shared cache, and a credential helper.\n\nUsage: ksauth [global flags] COMMAND [arguments]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-56s %s\n", c.usage, c.summary)
		for _, s := range c.subs {
			fmt.Fprintf(&b, "  %-56s %s\n", s.usage, s.summary)
		}
	}
	b.WriteString("\n")
	b.WriteString(globalHelp)
	b.WriteString("\nksauth help COMMAND describes a command.\n")
	return b.String()
}

func commandHelp(c *command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: ksauth %s\n\n%s\n", c.usage, c.detail)
	for _, s := range c.subs {
		fmt.Fprintf(&b, "\n  ksauth %-40s %s", s.usage, s.summary)
	}
	if len(c.subs) > 0 {
		b.WriteString("\n")
	}
	fs := flag.NewFlagSet(c.path, flag.ContinueOnError)
	if c.flags != nil {
		var f cmdFlags
		c.flags(fs, &f)
		b.WriteString("\nFlags:\n")
		fs.SetOutput(&b)
		fs.PrintDefaults()
	}
	b.WriteString("\n")
	b.WriteString(globalHelp)
	return b.String()
}

func (a *app) cmdHelp(args []string) error {
	if len(args) == 0 {
		_, err := fmt.Fprint(a.stdout, helpText())
		return err
	}
	c := lookup(commands(), args[0])
	if c != nil && len(args) == 2 {
		c = lookup(c.subs, args[1])
	}
	if c == nil {
		return usagef("ksauth help: no command %q", strings.Join(args, " "))
	}
	_, err := fmt.Fprint(a.stdout, commandHelp(c))
	return err
}
