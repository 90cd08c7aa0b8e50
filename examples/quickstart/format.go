package main

import (
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ksauth/ksauth"
)

// printer writes the walkthrough: numbered sections, indented lines and
// aligned tables. The first write error sticks and is returned by err.
type printer struct {
	out     io.Writer
	section int
	werr    error
}

const indent = "   "

// printf writes one formatted line, as it is.
func (p *printer) printf(format string, args ...any) {
	if p.werr != nil {
		return
	}
	_, p.werr = fmt.Fprintf(p.out, format+"\n", args...)
}

// title starts the next numbered section.
func (p *printer) title(title string) {
	p.section++
	p.printf("")
	p.printf("%d. %s", p.section, title)
}

// line writes an indented line of the current section; "" an empty one.
func (p *printer) line(format string, args ...any) {
	if format == "" {
		p.printf("")
		return
	}
	p.printf(indent+format, args...)
}

// table writes rows aligned in columns, indented; a nil header writes none.
func (p *printer) table(header []string, rows [][]string) {
	if p.werr != nil {
		return
	}
	var buf strings.Builder
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	if header != nil {
		fmt.Fprintln(tw, strings.Join(header, "\t"))
	}
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush() // a strings.Builder does not fail
	for l := range strings.Lines(buf.String()) {
		p.printf("%s", indent+strings.TrimRight(l, " \n"))
	}
}

// err returns the first write error.
func (p *printer) err() error { return p.werr }

// dur rounds d to what a reader wants to see: 850µs, 2.3ms, 120ms, 1.01s,
// 59m59s, 23h59m.
func dur(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + dur(-d)
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute-5*time.Millisecond:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d < time.Hour-500*time.Millisecond:
		return d.Round(time.Second).String()
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// offset formats a moment relative to the start of a step: +0s, +700ms.
func offset(d time.Duration) string {
	if d < 0 {
		return dur(d)
	}
	return "+" + dur(d)
}

// stamp formats a moment in UTC, to the second.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// fingerprint is how a token is shown: the SHA-256 fingerprint that
// ksauth prints in place of the token ("sha256:1a2b3c4d"), taken from
// Token.String so that it is the same as in ksauth's logs and errors.
func fingerprint(tok *ksauth.Token) string {
	if tok == nil || tok.ID == "" {
		return "-"
	}
	return fingerprintOf(tok.ID)
}

// fingerprintOf is the fingerprint of a token ID.
func fingerprintOf(id string) string {
	if id == "" {
		return "-"
	}
	s := (&ksauth.Token{ID: id}).String() // "Token(sha256:1a2b3c4d, user ...)"
	s = strings.TrimPrefix(s, "Token(")
	if fp, _, ok := strings.Cut(s, ","); ok && strings.HasPrefix(fp, "sha256:") {
		return fp
	}
	return "(hidden)"
}

// named formats a name with its ID: "demo (8a1d4e7c...)".
func named(name, id string) string {
	switch {
	case name == "":
		return id
	case id == "" || id == name:
		return name
	}
	return name + " (" + id + ")"
}

// tokenSummary is the token as key/value rows; the ID appears only as its
// fingerprint.
func tokenSummary(tok *ksauth.Token, now time.Time) [][]string {
	rows := [][]string{
		{"Token", fingerprint(tok) + "  (SHA-256 fingerprint; the token itself is never printed)"},
		{"User", named(tok.User.Name, tok.User.ID) + ", domain " + named(tok.User.Domain.Name, tok.User.Domain.ID)},
	}
	switch {
	case tok.Project != nil:
		rows = append(rows, []string{"Project", named(tok.Project.Name, tok.Project.ID)},
			[]string{"Domain", named(tok.Project.Domain.Name, tok.Project.Domain.ID)})
	case tok.Domain != nil:
		rows = append(rows, []string{"Domain", named(tok.Domain.Name, tok.Domain.ID) + " (domain-scoped)"})
	case tok.System:
		rows = append(rows, []string{"Scope", "system"})
	case tok.Trust != nil:
		rows = append(rows, []string{"Scope", "trust " + tok.Trust.ID})
	default:
		rows = append(rows, []string{"Scope", "unscoped"})
	}
	if ac := tok.ApplicationCredential; ac != nil {
		rows = append(rows, []string{"App credential", named(ac.Name, ac.ID)})
	}
	roles := make([]string, 0, len(tok.Roles))
	for _, r := range tok.Roles {
		roles = append(roles, r.Name)
	}
	slices.Sort(roles)
	methods := slices.Sorted(slices.Values(tok.Methods))
	rows = append(rows,
		[]string{"Roles", orNone(strings.Join(roles, ", "))},
		[]string{"Methods", orNone(strings.Join(methods, ", "))},
		[]string{"Issued", stamp(tok.IssuedAt)},
	)
	expires := stamp(tok.ExpiresAt)
	if !tok.ExpiresAt.IsZero() {
		expires += "  (in " + dur(tok.ExpiresAt.Sub(now)) + ")"
	}
	rows = append(rows, []string{"Expires", expires})
	if l := tok.Lifetime(); l > 0 {
		rows = append(rows, []string{"Lifetime", dur(l)})
	}
	return rows
}

// catalogRows is the catalog as table rows, sorted by service type, name
// and interface.
func catalogRows(c ksauth.Catalog) [][]string {
	var rows [][]string
	for _, svc := range c {
		for _, ep := range svc.Endpoints {
			region := ep.RegionID
			if region == "" {
				region = ep.Region
			}
			rows = append(rows, []string{svc.Type, orNone(svc.Name), ep.Interface, orNone(region), displayURL(ep.URL)})
		}
	}
	order := map[string]int{"public": 0, "internal": 1, "admin": 2}
	slices.SortStableFunc(rows, func(a, b []string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		if c := strings.Compare(a[1], b[1]); c != 0 {
			return c
		}
		if c := order[a[2]] - order[b[2]]; c != 0 {
			return c
		}
		return strings.Compare(a[3], b[3])
	})
	return rows
}

// displayURL shows a URL without user info, query or fragment, which may
// carry secrets.
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment, u.ForceQuery = nil, "", "", false
	return u.String()
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// plural writes n and a noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// itoa is strconv.Itoa.
func itoa(n int) string { return strconv.Itoa(n) }
