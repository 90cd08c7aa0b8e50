package ksauth

// clouds.yaml, secure.yaml and clouds-public.yaml: where they are looked
// for, how they are merged, and how one cloud entry (with its profile and
// region) becomes Settings.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// configFile is a parsed clouds.yaml-like file.
type configFile struct {
	path string
	data map[string]any
}

// configSearch is where the files are looked for: the explicit files first,
// then each directory.
type configSearch struct {
	dirs                   []string
	cloudsFile, secureFile string // OS_CLIENT_CONFIG_FILE, OS_CLIENT_SECURE_FILE
}

func newConfigSearch(env map[string]string, dir string) configSearch {
	if dir == "" {
		dir, _ = os.Getwd()
	}
	user := env["XDG_CONFIG_HOME"]
	if user == "" && env["HOME"] != "" {
		user = filepath.Join(env["HOME"], ".config")
	}
	dirs := []string{dir}
	if user != "" {
		dirs = append(dirs, filepath.Join(user, "openstack"))
	}
	dirs = append(dirs, "/etc/openstack")
	return configSearch{dirs: dirs, cloudsFile: env["OS_CLIENT_CONFIG_FILE"], secureFile: env["OS_CLIENT_SECURE_FILE"]}
}

// find loads the first file of a kind (base name without extension): the
// explicit one, else the first of base.yaml, base.yml, base.json in each
// directory. None found is (nil, nil).
func (s configSearch) find(explicit, base string) (*configFile, error) {
	var paths []string
	if explicit != "" {
		paths = append(paths, explicit)
	}
	for _, d := range s.dirs {
		for _, ext := range []string{".yaml", ".yml", ".json"} {
			paths = append(paths, filepath.Join(d, base+ext))
		}
	}
	for i, p := range paths {
		f, err := loadConfigFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) && !(i == 0 && explicit != ""):
			continue
		case err != nil:
			return nil, err
		}
		return f, nil
	}
	return nil, nil
}

// yamlQuoted matches a value a YAML error quotes, e.g. "cannot unmarshal
// !!str `hunter2...` into ...".
var yamlQuoted = regexp.MustCompile("`[^`]*`")

// maxConfigFileSize bounds every file the configuration names (clouds.yaml,
// secure.yaml, a CA bundle, a certificate or key): a path to /dev/zero or
// a runaway file is an error, not an endless read.
const maxConfigFileSize = 4 << 20

// errFileTooLarge and errNotAFile are readConfigBytes' refusals.
var (
	errFileTooLarge = fmt.Errorf("larger than %d MiB", maxConfigFileSize>>20)
	errNotAFile     = errors.New("not a regular file or a pipe")
)

// readConfigBytes reads a file the configuration names: a regular file or
// a pipe (a shell's <(...)), at most maxConfigFileSize bytes. A device, a
// socket or a directory is refused before it is opened.
func readConfigBytes(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() && fi.Mode()&fs.ModeNamedPipe == 0 {
		return nil, errNotAFile
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigFileSize+1))
	if err == nil && len(b) > maxConfigFileSize {
		err = errFileTooLarge
	}
	return b, err
}

// fileReason says why readConfigBytes failed, for a ConfigError.
func fileReason(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, errFileTooLarge), errors.Is(err, errNotAFile):
		return err.Error()
	}
	return "cannot read it"
}

// loadConfigFile reads and parses one file (YAML, of which JSON is a part).
func loadConfigFile(path string) (*configFile, error) {
	raw, err := readConfigBytes(path)
	if err != nil {
		return nil, &ConfigError{Source: path, Reason: fileReason(err), Err: err}
	}
	var data map[string]any
	if err := yaml.Unmarshal(raw, &data); err != nil {
		// A type error quotes the start of the value (secure.yaml holding a
		// bare password, say): keep only where and what was wrong.
		text := redact(yamlQuoted.ReplaceAllString(err.Error(), "(a value, not shown)"))
		return nil, &ConfigError{Source: path, Reason: "not valid YAML: " + text, Err: &redactedError{text: text, err: err}}
	}
	return &configFile{path: path, data: data}, nil
}

// cloudSet is the clouds defined by clouds.yaml with secure.yaml merged in.
type cloudSet struct {
	source  string // the files, for messages
	entries map[string]any
}

// loadClouds finds and merges clouds.yaml and secure.yaml, and finds
// clouds-public.yaml.
func loadClouds(s configSearch) (*cloudSet, *configFile, error) {
	set := &cloudSet{entries: map[string]any{}}
	for _, kind := range []struct{ explicit, base string }{{s.cloudsFile, "clouds"}, {s.secureFile, "secure"}} {
		f, err := s.find(kind.explicit, kind.base)
		if err != nil {
			return nil, nil, err
		}
		if f == nil {
			continue
		}
		clouds, err := section(f.data, "clouds", f.path)
		if err != nil {
			return nil, nil, err
		}
		set.entries = deepMerge(set.entries, clouds)
		set.source = strings.TrimPrefix(set.source+" and "+f.path, " and ")
	}
	public, err := s.find("", "clouds-public")
	return set, public, err
}

