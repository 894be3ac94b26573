// Command xcaddy-build builds the release binary from xcaddy.toml, the
// project's build recipe, by running the pinned `go tool xcaddy build`.
//
//	go run ./cmd/xcaddy-build            # build ./caddy as the recipe says
//	go run ./cmd/xcaddy-build -print     # show the command without running it
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/rcchat/caddy-whmcs-auth/internal/recipe"
)

func main() {
	path := flag.String("recipe", "xcaddy.toml", "the build recipe")
	output := flag.String("output", "", "override the recipe's output file")
	printOnly := flag.Bool("print", false, "print the command instead of running it")
	flag.Parse()

	r, err := recipe.Load(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "xcaddy-build:", err)
		os.Exit(1)
	}
	if *output != "" {
		r.Output = *output
	}
	args, env := r.Command()
	if *printOnly {
		fmt.Println(strings.Join(append(env, append([]string{"go"}, args...)...), " "))
		return
	}
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "xcaddy-build:", err)
		os.Exit(1)
	}
}
