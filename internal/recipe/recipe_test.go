package recipe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

// The release must build the Caddy that the tests ran against.
func TestRecipeCaddyVersionMatchesGoMod(t *testing.T) {
	r, err := Load("../../xcaddy.toml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	var goModVersion string
	for _, req := range mf.Require {
		if req.Mod.Path == "github.com/caddyserver/caddy/v2" {
			goModVersion = req.Mod.Version
		}
	}
	if goModVersion == "" {
		t.Fatal("go.mod does not require github.com/caddyserver/caddy/v2")
	}
	if r.CaddyVersion != goModVersion {
		t.Fatalf("xcaddy.toml caddy_version = %s, go.mod has %s: keep them equal", r.CaddyVersion, goModVersion)
	}
	found := false
	for _, p := range r.Plugins {
		if p.Module == mf.Module.Mod.Path && p.Path == "." {
			found = true
		}
	}
	if !found {
		t.Fatalf("xcaddy.toml must build %s from the working tree (path = \".\")", mf.Module.Mod.Path)
	}
}

func TestCommand(t *testing.T) {
	r := Recipe{CaddyVersion: "v2.11.9", Output: "./caddy",
		Plugins: []Plugin{{Module: "example.com/a", Path: "."}, {Module: "example.com/b", Version: "v1.2.3"}},
		Build:   Build{GoBuildFlags: "-trimpath"}}
	args, env := r.Command()
	got := strings.Join(args, " ")
	want := "tool xcaddy build v2.11.9 --output ./caddy --with example.com/a@v0.0.0=. --with example.com/b@v1.2.3"
	if got != want {
		t.Fatalf("args = %q, want %q", got, want)
	}
	if strings.Join(env, " ") != "XCADDY_GO_BUILD_FLAGS=-trimpath CGO_ENABLED=0" {
		t.Fatalf("env = %v", env)
	}
}

func TestLoadRefusesUnknownKeys(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.toml")
	if err := os.WriteFile(p, []byte("caddy_version = \"v2.11.9\"\ncady_version = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "unknown keys") {
		t.Fatalf("want unknown keys error, got %v", err)
	}
}
