package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ksauth/ksauth/keystonetest"
)

// FuzzCommandLine runs the command with arbitrary arguments (NUL-separated)
// and stdin against the fake Keystone: it never panics, exits with one of
// the documented codes, explains every failure in a line naming the
// program, and never prints the configured password. go test runs the
// seeds; go test -fuzz FuzzCommandLine explores.
func FuzzCommandLine(f *testing.F) {
	fx := newFixture(f)
	for _, seed := range []struct{ args, stdin string }{
		{"token", ""},
		{"token\x00-o\x00json", ""},
		{"token\x00inspect\x00--online", ""},
		{"--os-cloud\x00nopw\x00token\x00--password-stdin", keystonetest.DemoPassword + "\n"},
		{"--os-cloud\x00nopw\x00token\x00--password-stdin", "\n"},
		{"endpoint\x00compute\x00--interface\x00internal", ""},
		{"endpoint\x00nonesuch", ""},
		{"catalog\x00-o\x00json", ""},
		{"env\x00--shell\x00fish", ""},
		{"exec-credential", ""},
		{"kubeconfig\x00--cluster\x00c\x00--server\x00https://k", ""},
		{"appcred\x00list", ""},
		{"ec2\x00list", ""},
		{"cache\x00status", ""},
		{"--os-password=x\x00token", ""},
		{"token\x00--min-valid\x00999999h", ""},
		{"help\x00token\x00inspect", ""},
		{"completion\x00zsh", ""},
		{"--os-cloud\x00nonesuch\x00token", ""},
		{"-o", ""},
		{"token\x00--\x00--refresh", ""},
	} {
		f.Add(seed.args, seed.stdin)
	}
	codes := []int{exitOK, exitError, exitNoInput, exitRejected, exitNotFound, exitRateLimited, exitUsage}
	f.Fuzz(func(t *testing.T, line, stdin string) {
		args := strings.Split(line, "\x00")
		if len(args) > 12 || strings.Contains(line, "clouds-yaml") { // --clouds-yaml writes a file where it is told
			t.Skip()
		}
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, fx.env, strings.NewReader(stdin), &out, &errOut)
		if !slices.Contains(codes, code) {
			t.Fatalf("ksauth %q: exit %d is not a documented code", args, code)
		}
		if code != exitOK {
			if first, _, _ := strings.Cut(errOut.String(), "\n"); !strings.HasPrefix(first, "ksauth") {
				t.Fatalf("ksauth %q: exit %d without a line naming the program: %q", args, code, errOut.String())
			}
		}
		if strings.Contains(errOut.String(), "goroutine ") {
			t.Fatalf("ksauth %q: a stack trace: %q", args, errOut.String())
		}
		if !strings.Contains(line+stdin, keystonetest.DemoPassword) &&
			strings.Contains(out.String()+errOut.String(), keystonetest.DemoPassword) {
			t.Fatalf("ksauth %q: the password printed", args)
		}
	})
}
