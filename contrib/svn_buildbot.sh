#!/usr/bin/env bash
# Subversion post-commit hook: one `buildbot sendchange` per branch the
# revision touched, with the revision, author, log message and the files
# (relative to their branch). Install it from REPOS/hooks/post-commit;
# Subversion runs hooks with an empty environment, so set the settings
# there (see buildbot_hook_common.sh):
#
#   #!/bin/sh
#   export BUILDBOT_MASTER=buildmaster.example.org:9989
#   export BUILDBOT_AUTH=svnhook:secret BUILDBOT_MASTER_FINGERPRINT=SHA256:...
#   export BUILDBOT_REPOSITORY=svn://svn.example.org/app   # the svn step's repo
#   exec /usr/local/share/buildbot-cpp/contrib/svn_buildbot.sh "$1" "$2"
#
# Paths are split into branch and file as the svn_poller does:
# BUILDBOT_SVN_SPLIT holds the patterns, separated by spaces (default
# "trunk branches/* tags/*"); `*` matches one path segment.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 REPOS REV" >&2; exit 2; }
repos=$1 rev=$2
. "$(dirname "$0")/buildbot_hook_common.sh"
read -r -a patterns <<< "${BUILDBOT_SVN_SPLIT:-trunk branches/* tags/*}"

# split PATH: sets split_branch and split_file, or returns 1.
split() {
  local path=${1#/} pat
  IFS=/ read -r -a parts <<< "$path"
  for pat in "${patterns[@]}"; do
    IFS=/ read -r -a want <<< "$pat"
    [ ${#want[@]} -le ${#parts[@]} ] || continue
    local i ok=1
    for ((i = 0; i < ${#want[@]}; i++)); do
      [ "${want[i]}" = '*' ] || [ "${want[i]}" = "${parts[i]}" ] || { ok=0; break; }
    done
    [ $ok = 1 ] || continue
    split_branch=$(IFS=/; echo "${parts[*]:0:${#want[@]}}")
    split_file=$(IFS=/; echo "${parts[*]:${#want[@]}}")
    return 0
  done
  return 1
}

author=$(svnlook author -r "$rev" -- "$repos")
comments=$(svnlook log -r "$rev" -- "$repos")
declare -A files=()
branches=()
while IFS= read -r line; do
  path=${line:4}
  split "$path" || continue
  if [ -z "${files[$split_branch]+set}" ]; then
    branches+=("$split_branch")
    files[$split_branch]=""
  fi
  # A directory (ends in /) marks the branch but is no file.
  if [ -n "$split_file" ] && [ "${path: -1}" != / ]; then
    files[$split_branch]+="$split_file"$'\n'
  fi
done < <(svnlook changed -r "$rev" -- "$repos")

status=0
for b in "${branches[@]}"; do
  mapfile -t list < <(printf '%s' "${files[$b]}")
  buildbot_sendchange "$b" "$rev" "$author" "$comments" "${list[@]}" || status=1
done
exit $status