// settings reads the named cloud, with its profile and region applied.
func (c *cloudSet) settings(name string, public *configFile, region string) (Settings, error) {
	raw, ok := c.entries[name]
	if !ok {
		known := "none are defined"
		if len(c.entries) > 0 {
			known = "known: " + strings.Join(cloudNames(c.entries), ", ")
		}
		return Settings{}, &ConfigError{Source: c.source, Reason: fmt.Sprintf("no cloud %q (%s)", name, known)}
	}
	source := fmt.Sprintf("cloud %q in %s", name, c.source)
	entry, ok := raw.(map[string]any)
	if !ok {
		return Settings{}, &ConfigError{Source: source, Reason: "not a mapping"}
	}
	entry = normalizeKeys(entry)
	entry, err := withProfile(entry, public, source)
	if err != nil {
		return Settings{}, err
	}
	entry, region, err = withRegion(entry, region, source)
	if err != nil {
		return Settings{}, err
	}
	s, err := entrySettings(entry, source)
	s.Region = region
	s.AuthURL = strings.ReplaceAll(s.AuthURL, "{region_name}", region)
	return s, err
}

// deepMerge returns base with over merged into it: maps merge key by key,
// anything else in over replaces base's.
func deepMerge(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range over {
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		if bok && ook {
			out[k] = deepMerge(bm, om)
			continue
		}
		out[k] = v
	}
	return out
}

// section returns m[key] as a map (nil when absent), or an error naming it.
func section(m map[string]any, key, source string) (map[string]any, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	s, ok := v.(map[string]any)
	if !ok {
		return nil, &ConfigError{Source: source, Field: key, Reason: "not a mapping"}
	}
	return s, nil
}

// normalizeKeys returns m with dashes in its keys (project-name) turned
// into underscores, in nested mappings and lists too, as openstacksdk
// does; a key spelled with underscores wins over its dashed twin.
func normalizeKeys(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		nk := strings.ReplaceAll(k, "-", "_")
		if _, twin := m[nk]; twin && nk != k {
			continue
		}
		out[nk] = normalizeValue(v)
	}
	return out
}

func normalizeValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return normalizeKeys(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalizeValue(e)
		}
		return out
	}
	return v
}

// cloudNames lists the clouds defined, sorted.
func cloudNames(clouds map[string]any) []string {
	names := slices.Collect(maps.Keys(clouds))
	sort.Strings(names)
	return names
}

// withProfile merges entry over the profile it names (profile:, or the
// older cloud:), from clouds-public.yaml or the built-in vendor profiles.
func withProfile(entry map[string]any, public *configFile, source string) (map[string]any, error) {
	name, _ := entry["profile"].(string)
	if name == "" {
		name, _ = entry["cloud"].(string)
	}
	if name == "" {
		return entry, nil
	}
	if public != nil {
		clouds, err := section(public.data, "public-clouds", public.path)
		if err != nil {
			return nil, err
		}
		if p, ok := clouds[name].(map[string]any); ok {
			return deepMerge(normalizeKeys(p), entry), nil
		}
	}
	if p, ok := vendorProfiles[name]; ok {
		return deepMerge(p(), entry), nil
	}
	return nil, &ConfigError{Source: source, Field: "profile", Reason: fmt.Sprintf("unknown profile %q", name)}
}

// vendorProfiles are built-in profiles (openstacksdk's vendors directory).
var vendorProfiles = map[string]func() map[string]any{
	"citycloud": cityCloudProfile,
	"cleura":    cityCloudProfile, // City Cloud's new name
}

// cityCloudProfile is City Cloud / Cleura Public Cloud: openstacksdk
// 0.101's vendors/citycloud.json (the oracle checks it).
func cityCloudProfile() map[string]any {
	return map[string]any{
		"auth":                      map[string]any{"auth_url": "https://{region_name}.citycloud.com:5000/v3/"},
		"regions":                   []any{"Buf1", "Fra1", "Lon1", "Sto2", "Kna1", "dx1", "tky1"},
		"requires_floating_ip":      true,
		"block_storage_api_version": "1",
		"identity_api_version":      "3",
	}
}

