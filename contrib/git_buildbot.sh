#!/usr/bin/env bash
# git post-receive hook: one `buildbot sendchange` per new commit on each
# updated branch (refs/heads/*), oldest first, with the branch, sha,
# author, message and files. A new branch reports the commits no other
# branch has; a deleted branch and tags report nothing. Install as
# hooks/post-receive (or call it from there, passing stdin through);
# settings as in buildbot_hook_common.sh.
set -euo pipefail
. "$(dirname "$0")/buildbot_hook_common.sh"
zero=0000000000000000000000000000000000000000
status=0
while read -r old new ref; do
  case $ref in refs/heads/*) ;; *) continue ;; esac
  branch=${ref#refs/heads/}
  [ "$new" = "$zero" ] && continue
  if [ "$old" = "$zero" ]; then
    mapfile -t others < <(git for-each-ref --format='%(refname)' refs/heads/ | grep -vxF -- "$ref" || true)
    mapfile -t revs < <(git rev-list --reverse "$new" --not "${others[@]}" --)
  else
    mapfile -t revs < <(git rev-list --reverse "$old..$new" --)
  fi
  for rev in "${revs[@]}"; do
    author=$(git log -1 --format='%an <%ae>' "$rev" --)
    comments=$(git log -1 --format=%B "$rev" --)
    mapfile -d '' files < <(git diff-tree --no-commit-id --name-only -r -z --root "$rev" --)
    buildbot_sendchange "$branch" "$rev" "$author" "$comments" "${files[@]}" || status=1
  done
done
exit $status
