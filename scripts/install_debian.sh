#!/usr/bin/env bash
# Usage: install_debian.sh COMMAND PACKAGE PURPOSE
# Install Debian's PACKAGE when COMMAND is missing, for PURPOSE (e.g. "the graph rendering
# tests"): one line says what is installed and why; apt's output goes to a log file, shown only
# if apt fails. Under CI=true a failure is an error (exit 1); elsewhere a note.
set -uo pipefail

[ "$#" -eq 3 ] || { echo "usage: install_debian.sh COMMAND PACKAGE PURPOSE" >&2; exit 2; }
command_name="$1" package="$2" purpose="$3"
die() { echo "install_debian.sh: $*" >&2; exit 1; }

if ! command -v "$command_name" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt_log="$(mktemp -t tinygrad-edu-apt.XXXXXX.log)"
        echo "installing Debian's $package with apt-get (as root), for $purpose; log: $apt_log"
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package"; } >"$apt_log" 2>&1; then
            echo "apt-get failed; its output:" >&2
            cat "$apt_log" >&2
            [ "${CI:-}" = true ] && die "could not install $package with apt-get"
            echo "note: could not install $package; $purpose will be skipped."
        fi
    else
        echo "note: '$command_name' is not installed (Debian package $package); $purpose will be skipped."
    fi
fi
