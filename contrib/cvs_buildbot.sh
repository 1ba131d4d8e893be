#!/usr/bin/env bash
# CVS loginfo script: one `buildbot sendchange` per directory a commit
# touched (CVS runs loginfo once per directory), with the branch tag
# (empty for the trunk), the commit time as the revision (a date the cvs
# step takes for -D), the committer, the log message and the files
# relative to the module. Install it from CVSROOT/loginfo (check out
# CVSROOT, edit, commit), with the settings of buildbot_hook_common.sh in
# the environment, e.g.:
#
#   ALL env BUILDBOT_MASTER=... BUILDBOT_AUTH=... /usr/local/share/buildbot-cpp/contrib/cvs_buildbot.sh $USER %p %{sVv}
#
# CVS gives the user, the directory (MODULE/SUBDIR) and each file with its
# old and new revision as arguments, and the log on stdin.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 USER DIR [FILE OLD NEW]... (from CVSROOT/loginfo)" >&2; exit 2; }
user=$1 dir=$2
shift 2
# "- New directory", "- Imported sources": not a commit; nor is an edit of
# the administrative files.
if { [ $# -ge 1 ] && [[ $1 == "- "* ]]; } || [ "$dir" = CVSROOT ] || [[ $dir == CVSROOT/* ]]; then
  cat > /dev/null
  exit 0
fi
. "$(dirname "$0")/buildbot_hook_common.sh"
revision=$(date -u '+%Y-%m-%dT%H:%M:%SZ')
# Files relative to the module: drop the first path segment of DIR.
sub=""
[[ $dir == */* ]] && sub=${dir#*/}/
files=()
while [ $# -ge 3 ]; do
  files+=("$sub$1")
  shift 3
done
branch="" comments="" inlog=0
while IFS= read -r line; do
  if [ $inlog = 1 ]; then
    comments+="$line"$'\n'
  elif [[ $line == "Log Message:"* ]]; then
    inlog=1
  elif [[ $line =~ ^[[:space:]]+Tag:[[:space:]]+(.+)$ ]]; then
    branch=${BASH_REMATCH[1]}
    branch=${branch%%[[:space:]]*}
  fi
done
comments=${comments%$'\n'}
buildbot_sendchange "$branch" "$revision" "$user" "$comments" "${files[@]}"
