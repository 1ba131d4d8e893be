#!/usr/bin/env bash
# Darcs posthook: one `buildbot sendchange` per patch a `darcs record` or
# `darcs apply` (a push into the repository) added, with the patch hash,
# author, name and long comment, and the files it touched. Darcs runs
# posthooks in the repository with DARCS_PATCHES set. Install it in the
# repository's _darcs/prefs/defaults (settings as in
# buildbot_hook_common.sh):
#
#   apply posthook env BUILDBOT_MASTER=... BUILDBOT_AUTH=... /usr/local/share/buildbot-cpp/contrib/darcs_buildbot.sh
#   apply run-posthook
#   record posthook ...same...
#   record run-posthook
#
# A Darcs branch is a repository: the change's branch is BUILDBOT_BRANCH,
# else the repository directory's name (e.g. trunk in /srv/darcs/trunk),
# which matches the darcs step's branch under its repo base URL.
set -euo pipefail
: "${DARCS_PATCHES?run this as a darcs posthook (record or apply)}"
. "$(dirname "$0")/buildbot_hook_common.sh"
branch=${BUILDBOT_BRANCH:-$(basename "$PWD")}
status=0
while IFS= read -r line; do
  [[ $line == "patch "* ]] || continue
  hash=${line#patch }
  log=$(darcs log --hash "$hash")
  author=$(sed -n 's/^Author: //p' <<< "$log" | head -n 1)
  # The name ("  * NAME") and the long comment after it, two spaces in.
  comments=$(sed -n '/^  \* /,$p' <<< "$log" | sed -e '1s/^  \* //' -e '2,$s/^  //')
  files=()
  while IFS= read -r f; do
    [[ $f == */ ]] || files+=("$f")  # a directory is no file
  done < <(darcs log --hash "$hash" --summary |
           sed -n -e 's/^    [AMR]!\{0,1\} \.\/\(.*\)$/\1/p' | sed -e 's/ -[0-9]* +[0-9]*$//' -e 's/ [-+][0-9]*$//')
  buildbot_sendchange "$branch" "$hash" "$author" "$comments" "${files[@]}" || status=1
done <<< "$DARCS_PATCHES"
exit $status
