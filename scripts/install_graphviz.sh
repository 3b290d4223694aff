#!/usr/bin/env bash
# Install Graphviz's `dot` (Debian's graphviz package) when it is missing, for the graph
# rendering tests: one line says what is installed and why; apt's output goes to a log file,
# shown only if apt fails. Under CI=true a failure is an error (exit 1); elsewhere a note.
set -uo pipefail

die() { echo "install_graphviz.sh: $*" >&2; exit 1; }

if ! command -v dot >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt_log="$(mktemp -t tinygrad-edu-apt.XXXXXX.log)"
        echo "installing Debian's graphviz with apt-get (as root), for the graph rendering tests; log: $apt_log"
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz; } >"$apt_log" 2>&1; then
            echo "apt-get failed; its output:" >&2
            cat "$apt_log" >&2
            [ "${CI:-}" = true ] && die "could not install Graphviz with apt-get"
            echo "note: could not install Graphviz; graph rendering tests will be skipped."
        fi
    else
        echo "note: Graphviz's 'dot' is not installed; graph rendering tests will be skipped."
    fi
fi
