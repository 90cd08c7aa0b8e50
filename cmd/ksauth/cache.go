package main

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ksauth/ksauth"
)

// openCache opens the token cache for cache status|purge: a refused
// directory is an error here, not a warning.
func (a *app) openCache() (*ksauth.FileStore, error) {
	return ksauth.NewFileStore(a.cacheDir())
}

type jsonCacheEntry struct {
	Key      string  `json:"key"`
	Size     int64   `json:"size"`
	Modified string  `json:"modified"`
	Expires  *string `json:"expires"`
	State    string  `json:"state"` // valid, expired or invalid
}

func cacheState(e ksauth.FileStoreEntry, now time.Time) string {
	switch {
	case e.Expires.IsZero():
		return "invalid"
	case !e.Expires.After(now):
		return "expired"
	}
	return "valid"
}

func (a *app) cmdCacheStatus(_ []string) error {
	st, err := a.openCache()
	if err != nil {
		return err
	}
	entries, err := st.Entries(a.ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	if a.g.output == "json" {
		out := struct {
			Version int              `json:"version"`
			Dir     string           `json:"dir"`
			Entries []jsonCacheEntry `json:"entries"`
		}{1, st.Dir(), []jsonCacheEntry{}}
		for _, e := range entries {
			j := jsonCacheEntry{Key: e.Key, Size: e.Size, Modified: rfc3339(e.Modified), State: cacheState(e, now)}
			if !e.Expires.IsZero() {
				x := rfc3339(e.Expires)
				j.Expires = &x
			}
			out.Entries = append(out.Entries, j)
		}
		return a.printJSON(out)
	}
	fmt.Fprintf(a.stdout, "cache: %s (%d entries)\n", st.Dir(), len(entries))
	if len(entries) == 0 {
		return nil
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "FINGERPRINT\tSIZE\tAGE\tEXPIRES\tSTATE")
	for _, e := range entries {
		key := e.Key
		if len(key) > 16 {
			key = key[:16]
		}
		exp := "-"
		if !e.Expires.IsZero() {
			exp = fmt.Sprintf("%s (%s)", rfc3339(e.Expires), signed(e.Expires.Sub(now)))
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", key, e.Size, now.Sub(e.Modified).Round(time.Second), exp, cacheState(e, now))
	}
	return w.Flush()
}

// signed shows a duration from now: "in 5m0s" or "5m0s ago".
func signed(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 0 {
		return (-d).String() + " ago"
	}
	return "in " + d.String()
}

func (a *app) cmdCachePurge(_ []string) error {
	st, err := a.openCache()
	if err != nil {
		return err
	}
	n, err := st.Purge(a.ctx, a.f.secret)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "ksauth: removed %d cached tokens from %s\n", n, st.Dir())
	return nil
}

// version is the module version the binary was built from.
func version() string {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	return v
}

func (a *app) cmdVersion(_ []string) error {
	_, err := fmt.Fprintf(a.stdout, "ksauth %s %s %s/%s\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}

// completionWords are the words to complete after each command path.
func completionWords() map[string][]string {
	words := map[string][]string{}
	var top []string
	flagsOf := func(c *command) []string {
		var out []string
		if c.flags != nil {
			fs := flag.NewFlagSet(c.path, flag.ContinueOnError)
			c.flags(fs, &cmdFlags{})
			fs.VisitAll(func(f *flag.Flag) { out = append(out, "--"+f.Name) })
		}
		return out
	}
	for _, c := range commands() {
		top = append(top, c.name)
		w := flagsOf(c)
		for _, s := range c.subs {
			w = append(w, s.name)
			words[c.name+"/"+s.name] = flagsOf(s)
		}
		words[c.name] = w
	}
	words[""] = top
	words["help"] = top
	words["completion"] = []string{"bash", "zsh"}
	return words
}

const globalCompletion = "--os-cloud --os-region-name --output --no-cache --password-stdin -v --help"

func (a *app) cmdCompletion(args []string) error {
	shell := args[0]
	if shell != "bash" && shell != "zsh" {
		return usagef("ksauth completion: %q: bash or zsh", shell)
	}
	words := completionWords()
	paths := make([]string, 0, len(words))
	for p := range words {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	var b strings.Builder
	b.WriteString("# ksauth completion for " + shell + `: eval "$(ksauth completion ` + shell + `)"` + "\n")
	if shell == "zsh" {
		b.WriteString("autoload -U +X bashcompinit && bashcompinit\n")
	}
	b.WriteString(`_ksauth() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} path= n=0 i w
  case $prev in
    --os-cloud|--os-region-name|-o|--output|--min-valid|--interface|--shell|--cluster|--server|--project|--description|--expires-at|--roles|--clouds-yaml)
      case $prev in
        -o|--output) COMPREPLY=($(compgen -W "value json shell table" -- "$cur")) ;;
        --shell) COMPREPLY=($(compgen -W "sh fish" -- "$cur")) ;;
        --interface) COMPREPLY=($(compgen -W "public internal admin" -- "$cur")) ;;
        --clouds-yaml) COMPREPLY=($(compgen -f -- "$cur")) ;;
        *) COMPREPLY=() ;;
      esac
      return ;;
  esac
  for ((i=1; i<COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    case $w in
      --os-cloud|--os-region-name|-o|--output|--min-valid|--interface|--shell|--cluster|--server|--project|--description|--expires-at|--roles|--clouds-yaml) ((i++)) ;;
      -*) ;;
      *) if ((n < 2)); then path=${path:+$path/}$w; ((n++)); fi ;;
    esac
  done
  local words=
  case $path in
`)
	for _, p := range paths {
		fmt.Fprintf(&b, "    %q) words=%q ;;\n", p, strings.Join(words[p], " "))
	}
	b.WriteString(`    *) words= ;;
  esac
  COMPREPLY=($(compgen -W "$words ` + globalCompletion + `" -- "$cur"))
}
complete -F _ksauth ksauth
`)
	_, err := fmt.Fprint(a.stdout, b.String())
	return err
}