// withRegion picks the region (want, else region_name, else the first of
// regions:) and merges its per-region values over the entry. An unknown
// region is an error listing the valid ones.
func withRegion(entry map[string]any, want, source string) (map[string]any, string, error) {
	regions, err := regionList(entry, source)
	if err != nil {
		return nil, "", err
	}
	region := want
	if region == "" {
		region, _ = entry["region_name"].(string)
	}
	if region == "" && len(regions) > 0 {
		region = regions[0].name
	}
	if len(regions) == 0 || region == "" {
		return entry, region, nil
	}
	var names []string
	for _, r := range regions {
		if r.name == region {
			return deepMerge(entry, r.values), region, nil
		}
		names = append(names, r.name)
	}
	return nil, "", &ConfigError{Source: source, Field: "region_name", Reason: fmt.Sprintf(
		"region %q is not one of this cloud's regions (%s); names are case-sensitive", region, strings.Join(names, ", "))}
}

type configRegion struct {
	name   string
	values map[string]any
}

// regionList reads regions: as strings or {name, values} mappings.
func regionList(entry map[string]any, source string) ([]configRegion, error) {
	raw, ok := entry["regions"]
	if !ok || raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, &ConfigError{Source: source, Field: "regions", Reason: "not a list"}
	}
	var out []configRegion
	for i, r := range list {
		switch r := r.(type) {
		case string:
			out = append(out, configRegion{name: r})
		case map[string]any:
			name, _ := r["name"].(string)
			if name == "" {
				return nil, &ConfigError{Source: source, Field: fmt.Sprintf("regions[%d].name", i), Reason: "missing"}
			}
			values, _ := r["values"].(map[string]any)
			out = append(out, configRegion{name: name, values: values})
		default:
			return nil, &ConfigError{Source: source, Field: fmt.Sprintf("regions[%d]", i), Reason: "neither a name nor a {name, values} mapping"}
		}
	}
	return out, nil
}

// entrySettings reads a cloud entry into Settings. An auth key may also
// be at the top level of the entry (as openstacksdk allows); under auth:
// it wins.
func entrySettings(entry map[string]any, source string) (Settings, error) {
	var s Settings
	auth, err := section(entry, "auth", source)
	if err != nil {
		return s, err
	}
	auth, top := maps.Clone(auth), maps.Clone(entry)
	for _, m := range []map[string]any{auth, top} {
		for legacy, key := range legacyAuthKeys {
			if v, ok := m[legacy]; ok && m[key] == nil {
				m[key] = v
			}
		}
	}
	for _, k := range settingKeys {
		v, field := top[k.key], k.key
		if a, ok := auth[k.key]; k.auth && (ok && a != nil || v == nil) {
			v, field = a, "auth."+k.key
		}
		text, err := scalar(v, field, source)
		if err != nil {
			return s, err
		}
		*k.field(&s) = text
	}
	if s.AuthMethods, err = stringList(entry["auth_methods"], auth["auth_methods"], source); err != nil {
		return s, err
	}
	if s.Insecure, err = insecureOf(entry, source); err != nil {
		return s, err
	}
	if v, ok := entry["api_timeout"]; ok && v != nil {
		text, _ := scalar(v, "api_timeout", source)
		d, ok := parseTimeout(text)
		if !ok {
			return s, &ConfigError{Source: source, Field: "api_timeout", Reason: "not a number of seconds"}
		}
		s.APITimeout = d
	}
	return s, nil
}

// scalar reads a string, number or boolean setting as text.
func scalar(v any, field, source string) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case int, int64, uint64, float64, bool:
		return fmt.Sprint(v), nil
	}
	return "", &ConfigError{Source: source, Field: field, Reason: "not a single value"}
}

// stringList reads auth_methods: a list, or a comma-separated string.
func stringList(top, auth any, source string) ([]string, error) {
	v := top
	if v == nil {
		v = auth
	}
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return splitList(v), nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, &ConfigError{Source: source, Field: "auth_methods", Reason: "not a list of names"}
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, &ConfigError{Source: source, Field: "auth_methods", Reason: "not a list of names"}
}

// insecureOf reads verify: and insecure:. Verification is off when either
// turns it off (verify: false or insecure: true), as openstacksdk has it;
// nil when neither is set.
func insecureOf(entry map[string]any, source string) (*bool, error) {
	var out *bool
	for _, key := range []string{"verify", "insecure"} {
		v, ok := entry[key]
		if !ok || v == nil {
			continue
		}
		b, ok := v.(bool)
		if s, isString := v.(string); isString {
			b, ok = parseBool(s)
		}
		if !ok {
			return nil, &ConfigError{Source: source, Field: key, Reason: fmt.Sprintf("%v is not a boolean", v)}
		}
		if key == "verify" {
			b = !b
		}
		if out == nil || b {
			out = &b
		}
	}
	return out, nil
}
