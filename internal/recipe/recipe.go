// Package recipe reads xcaddy.toml, the release build recipe, and turns it
// into the `go tool xcaddy build` invocation that produces the binary.
package recipe

import (
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
)

// Recipe is the content of xcaddy.toml.
type Recipe struct {
	// CaddyVersion is the Caddy release to build, e.g. "v2.11.9".
	CaddyVersion string `toml:"caddy_version"`
	// Output is the binary to write.
	Output string `toml:"output"`
	// Plugins are the modules compiled in.
	Plugins []Plugin `toml:"plugins"`
	// Build holds compiler settings.
	Build Build `toml:"build"`
}

// Plugin is one `--with` of xcaddy.
type Plugin struct {
	// Module is the Go module path; its root package registers the modules.
	Module string `toml:"module"`
	// Version pins a released version.
	Version string `toml:"version"`
	// Path builds the module from a local directory instead.
	Path string `toml:"path"`
}

// localVersion stands for a module built from a directory. xcaddy must be
// given a version for it: a bare module path makes it query the module
// proxy, which does not know an unpublished module.
const localVersion = "v0.0.0"

// Build holds go build settings.
type Build struct {
	// GoBuildFlags become XCADDY_GO_BUILD_FLAGS.
	GoBuildFlags string `toml:"go_build_flags"`
	// CGO turns cgo on.
	CGO bool `toml:"cgo"`
}

// Load reads and checks a recipe; unknown keys are refused so a typo does
// not silently change the release.
func Load(path string) (Recipe, error) {
	var r Recipe
	md, err := toml.DecodeFile(path, &r)
	if err != nil {
		return Recipe{}, fmt.Errorf("%s: %w", path, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return Recipe{}, fmt.Errorf("%s: unknown keys %v", path, undecoded)
	}
	if !strings.HasPrefix(r.CaddyVersion, "v2.") {
		return Recipe{}, fmt.Errorf("%s: caddy_version must be a v2 release such as v2.11.9, got %q", path, r.CaddyVersion)
	}
	if r.Output == "" {
		r.Output = "./caddy"
	}
	for _, p := range r.Plugins {
		if p.Module == "" {
			return Recipe{}, fmt.Errorf("%s: each [[plugins]] needs a module", path)
		}
	}
	return r, nil
}

// Command returns the arguments of `go` and the extra environment.
func (r Recipe) Command() (args, env []string) {
	args = []string{"tool", "xcaddy", "build", r.CaddyVersion, "--output", r.Output}
	for _, p := range r.Plugins {
		w := p.Module
		version := p.Version
		if p.Path != "" && version == "" {
			version = localVersion
		}
		if version != "" {
			w += "@" + version
		}
		if p.Path != "" {
			w += "=" + p.Path
		}
		args = append(args, "--with", w)
	}
	if r.Build.GoBuildFlags != "" {
		env = append(env, "XCADDY_GO_BUILD_FLAGS="+r.Build.GoBuildFlags)
	}
	if r.Build.CGO {
		env = append(env, "CGO_ENABLED=1")
	} else {
		env = append(env, "CGO_ENABLED=0")
	}
	return args, env
}
